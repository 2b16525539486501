import SwitchboardCore

/// The query arguments of a WeChat callback (`signature`, `timestamp`, `nonce`, `echostr`,
/// `encrypt_type`, `msg_signature`, `openid`), each present at most once.
struct WeChatQuery {
    private let values: [String: String]

    init(_ request: HTTPRequest) throws(ChannelError) {
        var values: [String: String] = [:]
        for (name, value) in try request.queryItems() {
            guard values[name] == nil else { throw .malformed("the query argument '\(name)' is repeated") }
            values[name] = value
        }
        self.values = values
    }

    func value(_ name: String) -> String? { values[name] }

    /// A missing signature argument is a signature failure (403), anything else a bad request.
    func required(_ name: String) throws(ChannelError) -> String {
        guard let value = values[name], !value.isEmpty else {
            if name.hasSuffix("signature") { throw .badSignature("missing ?\(name)=") }
            throw .malformed("missing ?\(name)=")
        }
        return value
    }
}

extension InboundBatch {
    /// WeChat and WeCom take `success` (or an empty body) as "received, do not retry"
    /// (https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html).
    static func ack(events: [InboundEvent]) -> InboundBatch {
        InboundBatch(events: events, response: HTTPResponse(contentType: "text/plain; charset=utf-8", text: "success"))
    }
}

extension WeChatXML {
    /// A callback body's fields, with the reader's refusal as the webhook's answer (400 or 413).
    static func callbackFields(_ bytes: [UInt8]) throws(ChannelError) -> [String: String] {
        do {
            return try fields(bytes, maxBytes: OfficialAccountAdapter.maxCallbackBytes)
        } catch {
            throw error.channelError
        }
    }
}
