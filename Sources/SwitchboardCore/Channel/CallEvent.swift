/// What a telephony platform reported about one call (DESIGN §10.5: the broker carries no audio;
/// Twilio or a PBX carries the call and asks the broker what to do with it). One `CallEvent` per
/// webhook request; the call's conversation is found by `callId`.
///
/// The server applies it through `CallLifecycle` (the state machine, pure) and answers with the
/// `CallInstruction` that decided, which the channel renders (TwiML for Twilio, JSON for a PBX).
public struct CallEvent: Sendable, Equatable {
    /// The platform's id of the call (Twilio `CallSid`): the call's thread key.
    public var callId: String
    /// The caller, as a `voice` identity (E.164 when the number is one; `anonymous` for a withheld
    /// number, as Twilio sends it).
    public var caller: Identity
    /// The number or address the caller dialled (the hotline).
    public var to: String?
    /// What makes this report unique within the call, for reports a platform may repeat or
    /// reorder (Twilio status callbacks: `SequenceNumber`). Nil for requests that are answered
    /// synchronously and never replayed as such (incoming, menu, wait).
    public var reportId: String?
    public var step: CallStep

    public init(callId: String, caller: Identity, to: String? = nil, reportId: String? = nil, step: CallStep) {
        self.callId = callId
        self.caller = caller
        self.to = to
        self.reportId = reportId
        self.step = step
    }
}

/// The kinds of call report (Twilio Voice webhooks: https://www.twilio.com/docs/voice/twiml, the
/// status callback https://www.twilio.com/docs/voice/api/call-resource#statuscallbackevent).
public enum CallStep: Sendable, Equatable {
    /// A new call (`CallStatus=ringing` on the incoming-call webhook).
    case incoming
    /// The IVR's answer: the digits pressed (nil: none before the timeout) and the skill they map
    /// to (nil: a digit outside the menu).
    case menuChoice(digits: String?, skill: String?)
    /// The platform asks what to play to a caller on hold (Twilio's `waitUrl`).
    case waiting
    /// The call is in progress with someone (answered or bridged).
    case answered
    /// The call ended: how, its duration, and how long it had waited in the queue, when known.
    case ended(CallEnd, durationSeconds: Int?, queueSeconds: Int?)
    /// A voicemail recording is ready (`RecordingUrl`, `RecordingDuration`, `RecordingSid`).
    case recording(VoicemailRecording)
    /// The transcription of a recording.
    case transcription(recordingId: String, text: String)
}

/// How a call ended (Twilio `CallStatus` final values).
public enum CallEnd: String, Sendable, Equatable, CaseIterable {
    case completed, busy, failed, noAnswer = "no-answer", canceled
}

public struct VoicemailRecording: Sendable, Equatable {
    public var recordingId: String
    public var url: String
    public var durationSeconds: Int?

    public init(recordingId: String, url: String, durationSeconds: Int?) {
        self.recordingId = recordingId
        self.url = url
        self.durationSeconds = durationSeconds
    }
}
