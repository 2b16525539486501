import SwitchboardCrypto

/// An EncodingAESKey (消息加解密密钥) as configured on the WeChat / WeCom admin page: 43
/// characters of the base64 alphabet. The AES-256 key is `base64_decode(EncodingAESKey + "=")`
/// (32 bytes) and the CBC IV is the key's first 16 bytes ("消息加解密说明",
/// https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html;
/// 企业微信 "加解密方案说明", https://developer.work.weixin.qq.com/document/path/91144).
///
/// Decoding is strict except for one thing: 43 characters carry 258 bits, and the admin page
/// draws the last character at random from `[A-Za-z0-9]`, so its two low bits are usually not
/// zero (the docs' own example `…ABCDEFG` ends in such a character). Every peer (the official
/// SDKs, wechatpy through Python's `b64decode`) drops those two bits, so they are dropped here
/// too; anything else that is not base64 is refused.
public struct WeChatAESKey: Sendable, Equatable {
    public static let encodedLength = 43

    /// The 32-byte AES-256 key.
    public let key: [UInt8]
    /// `key[0..<16]`.
    public var iv: [UInt8] { Array(key[0..<AES256CBC.blockLength]) }

    /// Parses `encodingAESKey`; throws `.invalidEncodingAESKey` with the reason, for the
    /// channel's config validation.
    public init(encodingAESKey text: String) throws(WeChatCryptoError) {
        var chars = Array(text.utf8)
        guard chars.count == Self.encodedLength else {
            throw .invalidEncodingAESKey("must be \(Self.encodedLength) characters, got \(text.count)")
        }
        guard let lastValue = Self.alphabet.firstIndex(of: chars[chars.count - 1]),
              chars.allSatisfy({ Self.alphabet.contains($0) }) else {
            throw .invalidEncodingAESKey("may only contain the characters A-Z a-z 0-9 + /")
        }
        // Clear the two bits that belong to no byte (see the type's comment).
        chars[chars.count - 1] = Self.alphabet[lastValue & ~3]
        guard let key = Base64.decode(String(decoding: chars, as: UTF8.self) + "="),
              key.count == AES256CBC.keyLength else {
            throw .invalidEncodingAESKey("does not decode to a 32-byte AES key")
        }
        self.key = key
    }

    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
}
