import SwitchboardCrypto
import WeChatChannel

/// Builds WeChat Official Account callbacks in safe mode (S7): a text message whose `Content` is
/// the LoadGen marker, encrypted and signed exactly as the platform does (AES-256-CBC with the
/// 32-byte PKCS#7 block, `msg_signature` over the `Encrypt` element, `signature` over the
/// timestamp and nonce), with the broker's own `WeChatCrypto` — the same algorithm wechatpy
/// implements and the channel's tests check against wechatpy's output.
struct WeChatWebhookBuilder {
    static let token = "bench-wx-token"
    static let encodingAESKey = "benchBenchBenchBenchBenchBenchBenchBench123"
    static let appId = "wxbench00000000001"
    static let account = "gh_bench000001"

    let host: String
    let port: Int
    /// Per-run number prefix of MsgId, so a rerun against the same Redis is not deduplicated.
    let runNumber: UInt64
    private let crypto: WeChatCrypto
    /// Fresh random bytes for each message would cost the LoadGen a syscall per request; the
    /// broker cannot tell (it only checks the padding, the length and the appid).
    private let random16: [UInt8]

    init(host: String, port: Int, runNumber: UInt64) {
        self.host = host
        self.port = port
        self.runNumber = runNumber
        // A constant 43-character key: a bench-time failure here is a programming error.
        self.crypto = try! WeChatCrypto(encodingAESKey: Self.encodingAESKey)
        self.random16 = (try? SecureRandom.bytes(16)) ?? [UInt8](repeating: 7, count: 16)
    }

    func request(channel: String, from openId: String, id: Int, ns: UInt64) -> [UInt8] {
        let marker = WebhookBuilder.marker(id: id, ns: ns)
        let timestamp = String(ns / 1_000_000_000)
        let nonce = String(id)
        let xml = "<xml><ToUserName><![CDATA[\(Self.account)]]></ToUserName><FromUserName><![CDATA[\(openId)]]></FromUserName>"
            + "<CreateTime>\(timestamp)</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[\(marker)]]></Content>"
            + "<MsgId>\(runNumber * 10_000_000 + UInt64(id))</MsgId></xml>"
        let encrypt = crypto.encrypt(xml: Array(xml.utf8), receiveId: Self.appId, random16: random16)
        let msgSignature = WeChatSignature.msgSignature(token: Self.token, timestamp: timestamp, nonce: nonce, encrypt: encrypt)
        let signature = WeChatSignature.signature(token: Self.token, timestamp: timestamp, nonce: nonce)
        let body = "<xml><ToUserName><![CDATA[\(Self.account)]]></ToUserName><Encrypt><![CDATA[\(encrypt)]]></Encrypt></xml>"
        var head = "POST /v1/channels/\(channel)/wechat?signature=\(signature)&timestamp=\(timestamp)&nonce=\(nonce)"
        head += "&openid=\(openId)&encrypt_type=aes&msg_signature=\(msgSignature) HTTP/1.1\r\nHost: \(host):\(port)\r\n"
        head += "Content-Type: text/xml\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
        head += body
        return Array(head.utf8)
    }
}
