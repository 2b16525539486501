import SwitchboardCore
import TwilioSupport

/// Reads a verified Twilio Voice webhook into a `CallEvent` (nil: nothing for the call's state).
///
/// Parameters: https://www.twilio.com/docs/voice/twiml#request-parameters (every request),
/// `<Gather>` `Digits`, `<Enqueue>` `QueueResult`/`QueueTime`, `<Record>` `RecordingSid`/
/// `RecordingUrl`/`RecordingDuration`, the transcription's `TranscriptionText`/`TranscriptionStatus`,
/// status callbacks' `CallStatus`/`CallDuration`/`SequenceNumber`
/// (https://www.twilio.com/docs/voice/api/call-resource#statuscallback).
enum TwilioVoiceCallback {
    static let maxIdBytes = 64
    static let maxTextBytes = 16_384

    static func event(_ route: TwilioVoiceRoute, form: TwilioForm, query: TwilioForm, menu: VoiceSettings.Menu?) throws(ChannelError) -> CallEvent? {
        // The agent leg of a bridge reports under its own CallSid; the call it belongs to is its parent.
        let leg = try query.single("leg")
        let agentLeg = route == .status && leg == "agent"
        let callId = try id(agentLeg ? form.required("ParentCallSid") : form.required("CallSid"), field: agentLeg ? "ParentCallSid" : "CallSid")
        // The agent leg's From/To are our caller id and the agent's own number, not the caller.
        let caller = agentLeg ? Identity(kind: .voice, address: "anonymous") : try identity(form.single("From"))
        let to = try form.single("To").map { value throws(ChannelError) in try bounded(value, field: "To", max: maxIdBytes) }
        func make(_ step: CallStep, report: String? = nil) -> CallEvent {
            CallEvent(callId: callId, caller: caller, to: agentLeg ? nil : to, reportId: report, step: step)
        }
        switch route {
        case .incoming:
            let status = try form.required("CallStatus")
            guard ["ringing", "in-progress", "queued"].contains(status) else {
                throw .malformed("field 'CallStatus' of an incoming call must be ringing, found '\(status.prefix(32))'")
            }
            return make(.incoming(skill: nil))
        case .gather:
            let digits = try form.single("Digits").flatMap { $0.isEmpty ? nil : $0 }
            if let digits, digits.count > 32 || !digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "*" || $0 == "#") }) {
                throw .malformed("field 'Digits' must be keypad digits")
            }
            // `?attempt=N` is ours (VoiceTwiMLRenderer writes it into the `<Gather action>`).
            let attempt = try query.single("attempt").map { value throws(ChannelError) -> Int in
                guard value.count <= 2, let n = Int(value), n >= 1 else { throw .malformed("query 'attempt' must be a small number") }
                return n
            }
            return make(.menuChoice(digits: digits, skill: digits.flatMap { menu?.options[$0] }, attempt: attempt))
        case .wait:
            return make(.waiting)
        case .queue:
            let waited = try seconds(form.single("QueueTime"), field: "QueueTime")
            switch try form.required("QueueResult") {
            case "leave": return make(.waiting)
            case "hangup": return make(.ended(.completed, durationSeconds: nil, queueSeconds: waited), report: "queue-hangup")
            // Left the queue for the agent (or on our update-call request): the status callbacks
            // say the rest (https://www.twilio.com/docs/voice/twiml/enqueue#attributes-action-parameters).
            case "bridged", "bridging-in-process", "redirected", "redirected-from-bridged": return nil
            // Twilio's queue failed, not the caller: voicemail rather than a lost call.
            case "queue-full", "system-error", "error": return make(.queueFailed, report: "queue-error")
            case let other: throw .malformed("field 'QueueResult' has unknown value '\(other.prefix(32))'")
            }
        case .status:
            let status = try form.required("CallStatus")
            let sequence = try form.single("SequenceNumber").map { value throws(ChannelError) in try id(value, field: "SequenceNumber") }
            // The agent leg numbers its reports itself, and a second bridge (after a transfer)
            // is a new leg: its CallSid is part of the key.
            let report = agentLeg ? "agent:\(try id(form.required("CallSid"), field: "CallSid")):\(sequence ?? status)" : "call:" + (sequence ?? status)
            switch status {
            case "queued", "initiated", "ringing": return nil
            case "in-progress", "answered":
                // The caller's own call is in progress from the first TwiML on; only the agent
                // leg's answer means the bridge is up.
                return agentLeg ? make(.answered, report: report) : nil
            case "completed", "busy", "failed", "no-answer", "canceled":
                // `CallDuration` is seconds (`Duration`, the billed minutes, is not read).
                let duration = try seconds(form.single("CallDuration"), field: "CallDuration")
                if agentLeg {
                    // The agent leg's end is the talk time; the caller's call decides how the call ended.
                    return status == "completed" ? make(.agentLegEnded(durationSeconds: duration), report: report) : nil
                }
                return make(.ended(CallEnd(rawValue: status)!, durationSeconds: duration, queueSeconds: nil), report: report)
            default:
                throw .malformed("field 'CallStatus' has unknown value '\(status.prefix(32))'")
            }
        case .dial:
            let status = try form.required("DialCallStatus")
            // One <Dial> reports once; its DialCallSid tells a retried request from the next bridge.
            let report = "dial:" + (try form.single("DialCallSid").map { value throws(ChannelError) in try id(value, field: "DialCallSid") } ?? status)
            switch status {
            case "completed", "answered": return make(.bridgeCompleted, report: report)
            case "busy", "no-answer", "failed", "canceled": return make(.bridgeFailed, report: report)
            default: throw .malformed("field 'DialCallStatus' has unknown value '\(status.prefix(32))'")
            }
        case .recording:
            let url = try form.required("RecordingUrl")
            guard WebURL.isAbsoluteHTTP(url), url.utf8.count <= 2048 else { throw .malformed("field 'RecordingUrl' is not an http(s) URL") }
            let recording = VoicemailRecording(recordingId: try id(form.required("RecordingSid"), field: "RecordingSid"), url: url,
                                               durationSeconds: try seconds(form.single("RecordingDuration"), field: "RecordingDuration"))
            return make(.recording(recording), report: "recording:" + recording.recordingId)
        case .transcription:
            let recordingId = try id(form.required("RecordingSid"), field: "RecordingSid")
            guard try form.single("TranscriptionStatus") != "failed" else { return nil }
            let text = try bounded(form.required("TranscriptionText"), field: "TranscriptionText", max: maxTextBytes)
            return make(.transcription(recordingId: recordingId, text: text), report: "transcription:" + recordingId)
        }
    }

    /// A Twilio id (`CA…`, `RE…`) or a sequence number: letters and digits, bounded.
    static func id(_ value: String, field: String) throws(ChannelError) -> String {
        guard !value.isEmpty, value.utf8.count <= maxIdBytes, value.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }) else {
            throw .malformed("field '\(field)' is not a Twilio id")
        }
        return value
    }

    /// The caller: an E.164 number when it is one; a withheld or non-numeric caller (`anonymous`,
    /// `client:…`, `sip:…`) is one `anonymous` contact rather than a refusal, since the call is real.
    static func identity(_ from: String?) throws(ChannelError) -> Identity {
        guard let from, !from.isEmpty else { throw .malformed("missing field 'From'") }
        guard from.utf8.count <= 256 else { throw .malformed("field 'From' is longer than 256 bytes") }
        return Identity(kind: .voice, address: PhoneNumber.e164(from) ?? "anonymous")
    }

    static func seconds(_ value: String?, field: String) throws(ChannelError) -> Int? {
        guard let value, !value.isEmpty else { return nil }
        guard value.count <= 9, let n = Int(value), n >= 0 else { throw .malformed("field '\(field)' must be whole seconds") }
        return n
    }

    static func bounded(_ value: String, field: String, max: Int) throws(ChannelError) -> String {
        guard value.utf8.count <= max else { throw .malformed("field '\(field)' is longer than \(max) bytes") }
        return value
    }
}
