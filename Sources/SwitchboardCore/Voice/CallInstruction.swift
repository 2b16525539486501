/// What the broker tells the telephony platform to do with a call: the answer to a `CallEvent`
/// (DESIGN §10.5). The Voice channel renders it: TwiML for Twilio, `{"action":…}` for a PBX.
public enum CallInstruction: Sendable, Equatable {
    /// Play the IVR menu (`attempt` 1 is the first time, 2 the repeat after a digit outside it).
    case menu(attempt: Int)
    /// Hold the caller in the call's own wait (Twilio: `<Enqueue>` into a queue named by the
    /// `CallSid`): the call waits for an agent. `position` is 1 for the next call to be answered
    /// (nil: not known).
    case queue(position: Int?, waitedSeconds: Int)
    /// Offer the caller voicemail (a recording that becomes a call-back task).
    case voicemail
    /// Connect the caller to an agent's endpoint (`+8613800000001`, `sip:1001@pbx`). Normally sent
    /// as the update-call request when the agent accepts; answered to a wait request only when the
    /// agent has accepted and the caller is still on hold (the update did not take: the wait leaves
    /// the queue and the queue's action dials).
    case bridge(endpoint: String)
    /// End the call.
    case hangup(reason: String)
    /// Nothing to do: a report that needs no answer (a status callback).
    case acknowledge
}

/// What applying a `CallEvent` asks the store to do, in order (the server maps each onto its
/// scripts). The lifecycle never touches Redis itself: it stays pure and testable.
public enum CallEffect: Sendable, Equatable {
    /// Open the call's `voice` conversation; queue it for `skill` now when `enqueue` (no IVR menu).
    case open(skill: String, enqueue: Bool)
    /// Queue the (open, not yet queued) conversation for `skill`: the IVR's choice.
    case enqueue(skill: String)
    /// Take the conversation out of the queue (rescinding an offer) without counting an abandon:
    /// the caller was sent to voicemail.
    case divertToVoicemail
    /// The agent who accepted did not answer their phone: the conversation leaves them (declined,
    /// so it goes to someone else first) and is queued again at the front.
    case requeue
    /// The caller hung up before an agent took the call (DESIGN §7 "Abandon"); `short` under the
    /// short-abandon threshold.
    case abandon(queueSeconds: Int, short: Bool)
    /// The call ended before it was ever queued for a human: in the IVR menu, or at the voicemail
    /// prompt without a message. Closed as unanswered, counted neither offered nor abandoned
    /// (`reason`: `menu`, `no-voicemail`). A recording that arrives later (its callback may follow
    /// the call's end) reopens it as a call-back task (`addVoicemail`).
    case closeUnqueued(reason: String)
    /// The call ended after an agent took it: close the conversation into wrap-up with the talk
    /// time. `connected` false: the agent accepted but the caller was gone before the bridge came up
    /// (talk time 0).
    case closeIntoWrapup(talkSeconds: Int, connected: Bool)
    /// Add the recording as a `voicemail` part; the conversation is routed as a call-back task
    /// (reopened and queued if the call's end already closed it).
    case addVoicemail(VoicemailRecording)
    /// Attach the transcription to the voicemail part of `recordingId`.
    case addTranscript(recordingId: String, text: String)
}
