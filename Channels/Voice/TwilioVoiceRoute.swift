/// The Twilio Voice webhooks of a `voice` channel, below `/v1/channels/<id>/` (issue 10). The
/// incoming-call URL is the one configured at Twilio (`public_url`); every other URL is written by
/// the broker into its TwiML (or the update-call request), built from `public_url`.
enum TwilioVoiceRoute: String, CaseIterable, Sendable {
    /// A call arrives (`CallStatus=ringing`): greeting, menu, queue.
    case incoming = "twilio"
    /// The call's status callbacks; with `?leg=agent`, the agent leg of a bridge (`<Number statusCallback>`).
    case status = "twilio/status"
    /// `<Gather action>`: the digit pressed (`?attempt=N`).
    case gather = "twilio/gather"
    /// `<Enqueue waitUrl>`: what the caller hears while waiting, asked for again when it ends.
    case wait = "twilio/wait"
    /// `<Enqueue action>`: the call left the queue (`QueueResult`, `QueueTime`).
    case queue = "twilio/queue"
    /// `<Dial action>`: the bridge to the agent ended (`DialCallStatus`): answered and over, or
    /// never answered (the caller goes back to the queue).
    case dial = "twilio/dial"
    /// `<Record action>`: the voicemail recording.
    case recording = "twilio/recording"
    /// `<Record transcribeCallback>`: its transcription.
    case transcription = "twilio/transcription"

    /// The part after `twilio` in the public URL ("" for the incoming route).
    var suffix: String {
        self == .incoming ? "" : String(rawValue.dropFirst("twilio/".count))
    }
}
