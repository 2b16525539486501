import SwitchboardCore
import TwilioSupport

/// Renders a `CallInstruction` as the TwiML that answers one Twilio Voice webhook (issue 10).
///
/// The same instruction reads differently on different routes: Twilio allows only some verbs in
/// an `<Enqueue waitUrl>` document (no `<Record>`, no `<Dial>`), so voicemail from the wait is
/// `<Leave/>`, and the `<Enqueue action>` request that follows gets the `<Record>`.
struct VoiceTwiMLRenderer: Sendable {
    let settings: VoiceSettings
    let verifier: TwilioRequestVerifier

    static let thanks = "感谢您的留言，我们会尽快给您回电。再见。"
    static let noMessage = "没有收到您的留言，再见。"
    static let busy = "系统繁忙，请稍后再拨。"

    /// `callId` names the call's own Twilio queue (`<Enqueue>`): one queue per call, so the
    /// broker's routing, not Twilio's queue order, decides who is answered next.
    func render(_ instruction: CallInstruction, on route: TwilioVoiceRoute, callId: String) -> TwiML {
        // Twilio does not execute what a status or transcription callback answers (they report on
        // a call, they do not ask): an empty document, whatever the call does now.
        if route == .status || route == .transcription { return TwiML([]) }
        var verbs: [TwiML.Element] = []
        // The greeting plays once, on the incoming call.
        if route == .incoming, let greeting = greetingVerb() { verbs.append(greeting) }
        switch instruction {
        case .menu(let attempt):
            guard let menu = settings.menu else { return TwiML(verbs + [TwiML.Element("Hangup")]) }
            verbs.append(TwiML.Element("Gather", [("numDigits", "1"), ("timeout", "6"), ("actionOnEmptyResult", "true"),
                                                  ("action", verifier.url(suffix: TwilioVoiceRoute.gather.suffix) + "?attempt=\(attempt)"),
                                                  ("method", "POST")],
                                       children: [say(menu.prompt)]))
        case .queue(let position, _):
            if route == .wait {
                verbs += holdVerbs(position: position)
            } else {
                verbs.append(TwiML.Element("Enqueue", [("waitUrl", verifier.url(suffix: TwilioVoiceRoute.wait.suffix)), ("waitUrlMethod", "POST"),
                                                      ("action", verifier.url(suffix: TwilioVoiceRoute.queue.suffix)), ("method", "POST")],
                                           text: callId))
            }
        case .voicemail:
            if route == .wait {
                verbs.append(TwiML.Element("Leave"))
            } else {
                verbs.append(say(settings.voicemailPrompt))
                verbs.append(TwiML.Element("Record", [("action", verifier.url(suffix: TwilioVoiceRoute.recording.suffix)), ("method", "POST"),
                                                     ("maxLength", String(settings.voicemailMaxLengthSeconds)), ("finishOnKey", "#"),
                                                     ("playBeep", "true")]
                                                    + (settings.voicemailTranscribe
                                                       ? [("transcribe", "true"), ("transcribeCallback", verifier.url(suffix: TwilioVoiceRoute.transcription.suffix))]
                                                       : [])))
                // Reached only when nothing was recorded (Twilio goes on after an empty <Record>).
                verbs.append(say(Self.noMessage))
                verbs.append(TwiML.Element("Hangup"))
            }
        case .bridge(let endpoint):
            // `<Dial>` is not allowed in a waitUrl document: leave the queue, and the `<Enqueue
            // action>` request that follows (QueueResult=leave) is answered with the `<Dial>`.
            verbs.append(route == .wait ? TwiML.Element("Leave") : dial(endpoint))
        case .hangup:
            if route == .recording {
                verbs.append(say(Self.thanks))
            } else if route == .queue {
                verbs.append(say(Self.busy))
            }
            verbs.append(TwiML.Element("Hangup"))
        case .acknowledge:
            break
        }
        return TwiML(verbs)
    }

    /// The `<Dial>` that bridges the caller to an agent (sent with the update-call request): the
    /// agent leg reports its answer to the status route with `?leg=agent`.
    func dial(_ endpoint: String) -> TwiML.Element {
        let status = verifier.url(suffix: TwilioVoiceRoute.status.suffix) + "?leg=agent"
        let nounAttributes = [("statusCallbackEvent", "answered completed"), ("statusCallback", status), ("statusCallbackMethod", "POST")]
        let noun = endpoint.lowercased().hasPrefix("sip:")
            ? TwiML.Element("Sip", nounAttributes, text: endpoint)
            : TwiML.Element("Number", nounAttributes, text: endpoint)
        // `action`: when the bridge ends, Twilio asks what next: back to the queue if the agent
        // never answered (https://www.twilio.com/docs/voice/twiml/dial#action).
        var attributes = [("answerOnBridge", "true"), ("timeout", "20"), ("action", verifier.url(suffix: TwilioVoiceRoute.dial.suffix)),
                          ("method", "POST")]
        if let callerId = settings.callerId { attributes.append(("callerId", callerId)) }
        return TwiML.Element("Dial", attributes, children: [noun])
    }

    /// The position (`您前面还有 N 位`), then hold music or a pause until Twilio asks again.
    private func holdVerbs(position: Int?) -> [TwiML.Element] {
        var verbs: [TwiML.Element] = []
        if let position {
            verbs.append(say(position <= 1 ? "您是下一位，请稍候。" : "您前面还有 \(position - 1) 位，请耐心等候。"))
        }
        if let music = settings.holdMusic {
            verbs.append(TwiML.Element("Play", text: music))
        } else {
            verbs.append(TwiML.Element("Pause", [("length", String(settings.positionEverySeconds))]))
        }
        return verbs
    }

    private func greetingVerb() -> TwiML.Element? {
        if let audio = settings.greetingAudio { return TwiML.Element("Play", text: audio) }
        return settings.greeting.map(say)
    }

    private func say(_ text: String) -> TwiML.Element {
        var attributes = [("language", "zh-CN")]
        if let voice = settings.sayVoice { attributes.append(("voice", voice)) }
        return TwiML.Element("Say", attributes, text: text)
    }
}
