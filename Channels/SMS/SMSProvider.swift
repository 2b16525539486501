/// The SMS gateways an `sms` channel can be configured for (DESIGN §10, SMS). Each has its own
/// webhook sub-paths below `/v1/channels/<channelId>/`; only the configured provider's exist.
public enum SMSProvider: String, Sendable, CaseIterable {
    /// Twilio Programmable Messaging: signed form POSTs (`twilio`, `twilio/status`).
    case twilio
    /// Aliyun SMS upstream (短信上行, SmsUp) HTTP batch push: unsigned JSON arrays (`aliyun`).
    case aliyun
    /// Tencent Cloud SMS reply callback (短信回复): unsigned JSON objects (`tencent`).
    case tencent
    /// Any gateway that signs a small JSON body with HMAC-SHA256 (`generic`, `generic/status`).
    case generic

    /// Sub-paths this provider answers, in the form `HTTPRequest.subpath` carries them.
    public var subpaths: [String] {
        switch self {
        case .twilio: return ["twilio", "twilio/status"]
        case .aliyun: return ["aliyun"]
        case .tencent: return ["tencent"]
        case .generic: return ["generic", "generic/status"]
        }
    }
}
