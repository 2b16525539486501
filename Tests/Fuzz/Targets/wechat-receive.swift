// fuzz-seeds: Tests/ChannelTests/Fixtures/wechat/callbacks/*.xml Tests/ChannelTests/Fixtures/wechat/fuzz/*.xml
import SwitchboardCore
import WeChatChannel

/// The WeChat adapters' `receive` (made by `WeChatChannelFactory().make`) with the input as the
/// callback XML, delivered each way the platform delivers it, signed so it gets past the checks:
/// an Official Account in plain mode (the body as is), the same account in safe mode (the input
/// encrypted into `<Encrypt>`, then signed with msg_signature), and WeCom customer service
/// (likewise, for the corp). Also the input as WeCom's URL-verification `echostr`. An event
/// batch or a `ChannelError`, never a trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let xml = Array(UnsafeBufferPointer(start: data, count: size))
    let signature = WeChatSignature.signature(token: H.oaToken, timestamp: H.timestamp, nonce: H.nonce)
    H.receive(H.plain, "POST", [("signature", signature), ("timestamp", H.timestamp), ("nonce", H.nonce), ("openid", H.openId)], xml)

    let oaEncrypt = H.oaCrypto.encrypt(xml: xml, receiveId: H.oaAppId, random16: H.random16)
    H.receive(H.safe, "POST", [("signature", signature), ("timestamp", H.timestamp), ("nonce", H.nonce), ("openid", H.openId),
                               ("encrypt_type", "aes"),
                               ("msg_signature", WeChatSignature.msgSignature(token: H.oaToken, timestamp: H.timestamp, nonce: H.nonce,
                                                                              encrypt: oaEncrypt))],
              H.envelope("gh_3f2a1b0c9d8e", oaEncrypt))

    let kfEncrypt = H.kfCrypto.encrypt(xml: xml, receiveId: H.corpId, random16: H.random16)
    let kfSignature = WeChatSignature.msgSignature(token: H.kfToken, timestamp: H.timestamp, nonce: H.nonce, encrypt: kfEncrypt)
    H.receive(H.wecom, "POST", [("msg_signature", kfSignature), ("timestamp", H.timestamp), ("nonce", H.nonce)],
              H.envelope(H.corpId, kfEncrypt))
    H.receive(H.wecom, "GET", [("msg_signature", kfSignature), ("timestamp", H.timestamp), ("nonce", H.nonce), ("echostr", kfEncrypt)], [])
    return 0
}

/// The accounts of the ChannelTests fixtures (Fixtures/wechat/make_fixtures.py).
enum H {
    static let oaToken = "switchboard-wx-token"
    static let oaKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    static let oaAppId = "wxd0c1a9e4f2b38765"
    static let openId = "oR5GjjgEhCMJFyzaVZdrxZ2zRRF4"
    static let kfToken = "QDG6eK"
    static let kfKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
    static let corpId = "wx5823bf96d3bd56c7"
    static let timestamp = "1714112445"
    static let nonce = "1320562132"
    static let random16 = Array("0123456789abcdef".utf8)
    static let oaCrypto = try! WeChatCrypto(encodingAESKey: oaKey)
    static let kfCrypto = try! WeChatCrypto(encodingAESKey: kfKey)

    static let oaSettings = ["app_id": oaAppId, "app_secret": "demo-wx-app-secret", "token": oaToken, "api_base": "http://127.0.0.1:9301",
                             "welcome": "欢迎", "menu_skills.COMPLAINT": "complaints"]
    static let plain = make("official_account", oaSettings)
    static let safe = make("official_account", oaSettings.merging(["encoding_aes_key": oaKey]) { $1 })
    static let wecom = make("wecom_kf", ["corp_id": corpId, "secret": "demo-kf-secret", "token": kfToken, "encoding_aes_key": kfKey,
                                         "api_base": "http://127.0.0.1:9301"])

    static func make(_ provider: String, _ settings: [String: String]) -> any ChannelAdapter {
        let config = ChannelConfig(id: "wx-\(provider)", kind: .wechat, provider: provider, skill: "general", settings: settings)
        return try! WeChatChannelFactory().make(config, environment: ChannelEnvironment(skills: ["general", "complaints"]))
    }

    static func envelope(_ to: String, _ encrypt: String) -> [UInt8] {
        Array("<xml><ToUserName><![CDATA[\(to)]]></ToUserName><Encrypt><![CDATA[\(encrypt)]]></Encrypt></xml>".utf8)
    }

    static func receive(_ adapter: any ChannelAdapter, _ method: String, _ query: [(String, String)], _ body: [UInt8]) {
        let request = HTTPRequest(method: method, subpath: "wechat", query: FormURLEncoding.encode(query),
                                  headers: ["content-type": "text/xml"], body: body, remoteAddress: "203.0.113.9")
        _ = try? adapter.receive(request)
    }
}
