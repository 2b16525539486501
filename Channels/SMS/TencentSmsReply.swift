import SwitchboardCore
import SwitchboardCrypto

/// Tencent Cloud SMS reply callback (短信回复回调): one JSON object per citizen reply,
///
///     {"extend":"","mobile":"13800138000","nationcode":"86","sign":"…","text":"…","time":1457336869}
///
/// answered with `{"result":0,"errmsg":"OK"}` ("SMS Reply" callback API,
/// https://www.tencentcloud.com/document/api/382/43548). `time` is a Unix timestamp in seconds;
/// `extend` is the channel extension code, empty unless enabled. The callback is unsigned, so the
/// adapter can require a shared `?token=`.
enum TencentSmsReply {
    static let acknowledgement = HTTPResponse(status: 200, text: #"{"result":0,"errmsg":"OK"}"#)

    private struct Reply: Decodable {
        var extend: String?
        var mobile: FlexibleString
        var nationcode: FlexibleString?
        var sign: String?
        var text: String
        var time: FlexibleString
    }

    static func message(_ body: [UInt8]) throws(ChannelError) -> InboundMessage {
        let reply = try JSONBody.decode(Reply.self, from: body, what: "Tencent SMS reply")
        let nation = reply.nationcode?.text ?? ""
        guard nation.utf8.count <= 4, nation.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            throw .malformed("field 'nationcode' is not a country code")
        }
        let mobile = reply.mobile.text
        let from = try SMSFields.phone(nation.isEmpty ? mobile : "+" + nation + mobile, field: "mobile")
        let time = reply.time.text
        guard !time.isEmpty, time.utf8.count <= 12, time.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            throw .malformed("field 'time' is not a Unix timestamp")
        }
        let text = try SMSFields.text(reply.text, field: "text")
        let parts = try SMSFields.parts(text: text, media: [], textField: "text")
        let to = try SMSFields.optionalAddress(reply.extend, field: "extend")
        return InboundMessage(from: Identity(kind: .sms, address: from), externalId: externalId(from: from, time: time, text: text),
                              parts: parts, to: to)
    }

    /// Tencent gives a reply no id, so a re-sent callback is recognised by its content
    /// (DESIGN §10: "dedup on MessageSid, or on mobile+time+text"): SHA-256 over the E.164
    /// sender, the timestamp and the text, newline-separated so no two triples run together
    /// (only the last component may itself contain newlines).
    static func externalId(from: String, time: String, text: String) -> String {
        Digest.sha256Hex("\(from)\n\(time)\n\(text)".utf8)
    }
}
