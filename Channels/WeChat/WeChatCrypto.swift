import SwitchboardCrypto

/// WeChat's message encryption ("消息加解密说明",
/// https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html;
/// WeCom's is the same scheme with the corp id as receive id, "加解密方案说明",
/// https://developer.work.weixin.qq.com/document/path/91144). DESIGN §10.3:
///
///     Encrypt   = base64( AES-256-CBC( key, iv = key[0..<16], PKCS#7₃₂( plaintext ) ) )
///     plaintext = random(16) ‖ uint32_be(len(msg)) ‖ msg ‖ receiveId
///
/// where PKCS#7₃₂ pads to a multiple of **32** bytes with 1…32 bytes of the pad count, and the
/// receive id is the Official Account's app id or the WeCom corp id.
///
/// Key rotation: the platform lets an operator change the EncodingAESKey while messages
/// encrypted under the old one are still in flight (and retried), so a `previous` key is kept and
/// tried when the current one fails. Encryption always uses the current key.
///
/// Pure: the 16 random bytes are passed in (DESIGN §10: adapters do no I/O and draw no random
/// numbers), so a reply encrypts to the same text every time and tests can pin it to wechatpy's.
public struct WeChatCrypto: Sendable, Equatable {
    public static let padBlock = 32
    public static let randomLength = 16

    public let current: WeChatAESKey
    public let previous: WeChatAESKey?

    public init(current: WeChatAESKey, previous: WeChatAESKey? = nil) {
        self.current = current
        self.previous = previous
    }

    /// Parses both EncodingAESKeys (`encoding_aes_key`, `previous_encoding_aes_key`).
    public init(encodingAESKey: String, previousEncodingAESKey: String? = nil) throws(WeChatCryptoError) {
        current = try WeChatAESKey(encodingAESKey: encodingAESKey)
        previous = try previousEncodingAESKey.map { (text) throws(WeChatCryptoError) in try WeChatAESKey(encodingAESKey: text) }
    }

    // MARK: Decryption

    /// The message bytes (the XML, or WeCom's echo string) inside `encrypt`, checked to be
    /// addressed to `expected` (constant-time comparison). Tries the current key, then the
    /// previous one; when both fail, the current key's error is thrown.
    public func decrypt(encrypt: String, receiveId expected: String) throws(WeChatCryptoError) -> [UInt8] {
        guard let ciphertext = Base64.decode(encrypt, alphabet: .standard, padding: .required) else { throw .badBase64 }
        do {
            return try Self.open(ciphertext, key: current, receiveId: expected)
        } catch {
            guard let previous, let message = try? Self.open(ciphertext, key: previous, receiveId: expected) else { throw error }
            return message
        }
    }

    private static func open(_ ciphertext: [UInt8], key: WeChatAESKey, receiveId expected: String) throws(WeChatCryptoError) -> [UInt8] {
        // The smallest plaintext (random + length, nothing else, padded) is one 32-byte block.
        guard ciphertext.count % AES256CBC.blockLength == 0 else {
            throw .badLength("\(ciphertext.count) bytes is not a whole number of 16-byte AES blocks")
        }
        guard ciphertext.count >= padBlock else { throw .badLength("\(ciphertext.count) bytes is shorter than one 32-byte block") }
        let plain: [UInt8]
        do {
            plain = try AES256CBC.decrypt(key: key.key, iv: key.iv, ciphertext: ciphertext)
        } catch {
            // The lengths were checked above; AES256CBC has nothing else to refuse.
            throw .badLength("\(error)")
        }
        let pad = Int(plain[plain.count - 1])
        guard (1...padBlock).contains(pad), plain[(plain.count - pad)...].allSatisfy({ $0 == UInt8(pad) }) else { throw .badPadding }
        // A pad of 32 in the one-block minimum leaves less than the 16 random bytes (found by Tests/Fuzz).
        guard plain.count - pad >= randomLength + 4 else { throw .badLength("no room for the 4-byte length after the 16 random bytes") }
        let body = plain[randomLength..<(plain.count - pad)]
        let i = body.startIndex
        let length = Int(body[i]) << 24 | Int(body[i + 1]) << 16 | Int(body[i + 2]) << 8 | Int(body[i + 3])
        guard length <= body.count - 4 else {
            throw .badLength("the length field says \(length) bytes but only \(body.count - 4) follow")
        }
        let messageEnd = i + 4 + length
        guard ConstantTime.equals(body[messageEnd...], expected.utf8) else { throw .wrongReceiveId }
        return Array(body[(i + 4)..<messageEnd])
    }

    // MARK: Encryption

    /// The `Encrypt` text for `message` addressed to `receiveId`, under the current key.
    /// `random16` must be 16 bytes (from `SecureRandom.bytes(16)` in production); a message
    /// longer than 4 GiB cannot be framed. Both are programming errors and trap.
    public func encrypt(xml message: [UInt8], receiveId: String, random16: [UInt8]) -> String {
        precondition(random16.count == Self.randomLength, "WeChat encryption takes 16 random bytes")
        precondition(message.count <= Int(UInt32.max), "a WeChat message is at most 4 GiB")
        var plain = random16
        let length = UInt32(message.count)
        plain.append(contentsOf: [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)])
        plain.append(contentsOf: message)
        plain.append(contentsOf: receiveId.utf8)
        let pad = Self.padBlock - plain.count % Self.padBlock
        plain.append(contentsOf: [UInt8](repeating: UInt8(pad), count: pad))
        do {
            return Base64.encode(try AES256CBC.encrypt(key: current.key, iv: current.iv, plaintext: plain))
        } catch {
            // A 32-byte key, 16-byte IV and whole 32-byte blocks: AES256CBC cannot refuse them.
            preconditionFailure("AES-256-CBC refused well-formed input: \(error)")
        }
    }

    /// The encrypted passive reply (被动回复) body for safe mode:
    ///
    ///     <xml><Encrypt><![CDATA[…]]></Encrypt><MsgSignature>…</MsgSignature>
    ///     <TimeStamp>…</TimeStamp><Nonce>…</Nonce></xml>
    ///
    /// with `MsgSignature = msgSignature(token, timestamp, nonce, Encrypt)`. The timestamp and
    /// nonce are the caller's (the request's nonce is customary; the docs allow fresh ones).
    public func encryptedReply(xml message: [UInt8], receiveId: String, random16: [UInt8],
                               token: String, timestamp: String, nonce: String) -> String {
        let encrypt = encrypt(xml: message, receiveId: receiveId, random16: random16)
        let signature = WeChatSignature.msgSignature(token: token, timestamp: timestamp, nonce: nonce, encrypt: encrypt)
        return "<xml><Encrypt>" + WeChatXMLText.cdata(encrypt) + "</Encrypt><MsgSignature>" + WeChatXMLText.escaped(signature)
            + "</MsgSignature><TimeStamp>" + WeChatXMLText.escaped(timestamp) + "</TimeStamp><Nonce>"
            + WeChatXMLText.cdata(nonce) + "</Nonce></xml>"
    }
}
