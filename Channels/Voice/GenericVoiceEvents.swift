import SwitchboardCore
import SwitchboardCrypto

/// The generic JSON form of the voice events, for PBXs such as FreeSWITCH or Asterisk driven by a
/// small ESL/AGI script (DESIGN §10.5; issue 10 item 5). One event per request:
///
///     POST /v1/channels/<id>/events      X-Signature: sha256=<hex HMAC-SHA256(hmac_secret, body)>
///     {"event":"call.incoming","call_id":"…","from":"+86…","to":"12345","digits":"2"|"skill":"complaints"}
///     {"event":"call.menu","call_id":"…","digits":"2"}                 (the PBX played our menu)
///     {"event":"call.waiting","call_id":"…"}                           (ask again what to do)
///     {"event":"call.bridge_failed","call_id":"…","sequence":1}        (the agent's phone did not answer)
///     {"event":"call.status","call_id":"…","status":"answered|completed|busy|failed|no-answer|canceled",
///      "duration":95,"queue_time":12,"sequence":3}
///     {"event":"call.voicemail","call_id":"…","recording_url":"https://…","recording_id":"…",
///      "duration":42,"transcript":"…"}
///
/// Answered with the instruction as JSON (`GenericVoiceAnswer`). `skill` (a declared skill) or
/// `digits` (mapped by the channel's `menu.options`) on `call.incoming` is the IVR done by the
/// PBX: the call is queued for that skill at once, without the broker's menu.
enum GenericVoiceEvents {
    static let maxIdBytes = 128

    private struct Body: Decodable {
        var event: String
        var call_id: FlexibleString
        var from: String?
        var to: String?
        var digits: String?
        var skill: String?
        var status: String?
        var duration: Int?
        var queue_time: Int?
        var sequence: FlexibleString?
        var recording_url: String?
        var recording_id: FlexibleString?
        var transcript: String?
    }

    static func verify(_ request: HTTPRequest, secret: String) throws(ChannelError) {
        if let problem = HMACSignatureHeader.problem(header: request.headers["x-signature"], body: request.body, secret: secret) {
            throw .badSignature(problem.message)
        }
        guard request.mediaType == "application/json" else {
            throw .unsupportedMediaType("voice events are application/json, not '\(request.mediaType)'")
        }
    }

    /// The events of one verified body, in the order they apply.
    static func events(_ bytes: [UInt8], menu: VoiceSettings.Menu?, skills: [String] = []) throws(ChannelError) -> [CallEvent] {
        let body = try JSONBody.decode(Body.self, from: bytes, what: "voice event")
        let callId = body.call_id.text
        guard !callId.isEmpty, callId.utf8.count <= maxIdBytes, callId.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .malformed("field 'call_id' must be 1–\(maxIdBytes) printable ASCII characters")
        }
        let caller = try body.from.map { from throws(ChannelError) in try TwilioVoiceCallback.identity(from) }
            ?? Identity(kind: .voice, address: "anonymous")
        func make(_ step: CallStep, report: String? = nil) -> CallEvent {
            CallEvent(callId: callId, caller: caller, to: body.to, reportId: report, step: step)
        }
        func keypad() throws(ChannelError) -> String? {
            let digits = body.digits.flatMap { $0.isEmpty ? nil : $0 }
            if let digits, digits.count > 32 || !digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "*" || $0 == "#") }) {
                throw .malformed("field 'digits' must be keypad digits")
            }
            return digits
        }
        func choice() throws(ChannelError) -> CallEvent {
            let digits = try keypad()
            return make(.menuChoice(digits: digits, skill: digits.flatMap { menu?.options[$0] }, attempt: nil))
        }
        for (name, value) in [("duration", body.duration), ("queue_time", body.queue_time)] where (value ?? 0) < 0 {
            throw .malformed("field '\(name)' must not be negative")
        }
        switch body.event {
        case "call.incoming":
            guard body.from != nil else { throw .malformed("missing field 'from'") }
            if let to = body.to, to.utf8.count > maxIdBytes { throw .malformed("field 'to' is longer than \(maxIdBytes) bytes") }
            if let skill = body.skill {
                guard skills.isEmpty || skills.contains(skill) else {
                    throw .malformed("field 'skill' names no declared skill ('\(skill.prefix(64))')")
                }
                return [make(.incoming(skill: skill))]
            }
            // Digits outside the menu: its default skill, as the broker's own menu would decide.
            let digits = try keypad()
            return [make(.incoming(skill: digits.flatMap { pressed in menu.map { $0.options[pressed] ?? $0.defaultSkill } }))]
        case "call.menu":
            return [try choice()]
        case "call.waiting":
            return [make(.waiting)]
        case "call.bridge_failed":
            // The agent's phone did not answer the bridge: the call goes back to the queue.
            return [make(.bridgeFailed, report: "bridge-failed:" + (body.sequence?.text ?? "0"))]
        case "call.status":
            guard let status = body.status else { throw .malformed("missing field 'status'") }
            let report = "status:" + (body.sequence?.text ?? status)
            if status == "answered" { return [make(.answered, report: report)] }
            guard let end = CallEnd(rawValue: status) else {
                throw .malformed("field 'status' must be one of answered, \(CallEnd.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return [make(.ended(end, durationSeconds: body.duration, queueSeconds: body.queue_time), report: report)]
        case "call.voicemail":
            guard let url = body.recording_url else { throw .malformed("missing field 'recording_url'") }
            guard WebURL.isAbsoluteHTTP(url), url.utf8.count <= 2048 else { throw .malformed("field 'recording_url' is not an http(s) URL") }
            let id = body.recording_id?.text ?? url
            var events = [make(.recording(VoicemailRecording(recordingId: id, url: url, durationSeconds: body.duration)), report: "recording:" + id)]
            if let text = body.transcript, !text.isEmpty {
                guard text.utf8.count <= TwilioVoiceCallback.maxTextBytes else {
                    throw .malformed("field 'transcript' is longer than \(TwilioVoiceCallback.maxTextBytes) bytes")
                }
                events.append(make(.transcription(recordingId: id, text: text), report: "transcription:" + id))
            }
            return events
        case let other:
            throw .malformed("field 'event' must be call.incoming, call.menu, call.waiting, call.bridge_failed, call.status or call.voicemail, found '\(other.prefix(32))'")
        }
    }
}

/// A `CallInstruction` as the JSON a PBX script acts on (issue 10 item 5).
enum GenericVoiceAnswer {
    static func json(_ instruction: CallInstruction, settings: VoiceSettings) -> String {
        switch instruction {
        case .menu(let attempt):
            let options = (settings.menu?.options ?? [:]).sorted { $0.key < $1.key }
                .map { "\(JSONString.quote($0.key)):\(JSONString.quote($0.value))" }.joined(separator: ",")
            return #"{"action":"menu","attempt":\#(attempt),"prompt":\#(JSONString.quote(settings.menu?.prompt ?? "")),"options":{\#(options)}}"#
        case .queue(let position, let waited):
            let at = position.map { #","position":\#($0)"# } ?? ""
            return #"{"action":"queue"\#(at),"waited":\#(waited)}"#
        case .voicemail:
            return #"{"action":"voicemail","prompt":\#(JSONString.quote(settings.voicemailPrompt)),"maxLength":\#(settings.voicemailMaxLengthSeconds)}"#
        case .bridge(let endpoint):
            return #"{"action":"bridge","endpoint":\#(JSONString.quote(endpoint))}"#
        case .hangup(let reason):
            return #"{"action":"hangup","reason":\#(JSONString.quote(reason))}"#
        case .acknowledge:
            return #"{"action":"none"}"#
        }
    }
}
