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

    /// The request, built as bytes: the same bytes the former String interpolation produced,
    /// without its temporary Strings (the LoadGen shares the two cores with the broker).
    func request(channel: String, from openId: String, id: Int, ns: UInt64) -> [UInt8] {
        let marker = WebhookBuilder.marker(id: id, ns: ns)
        let timestamp = String(ns / 1_000_000_000)
        let nonce = String(id)
        var xml: [UInt8] = []
        xml.reserveCapacity(384)
        xml += Self.xmlToFrom
        xml += openId.utf8
        xml += Self.xmlCreateTime
        xml += timestamp.utf8
        xml += Self.xmlContent
        xml += marker.utf8
        xml += Self.xmlMsgId
        xml += String(runNumber * 10_000_000 + UInt64(id)).utf8
        xml += Self.xmlEnd
        let encrypt = crypto.encrypt(xml: xml, receiveId: Self.appId, random16: random16)
        let msgSignature = WeChatSignature.msgSignature(token: Self.token, timestamp: timestamp, nonce: nonce, encrypt: encrypt)
        let signature = WeChatSignature.signature(token: Self.token, timestamp: timestamp, nonce: nonce)
        let bodyLength = Self.bodyStart.count + encrypt.utf8.count + Self.bodyEnd.count
        var out: [UInt8] = []
        out.reserveCapacity(bodyLength + 400)
        out += Self.postPrefix
        out += channel.utf8
        out += Self.signatureArg
        out += signature.utf8
        out += Self.timestampArg
        out += timestamp.utf8
        out += Self.nonceArg
        out += nonce.utf8
        out += Self.openIdArg
        out += openId.utf8
        out += Self.msgSignatureArg
        out += msgSignature.utf8
        out += Self.hostHeader
        out += host.utf8
        out += [UInt8(ascii: ":")]
        out += String(port).utf8
        out += Self.lengthHeader
        out += String(bodyLength).utf8
        out += Self.headEnd
        out += Self.bodyStart
        out += encrypt.utf8
        out += Self.bodyEnd
        return out
    }

    private static let xmlToFrom = Array("<xml><ToUserName><![CDATA[\(account)]]></ToUserName><FromUserName><![CDATA[".utf8)
    private static let xmlCreateTime = Array("]]></FromUserName><CreateTime>".utf8)
    private static let xmlContent = Array("</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[".utf8)
    private static let xmlMsgId = Array("]]></Content><MsgId>".utf8)
    private static let xmlEnd = Array("</MsgId></xml>".utf8)
    private static let bodyStart = Array("<xml><ToUserName><![CDATA[\(account)]]></ToUserName><Encrypt><![CDATA[".utf8)
    private static let bodyEnd = Array("]]></Encrypt></xml>".utf8)
    private static let postPrefix = Array("POST /v1/channels/".utf8)
    private static let signatureArg = Array("/wechat?signature=".utf8)
    private static let timestampArg = Array("&timestamp=".utf8)
    private static let nonceArg = Array("&nonce=".utf8)
    private static let openIdArg = Array("&openid=".utf8)
    private static let msgSignatureArg = Array("&encrypt_type=aes&msg_signature=".utf8)
    private static let hostHeader = Array(" HTTP/1.1\r\nHost: ".utf8)
    private static let lengthHeader = Array("\r\nContent-Type: text/xml\r\nContent-Length: ".utf8)
    private static let headEnd = Array("\r\n\r\n".utf8)
}
