import SwitchboardCrypto
import WeChatChannel
import XCTest

/// WeChatSignature and WeChatCrypto against wechatpy 1.8.18's output (Fixtures/wechat/*.json,
/// written by make_fixtures.py), plus crafted ciphertexts for each refusal.
final class WeChatCryptoTests: XCTestCase {
    private func crypto(_ f: WeChatFixtures.Signed) throws -> WeChatCrypto {
        try WeChatCrypto(encodingAESKey: XCTUnwrap(f.encoding_aes_key), previousEncodingAESKey: f.previous_encoding_aes_key)
    }

    // MARK: EncodingAESKey

    func testEncodingAESKeyFromTheDocsExample() throws {
        // The docs' example key ends in 'G', whose two low bits belong to no byte; Python's
        // b64decode (wechatpy) drops them, and so must we.
        let key = try WeChatAESKey(encodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")
        XCTAssertEqual(Hex.encode(key.key), "69b71d79f8218a39259a7a29aabb2dbafc31cb3d35db7e39ebbf3d0010831051")
        XCTAssertEqual(key.iv, Array(key.key[0..<16]))
        XCTAssertEqual(try WeChatAESKey(encodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFE"), key)
    }

    func testInvalidEncodingAESKeysSayWhy() {
        let cases: [(String, String)] = [
            ("abcdefghijklmnopqrstuvwxyz0123456789ABCDEF", "must be 43 characters, got 42"),
            ("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH", "must be 43 characters, got 44"),
            ("abcdefghijklmnopqrstuvwxyz0123456789ABCDEF=", "may only contain the characters A-Z a-z 0-9 + /"),
            ("abcdefghijklmnopqrstuvwxyz0123456789ABCD-_G", "may only contain the characters A-Z a-z 0-9 + /"),
            ("abcdefghijklmnopqrstuvwxyz0123456789ABCDEF ", "may only contain the characters A-Z a-z 0-9 + /"),
            ("", "must be 43 characters, got 0"),
        ]
        for (text, why) in cases {
            XCTAssertThrowsError(try WeChatAESKey(encodingAESKey: text), text) {
                XCTAssertEqual($0 as? WeChatCryptoError, .invalidEncodingAESKey(why))
                XCTAssertEqual(($0 as? WeChatCryptoError)?.description, "invalid EncodingAESKey: \(why)")
            }
        }
        XCTAssertThrowsError(try WeChatCrypto(encodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", previousEncodingAESKey: "short"))
    }

    // MARK: Signatures

    func testPlainSignatureMatchesWechatpy() throws {
        let f = try WeChatFixtures.signed("oa-plain.json")
        let expected = try XCTUnwrap(f.signature)
        XCTAssertEqual(WeChatSignature.signature(token: f.token, timestamp: f.timestamp, nonce: f.nonce), expected)
        XCTAssertTrue(WeChatSignature.isValid(signature: expected, token: f.token, timestamp: f.timestamp, nonce: f.nonce))
        XCTAssertTrue(WeChatSignature.isValid(signature: expected.uppercased(), token: f.token, timestamp: f.timestamp, nonce: f.nonce))
        XCTAssertFalse(WeChatSignature.isValid(signature: expected, token: f.token, timestamp: f.timestamp, nonce: f.nonce + "1"))
        XCTAssertFalse(WeChatSignature.isValid(signature: expected, token: "other", timestamp: f.timestamp, nonce: f.nonce))
        XCTAssertFalse(WeChatSignature.isValid(signature: String(expected.dropLast(2)), token: f.token, timestamp: f.timestamp, nonce: f.nonce))
        XCTAssertFalse(WeChatSignature.isValid(signature: "", token: f.token, timestamp: f.timestamp, nonce: f.nonce))
    }

    func testSortingIsByBytesNotByConcatenationOrder() {
        // sha1("123" + "abc" + "tok"): the values are sorted before joining, whatever their roles.
        XCTAssertEqual(WeChatSignature.signature(token: "tok", timestamp: "abc", nonce: "123"), Digest.sha1Hex(Array("123abctok".utf8)))
        XCTAssertEqual(WeChatSignature.signature(token: "123", timestamp: "tok", nonce: "abc"), Digest.sha1Hex(Array("123abctok".utf8)))
        // Upper case sorts before lower case (byte order), and a prefix before its extensions.
        XCTAssertEqual(WeChatSignature.msgSignature(token: "b", timestamp: "B", nonce: "ab", encrypt: "a"), Digest.sha1Hex(Array("Baabb".utf8)))
    }

    func testMessageSignaturesMatchWechatpy() throws {
        for name in WeChatFixtures.encryptedOfficialAccount + ["wecom-kf-event.json", "oa-reply.json"] {
            let f = try WeChatFixtures.signed(name)
            let encrypt = try XCTUnwrap(f.encrypt)
            let expected = try XCTUnwrap(f.msg_signature)
            XCTAssertEqual(WeChatSignature.msgSignature(token: f.token, timestamp: f.timestamp, nonce: f.nonce, encrypt: encrypt), expected, name)
            XCTAssertTrue(WeChatSignature.isValid(msgSignature: expected, token: f.token, timestamp: f.timestamp, nonce: f.nonce, encrypt: encrypt))
            XCTAssertFalse(WeChatSignature.isValid(msgSignature: expected, token: f.token, timestamp: f.timestamp, nonce: f.nonce,
                                                   encrypt: String(encrypt.dropFirst())))
        }
    }

    // MARK: Decryption and encryption against wechatpy

    func testDecryptsEveryWechatpyFixtureAndReencryptsByteForByte() throws {
        for name in WeChatFixtures.encryptedOfficialAccount + ["wecom-kf-event.json"] {
            let f = try WeChatFixtures.signed(name)
            let crypto = try crypto(f)
            let receiveId = try XCTUnwrap(f.receive_id)
            let encrypt = try XCTUnwrap(f.encrypt)
            XCTAssertEqual(try crypto.decrypt(encrypt: encrypt, receiveId: receiveId), Array(f.plaintext.utf8), name)
            // Encryption always uses the current key; the rotation fixture was made with the old one.
            guard f.previous_encoding_aes_key == nil else { continue }
            let random16 = Array(try XCTUnwrap(f.random16).utf8)
            XCTAssertEqual(crypto.encrypt(xml: Array(f.plaintext.utf8), receiveId: receiveId, random16: random16), encrypt, name)
        }
    }

    func testPreviousKeyIsTriedWhenTheCurrentOneFails() throws {
        let f = try WeChatFixtures.signed("oa-previous-key.json")
        let encrypt = try XCTUnwrap(f.encrypt)
        let receiveId = try XCTUnwrap(f.receive_id)
        let current = try WeChatAESKey(encodingAESKey: XCTUnwrap(f.encoding_aes_key))
        let previous = try WeChatAESKey(encodingAESKey: XCTUnwrap(f.previous_encoding_aes_key))
        XCTAssertEqual(try WeChatCrypto(current: current, previous: previous).decrypt(encrypt: encrypt, receiveId: receiveId), Array(f.plaintext.utf8))
        XCTAssertEqual(try WeChatCrypto(current: previous).decrypt(encrypt: encrypt, receiveId: receiveId), Array(f.plaintext.utf8))
        // Without the previous key the current key's failure is reported.
        XCTAssertThrowsError(try WeChatCrypto(current: current).decrypt(encrypt: encrypt, receiveId: receiveId)) {
            XCTAssertEqual($0 as? WeChatCryptoError, .badPadding)
        }
        // The previous key never rescues a message addressed to someone else.
        XCTAssertThrowsError(try WeChatCrypto(current: current, previous: previous).decrypt(encrypt: encrypt, receiveId: "wx0000000000000000")) {
            XCTAssertEqual($0 as? WeChatCryptoError, .badPadding, "the current key's error, not the previous key's")
        }
    }

    func testPaddingEdgesUseA32ByteBlock() throws {
        for (name, pad) in [("oa-padding-16.json", 16), ("oa-padding-32.json", 32)] {
            let f = try WeChatFixtures.signed(name)
            XCTAssertEqual(f.pad_count, pad)
            let key = try WeChatAESKey(encodingAESKey: XCTUnwrap(f.encoding_aes_key))
            let raw = try AES256CBC.decrypt(key: key.key, iv: key.iv, ciphertext: XCTUnwrap(Base64.decode(XCTUnwrap(f.encrypt))))
            XCTAssertEqual(raw.count % 32, 0, name)
            XCTAssertEqual(Array(raw.suffix(pad)), [UInt8](repeating: UInt8(pad), count: pad), name)
            XCTAssertEqual(try crypto(f).decrypt(encrypt: XCTUnwrap(f.encrypt), receiveId: XCTUnwrap(f.receive_id)), Array(f.plaintext.utf8))
        }
    }

    func testWrongReceiveIdIsRefused() throws {
        let f = try WeChatFixtures.signed("oa-safe.json")
        let encrypt = try XCTUnwrap(f.encrypt)
        for other in ["wxd0c1a9e4f2b38766", "wxd0c1a9e4f2b3876", "wxd0c1a9e4f2b387650", ""] {
            XCTAssertThrowsError(try crypto(f).decrypt(encrypt: encrypt, receiveId: other), other) {
                XCTAssertEqual($0 as? WeChatCryptoError, .wrongReceiveId)
            }
        }
    }

    // MARK: Crafted refusals

    private let key = try! WeChatAESKey(encodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")

    /// `plain` encrypted under the test key as is (no padding added), base64.
    private func sealed(_ plain: [UInt8]) throws -> String {
        Base64.encode(try AES256CBC.encrypt(key: key.key, iv: key.iv, plaintext: plain))
    }

    private func framed(_ xml: String, receiveId: String, lengthField: UInt32? = nil) -> [UInt8] {
        let length = lengthField ?? UInt32(xml.utf8.count)
        return [UInt8](repeating: 0x41, count: 16) + [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
            + Array(xml.utf8) + Array(receiveId.utf8)
    }

    private func padded(_ plain: [UInt8]) -> [UInt8] {
        let pad = 32 - plain.count % 32
        return plain + [UInt8](repeating: UInt8(pad), count: pad)
    }

    private func assertRefused(_ encrypt: String, _ expected: WeChatCryptoError, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try WeChatCrypto(current: key).decrypt(encrypt: encrypt, receiveId: "wxapp"), file: file, line: line) {
            XCTAssertEqual($0 as? WeChatCryptoError, expected, file: file, line: line)
        }
    }

    func testCraftedRoundTripIsAccepted() throws {
        let encrypt = try sealed(padded(framed("<xml/>", receiveId: "wxapp")))
        XCTAssertEqual(try WeChatCrypto(current: key).decrypt(encrypt: encrypt, receiveId: "wxapp"), Array("<xml/>".utf8))
        XCTAssertEqual(WeChatCrypto(current: key).encrypt(xml: Array("<xml/>".utf8), receiveId: "wxapp", random16: [UInt8](repeating: 0x41, count: 16)),
                       encrypt)
    }

    /// Found by Tests/Fuzz (Fixtures/wechat/fuzz/crypto-pad-32-in-one-block.txt): one block of
    /// 32 bytes that all say "pad 32" left a negative range for the body, a trap.
    func testPadOf32InTheOneBlockMinimumIsRefused() throws {
        let encrypt = String(decoding: try WeChatFixtures.bytes("fuzz/crypto-pad-32-in-one-block.txt"), as: UTF8.self)
        XCTAssertEqual(encrypt, try sealed([UInt8](repeating: 32, count: 32)))
        assertRefused(encrypt, .badLength("no room for the 4-byte length after the 16 random bytes"))
        assertRefused(try sealed([UInt8](repeating: 0x41, count: 16) + [UInt8](repeating: 16, count: 16)),
                      .badLength("no room for the 4-byte length after the 16 random bytes"))
    }

    func testBadBase64() {
        for text in ["not base64!", "QUFB", "QUFBQQ", " " + Base64.encode([UInt8](repeating: 1, count: 32)), "-_-_"] where Base64.decode(text) == nil {
            assertRefused(text, .badBase64)
        }
        assertRefused("QUFBQQ", .badBase64)
    }

    func testBadLengths() throws {
        assertRefused(Base64.encode([UInt8](repeating: 1, count: 17)), .badLength("17 bytes is not a whole number of 16-byte AES blocks"))
        assertRefused(Base64.encode([UInt8](repeating: 1, count: 16)), .badLength("16 bytes is shorter than one 32-byte block"))
        assertRefused("", .badLength("0 bytes is shorter than one 32-byte block"))
        // The length field claims more than follows.
        assertRefused(try sealed(padded(framed("<xml/>", receiveId: "wxapp", lengthField: 12))),
                      .badLength("the length field says 12 bytes but only 11 follow"))
        assertRefused(try sealed(padded(framed("<xml/>", receiveId: "wxapp", lengthField: UInt32.max))),
                      .badLength("the length field says 4294967295 bytes but only 11 follow"))
        // 16 random bytes and then padding only: no room for the length field.
        assertRefused(try sealed([UInt8](repeating: 0x41, count: 18) + [UInt8](repeating: 14, count: 14)),
                      .badLength("no room for the 4-byte length after the 16 random bytes"))
    }

    func testBadPadding() throws {
        let body = framed("<xml/>", receiveId: "wxapp")  // 16 + 4 + 6 + 5 = 31 bytes
        XCTAssertEqual(body.count, 31)
        assertRefused(try sealed(body + [0]), .badPadding)  // pad value 0
        assertRefused(try sealed(body + [1] + [UInt8](repeating: 33, count: 32)), .badPadding)  // pad value 33
        // Pad value 31, but the 30 bytes before the last are 32: not all equal.
        assertRefused(try sealed(body + [1] + [UInt8](repeating: 32, count: 31) + [31]), .badPadding)
        // Pad value 32 with one of the 32 pad bytes different.
        assertRefused(try sealed(body + [1] + [33] + [UInt8](repeating: 32, count: 31)), .badPadding)
    }

    func testWrongReceiveIdAfterValidPadding() throws {
        assertRefused(try sealed(padded(framed("<xml/>", receiveId: "wxother"))), .wrongReceiveId)
        assertRefused(try sealed(padded(framed("<xml/>", receiveId: ""))), .wrongReceiveId)
    }

    func testErrorsMapTo400() {
        XCTAssertEqual(WeChatCryptoError.badPadding.channelError.httpStatus, 400)
        XCTAssertEqual(WeChatCryptoError.wrongReceiveId.channelError.message, "Encrypt was not addressed to this account (receive id mismatch)")
    }

    // MARK: Replies and WeCom verification

    func testEncryptedReplyMatchesWechatpyEnvelope() throws {
        let f = try WeChatFixtures.signed("oa-reply.json")
        let crypto = try crypto(f)
        let ours = crypto.encryptedReply(xml: Array(f.plaintext.utf8), receiveId: try XCTUnwrap(f.receive_id),
                                         random16: Array(try XCTUnwrap(f.random16).utf8), token: f.token, timestamp: f.timestamp, nonce: f.nonce)
        let theirs = try WeChatXML.fields(Array(try XCTUnwrap(f.envelope).utf8))
        XCTAssertEqual(try WeChatXML.fields(Array(ours.utf8)), theirs)
        XCTAssertEqual(theirs["Encrypt"], f.encrypt)
        XCTAssertEqual(theirs["MsgSignature"], f.msg_signature)
        XCTAssertTrue(ours.hasPrefix("<xml><Encrypt><![CDATA[\(try XCTUnwrap(f.encrypt))]]></Encrypt><MsgSignature>\(try XCTUnwrap(f.msg_signature))</MsgSignature>"))
    }

    func testReplyEnvelopeEscapesItsFields() throws {
        let crypto = WeChatCrypto(current: key)
        let reply = crypto.encryptedReply(xml: Array("<xml/>".utf8), receiveId: "wxapp", random16: [UInt8](repeating: 0x41, count: 16),
                                          token: "t", timestamp: "1<2", nonce: "a]]>b")
        let fields = try WeChatXML.fields(Array(reply.utf8))
        XCTAssertEqual(fields["TimeStamp"], "1<2")
        XCTAssertEqual(fields["Nonce"], "a]]>b")
        XCTAssertEqual(try crypto.decrypt(encrypt: XCTUnwrap(fields["Encrypt"]), receiveId: "wxapp"), Array("<xml/>".utf8))
    }

    func testWeComEchostrVerification() throws {
        let f = try WeChatFixtures.signed("wecom-echostr.json")
        let echostr = try XCTUnwrap(f.echostr)
        XCTAssertTrue(WeChatSignature.isValid(msgSignature: try XCTUnwrap(f.msg_signature), token: f.token, timestamp: f.timestamp, nonce: f.nonce,
                                              encrypt: echostr))
        let crypto = try crypto(f)
        XCTAssertEqual(String(decoding: try crypto.decrypt(encrypt: echostr, receiveId: try XCTUnwrap(f.receive_id)), as: UTF8.self), f.plaintext)
        XCTAssertEqual(crypto.encrypt(xml: Array(f.plaintext.utf8), receiveId: try XCTUnwrap(f.receive_id), random16: Array(try XCTUnwrap(f.random16).utf8)),
                       echostr)
    }
}
