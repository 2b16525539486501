// fuzz-seeds: Tests/ChannelTests/Fixtures/sms/*.form Tests/ChannelTests/Fixtures/sms/*.json
import SMSChannel
import SwitchboardCore
import SwitchboardCrypto
import TwilioSupport

/// Every SMS provider's webhook (`receive` of adapters made by `SMSChannelFactory().make`) with
/// the input as the body, signed the way each provider signs it so the bytes reach the parsing
/// behind the signature check: Twilio's signature over the decoded form pairs, the generic
/// gateway's HMAC of the body, and Aliyun and Tencent without a webhook token. An event batch
/// or a `ChannelError`, never a trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = Array(UnsafeBufferPointer(start: data, count: size))
    for subpath in ["twilio", "twilio/status"] {
        let url = Harness.twilioURL + (subpath == "twilio" ? "" : "/status")
        let pairs = (try? FormURLEncoding.decode(body)) ?? []
        let signature = TwilioSignature.compute(authToken: Harness.twilioToken, url: url, parameters: pairs)
        Harness.receive(Harness.twilio, subpath, "application/x-www-form-urlencoded", ["x-twilio-signature": signature], body)
    }
    let hmac = "sha256=" + Digest.hmacSHA256Hex(key: Harness.hmacSecret.utf8, body)
    for subpath in ["generic", "generic/status"] {
        Harness.receive(Harness.generic, subpath, "application/json", ["x-signature": hmac], body)
    }
    Harness.receive(Harness.aliyun, "aliyun", "application/json; charset=utf-8", [:], body)
    Harness.receive(Harness.tencent, "tencent", "application/json; charset=utf-8", [:], body)
    return 0
}

enum Harness {
    static let twilioToken = "f3b1c9e27a5d4c8e9b0a6d2e4f1c7a93"
    static let twilioURL = "https://example.org/v1/channels/sms-main/twilio"
    static let hmacSecret = "gw-hmac-secret-0f9e8d7c6b5a4938"
    static let twilio = make("twilio", ["auth_token": twilioToken, "public_url": twilioURL])
    static let generic = make("generic", ["hmac_secret": hmacSecret])
    static let aliyun = make("aliyun", [:])
    static let tencent = make("tencent", [:])

    static func make(_ provider: String, _ settings: [String: String]) -> any ChannelAdapter {
        let config = ChannelConfig(id: "sms-\(provider)", kind: .sms, provider: provider, skill: "general", settings: settings)
        return try! SMSChannelFactory().make(config, environment: ChannelEnvironment(skills: ["general"]))
    }

    static func receive(_ adapter: any ChannelAdapter, _ subpath: String, _ contentType: String, _ headers: [String: String],
                        _ body: [UInt8]) {
        var all = headers
        all["content-type"] = contentType
        _ = try? adapter.receive(HTTPRequest(method: "POST", subpath: subpath, headers: all, body: body, remoteAddress: "203.0.113.9"))
    }
}
