import SwitchboardCrypto
import XCTest

/// AES256CBC against NIST SP 800-38A Appendix F.2.5 (CBC-AES256.Encrypt) and F.2.6
/// (CBC-AES256.Decrypt): four blocks under one key and IV.
final class AES256CBCTests: XCTestCase {
    private let key = Hex.decode("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4")!
    private let iv = Hex.decode("000102030405060708090a0b0c0d0e0f")!
    private let plaintext = Hex.decode(
        "6bc1bee22e409f96e93d7e117393172a" + "ae2d8a571e03ac9c9eb76fac45af8e51" +
        "30c81c46a35ce411e5fbc1191a0a52ef" + "f69f2445df4f9b17ad2b417be66c3710")!
    private let ciphertext = Hex.decode(
        "f58c4c04d6e5f1ba779eabfb5f7bfbd6" + "9cfc4e967edb808d679f777bc6702c7d" +
        "39f23369a9d9bacfa530e26304231461" + "b2eb05e2c39be9fcda6c19078c6a9d1b")!

    func testSP80038AEncryptF25() throws {
        XCTAssertEqual(try AES256CBC.encrypt(key: key, iv: iv, plaintext: plaintext), ciphertext)
        // The first block alone: CBC chains left to right, so a prefix encrypts to a prefix.
        XCTAssertEqual(try AES256CBC.encrypt(key: key, iv: iv, plaintext: Array(plaintext[0..<16])), Array(ciphertext[0..<16]))
    }

    func testSP80038ADecryptF26() throws {
        XCTAssertEqual(try AES256CBC.decrypt(key: key, iv: iv, ciphertext: ciphertext), plaintext)
        // Block 2 decrypts with block 1's ciphertext as its IV.
        XCTAssertEqual(try AES256CBC.decrypt(key: key, iv: Array(ciphertext[0..<16]), ciphertext: Array(ciphertext[16..<32])),
                       Array(plaintext[16..<32]))
    }

    func testNoPaddingIsAddedOrRemoved() throws {
        // OpenSSL's default PKCS#7 would add a 17th..32nd byte; with padding off, 16 in give 16 out.
        XCTAssertEqual(try AES256CBC.encrypt(key: key, iv: iv, plaintext: [UInt8](repeating: 0x10, count: 16)).count, 16)
        // A decrypted block ending in bytes that are not valid PKCS#7 is returned as is.
        let garbage = try AES256CBC.decrypt(key: key, iv: iv, ciphertext: [UInt8](repeating: 0xAB, count: 32))
        XCTAssertEqual(garbage.count, 32)
        XCTAssertEqual(try AES256CBC.encrypt(key: key, iv: iv, plaintext: []), [])
    }

    func testBadLengthsThrow() {
        XCTAssertThrowsError(try AES256CBC.encrypt(key: Array(key[0..<16]), iv: iv, plaintext: plaintext)) {
            XCTAssertEqual($0 as? CryptoError, .invalidArgument("AES-256 key must be 32 bytes, got 16"))
        }
        XCTAssertThrowsError(try AES256CBC.decrypt(key: key, iv: Array(iv[0..<8]), ciphertext: ciphertext)) {
            XCTAssertEqual($0 as? CryptoError, .invalidArgument("CBC IV must be 16 bytes, got 8"))
        }
        XCTAssertThrowsError(try AES256CBC.decrypt(key: key, iv: iv, ciphertext: Array(ciphertext[0..<17]))) {
            XCTAssertEqual($0 as? CryptoError, .invalidArgument("CBC input must be a multiple of 16 bytes, got 17"))
        }
        XCTAssertThrowsError(try AES256CBC.encrypt(key: key, iv: iv, plaintext: [1, 2, 3]))
    }
}
