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
    /// number, as Twilio sends it). Read only by `incoming`, which opens the conversation.
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
    /// A new call (`CallStatus=ringing` on the incoming-call webhook). `skill`: the platform did
    /// the IVR itself (a PBX's own menu): queue for it at once, without the broker's menu.
    case incoming(skill: String?)
    /// The IVR's answer: the digits pressed (nil: none before the timeout), the skill they map to
    /// (nil: a digit outside the menu), and which playing of the menu it answers (`?attempt=N` in
    /// the `<Gather action>`; nil when the platform does not say), so a replayed answer to an
    /// earlier playing is not taken as a second miss.
    case menuChoice(digits: String?, skill: String?, attempt: Int?)
    /// The platform asks what to play to a caller on hold (Twilio's `waitUrl`).
    case waiting
    /// The call is in progress with someone (answered or bridged).
    case answered
    /// The bridge to the agent's phone ended without the agent answering it (Twilio `<Dial action>`
    /// with `DialCallStatus` busy, no-answer, failed or canceled; a PBX's `call.bridge_failed`): the
    /// caller is still on the line and goes back to the queue, first in line.
    case bridgeFailed
    /// The bridge ended after the agent answered (`DialCallStatus=completed`): the call is over.
    case bridgeCompleted
    /// The agent's leg of the bridge ended after `durationSeconds` on the line (Twilio: the
    /// `<Number>`/`<Sip>` status callback's `CallDuration`): the talk time.
    case agentLegEnded(durationSeconds: Int?)
    /// The platform's queue failed the call (Twilio `QueueResult` `queue-full`, `system-error`,
    /// `error`): not the caller's doing, so not an abandon; the caller is offered voicemail.
    case queueFailed
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
