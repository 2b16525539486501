import SwitchboardCrypto

/// The two callback signatures of WeChat Official Accounts and WeCom (DESIGN §10.3):
///
/// - `signature` (URL verification and plain-mode POSTs):
///   `sha1(sort(token, timestamp, nonce).joined())` in lower-case hex
///   (公众号 "接入概述 / 验证消息的确来自微信服务器",
///   https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html).
/// - `msg_signature` (compatible and safe mode, and every WeCom callback, whose `echostr` is
///   itself encrypted): the same over four values, the fourth being the `Encrypt` text
///   ("消息加解密说明",
///   https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html;
///   企业微信 "加解密方案说明", https://developer.work.weixin.qq.com/document/path/91144).
///
/// "Sorted" is the byte order of the UTF-8 strings (the docs' 字典序; wechatpy's `WeChatSigner`
/// sorts the byte strings too), not Swift's Unicode-aware `String <`. Verification compares in
/// constant time and accepts the hex in either case.
public enum WeChatSignature {
    /// The plain `signature` query parameter.
    public static func signature(token: String, timestamp: String, nonce: String) -> String {
        sha1OfSorted([token, timestamp, nonce])
    }

    /// The `msg_signature` query parameter over the `Encrypt` value (or WeCom's `echostr`).
    public static func msgSignature(token: String, timestamp: String, nonce: String, encrypt: String) -> String {
        sha1OfSorted([token, timestamp, nonce, encrypt])
    }

    /// Whether `signature` is the plain signature of these values.
    public static func isValid(signature: String, token: String, timestamp: String, nonce: String) -> Bool {
        matches(signature, sha1OfSortedBytes([token, timestamp, nonce]))
    }

    /// Whether `msgSignature` is the message signature of these values.
    public static func isValid(msgSignature: String, token: String, timestamp: String, nonce: String, encrypt: String) -> Bool {
        matches(msgSignature, sha1OfSortedBytes([token, timestamp, nonce, encrypt]))
    }

    private static func sha1OfSorted(_ values: [String]) -> String {
        Hex.encode(sha1OfSortedBytes(values))
    }

    private static func sha1OfSortedBytes(_ values: [String]) -> [UInt8] {
        let sorted = values.map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) }
        // One contiguous buffer: `joined()` handed the digest a FlattenSequence that it walked a
        // byte at a time through unspecialized generics (perf: ~25% of the broker's CPU in S7).
        var bytes: [UInt8] = []
        bytes.reserveCapacity(sorted.reduce(0) { $0 + $1.count })
        for value in sorted { bytes.append(contentsOf: value) }
        return Digest.sha1(bytes)
    }

    /// Compares the raw digests: hex of the wrong length or with non-hex characters is invalid.
    private static func matches(_ given: String, _ expected: [UInt8]) -> Bool {
        guard let given = Hex.decode(given) else { return false }
        return ConstantTime.equals(given, expected)
    }
}
