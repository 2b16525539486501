import Foundation
import SwitchboardCore
import WeChatChannel
import XCTest

/// Adapters made the way the server makes them (`WeChatChannelFactory().make`), and the
/// callback requests the platform would send them: the signed wechatpy fixtures, or callbacks
/// signed and encrypted here with `WeChatCrypto` (itself pinned byte for byte to wechatpy in
/// WeChatCryptoTests) when no fixture has the needed content.
enum WeChatAdapters {
    // The fixtures' accounts (make_fixtures.py).
    static let oaToken = "switchboard-wx-token"
    static let oaKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    static let oaPreviousKey = "Zx9Qm3Lp7Rt2Vw5Yb8Nc1Kd4Hf6Jg0Ts3Ua7We9Ri2O"
    static let oaAppId = "wxd0c1a9e4f2b38765"
    static let oaAccount = "gh_3f2a1b0c9d8e"
    static let openId = "oR5GjjgEhCMJFyzaVZdrxZ2zRRF4"
    static let wecomToken = "QDG6eK"
    static let wecomKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
    static let wecomCorp = "wx5823bf96d3bd56c7"
    static let openKfId = "wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q"
    static let apiBase = "http://127.0.0.1:9301"
    static let welcome = "欢迎关注！回复任意内容联系人工客服。"
    static let skills = ["general", "complaints"]

    static let officialAccountSettings: [String: String] = [
        "app_id": oaAppId, "app_secret": "demo-wx-app-secret", "token": oaToken, "encoding_aes_key": oaKey,
        "api_base": apiBase, "welcome": welcome, "menu_skills.COMPLAINT": "complaints",
    ]
    static let wecomSettings: [String: String] = [
        "corp_id": wecomCorp, "secret": "demo-kf-secret", "token": wecomToken, "encoding_aes_key": wecomKey, "api_base": apiBase,
    ]

    /// `settings` with `changes` applied: a nil value removes the key.
    static func settings(_ base: [String: String], _ changes: [String: String?]) -> [String: String] {
        var out = base
        for (key, value) in changes { out[key] = value }
        return out
    }

    static func officialAccountConfig(_ changes: [String: String?] = [:]) -> ChannelConfig {
        ChannelConfig(id: "wx-main", kind: .wechat, provider: "official_account", skill: "general",
                      settings: settings(officialAccountSettings, changes))
    }

    static func wecomConfig(_ changes: [String: String?] = [:]) -> ChannelConfig {
        ChannelConfig(id: "wx-kf", kind: .wechat, provider: "wecom_kf", skill: "general", settings: settings(wecomSettings, changes))
    }

    static func make(_ config: ChannelConfig) throws -> any ChannelAdapter {
        try WeChatChannelFactory().make(config, environment: ChannelEnvironment(skills: skills))
    }

    static func officialAccount(_ changes: [String: String?] = [:]) throws -> any ChannelAdapter {
        try make(officialAccountConfig(changes))
    }

    /// An Official Account in plain mode (no EncodingAESKey): the only kind that takes plain callbacks.
    static func plainAccount(_ changes: [String: String?] = [:]) throws -> any ChannelAdapter {
        try officialAccount(changes.merging(["encoding_aes_key": nil]) { a, _ in a })
    }

    static func wecom(_ changes: [String: String?] = [:]) throws -> any ChannelAdapter {
        try make(wecomConfig(changes))
    }

    /// The query as the platform sends it (in this order), form-encoded as `HTTPRequest.query` is.
    static func query(_ items: [(String, String)]) -> String {
        FormURLEncoding.encode(items)
    }

    /// A POST to the `wechat` route.
    static func post(query items: [(String, String)], body: [UInt8]) -> HTTPRequest {
        HTTPRequest(method: "POST", subpath: "wechat", query: query(items), headers: ["content-type": "text/xml"], body: body,
                    remoteAddress: "203.0.113.9")
    }

    /// A plain-mode callback: the signature of the oa-plain.json fixture (wechatpy's), which
    /// covers token, timestamp and nonce only, so any body goes with it.
    static func plainPost(_ body: [UInt8]) throws -> HTTPRequest {
        let f = try WeChatFixtures.signed("oa-plain.json")
        return post(query: [("signature", try XCTUnwrap(f.signature)), ("timestamp", f.timestamp), ("nonce", f.nonce),
                            ("openid", openId)], body: body)
    }

    static func plainPost(callback name: String) throws -> HTTPRequest {
        try plainPost(try WeChatFixtures.bytes("callbacks/\(name)"))
    }

    /// A safe- or compatible-mode fixture exactly as wechatpy made it.
    static func encryptedPost(fixture name: String) throws -> HTTPRequest {
        let f = try WeChatFixtures.signed(name)
        return post(query: [("signature", try XCTUnwrap(f.signature)), ("timestamp", f.timestamp), ("nonce", f.nonce), ("openid", openId),
                            ("encrypt_type", "aes"), ("msg_signature", try XCTUnwrap(f.msg_signature))],
                    body: Array(try XCTUnwrap(f.body).utf8))
    }

    static let timestamp = "1714112445"
    static let nonce = "1320562132"
    static let random16 = Array("0123456789abcdef".utf8)

    /// `xml` encrypted for `receiveId` and posted in safe mode (Official Account).
    static func safePost(_ xml: String, key: String = oaKey, receiveId: String = oaAppId, token: String = oaToken) throws -> HTTPRequest {
        let encrypt = try WeChatCrypto(encodingAESKey: key).encrypt(xml: Array(xml.utf8), receiveId: receiveId, random16: random16)
        let body = "<xml><ToUserName><![CDATA[\(oaAccount)]]></ToUserName><Encrypt><![CDATA[\(encrypt)]]></Encrypt></xml>"
        return post(query: [("signature", WeChatSignature.signature(token: token, timestamp: timestamp, nonce: nonce)),
                            ("timestamp", timestamp), ("nonce", nonce), ("openid", openId), ("encrypt_type", "aes"),
                            ("msg_signature", WeChatSignature.msgSignature(token: token, timestamp: timestamp, nonce: nonce, encrypt: encrypt))],
                    body: Array(body.utf8))
    }

    /// `xml` encrypted for the WeCom corp and posted as WeCom does (msg_signature only).
    static func wecomPost(_ xml: String) throws -> HTTPRequest {
        let encrypt = try WeChatCrypto(encodingAESKey: wecomKey).encrypt(xml: Array(xml.utf8), receiveId: wecomCorp, random16: random16)
        let body = "<xml><ToUserName><![CDATA[\(wecomCorp)]]></ToUserName><Encrypt><![CDATA[\(encrypt)]]></Encrypt></xml>"
        return post(query: [("msg_signature", WeChatSignature.msgSignature(token: wecomToken, timestamp: timestamp, nonce: nonce, encrypt: encrypt)),
                            ("timestamp", timestamp), ("nonce", nonce)],
                    body: Array(body.utf8))
    }

    /// A WeCom `kf_msg_or_event` callback for `openKfId`.
    static func kfEventXML(openKfId: String = openKfId, token: String = "ENCsyncToken") -> String {
        "<xml><ToUserName><![CDATA[\(wecomCorp)]]></ToUserName><CreateTime>1714112447</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            + "<Event><![CDATA[kf_msg_or_event]]></Event><Token><![CDATA[\(token)]]></Token><OpenKfId><![CDATA[\(openKfId)]]></OpenKfId></xml>"
    }

    /// An Official Account event callback from the fixtures' contact to the fixtures' account.
    static func eventXML(_ event: String, key: String? = nil) -> String {
        "<xml><ToUserName><![CDATA[\(oaAccount)]]></ToUserName><FromUserName><![CDATA[\(openId)]]></FromUserName>"
            + "<CreateTime>1714112450</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[\(event)]]></Event>"
            + (key.map { "<EventKey><![CDATA[\($0)]]></EventKey>" } ?? "") + "</xml>"
    }

    static let answerContext = AnswerContext(nowSeconds: 1_714_112_500, randomBytes: Array((0..<32).map { UInt8($0 * 7 % 256) }))
}

extension HTTPResponse {
    var text: String { String(decoding: body, as: UTF8.self) }
}

extension ChannelError {
    var isTooLarge: Bool { if case .tooLarge = self { return true }; return false }
}

/// Asserts `body` throws the `ChannelError` of `status` (403, 400, 413), returning its message.
@discardableResult
func assertRejected<T>(_ body: @autoclosure () throws -> T, status: Int, _ what: String,
                      file: StaticString = #filePath, line: UInt = #line) -> String? {
    assertChannelError(try body(), { $0.httpStatus == status }, "\(what) (HTTP \(status))", file: file, line: line)
}
