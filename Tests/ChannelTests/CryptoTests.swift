import Foundation
import SwitchboardCrypto
import XCTest

/// SwitchboardCrypto against published vectors (FIPS 180 examples, RFC 2202, RFC 4231,
/// RFC 4648 §10) and against Foundation's base64 for round trips.
final class CryptoTests: XCTestCase {
    private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    // MARK: Digests

    func testSHA1Vectors() {
        XCTAssertEqual(Digest.sha1Hex(bytes("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d")
        XCTAssertEqual(Digest.sha1Hex([UInt8]()), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        XCTAssertEqual(Digest.sha1(bytes("abc")).count, Digest.sha1Length)
    }

    func testSHA256Vectors() {
        XCTAssertEqual(Digest.sha256Hex(bytes("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(Digest.sha256Hex([UInt8]()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(Digest.sha256Hex(bytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(Hex.encode(Digest.sha256(bytes("abc"))), Digest.sha256Hex(bytes("abc")))
    }

    func testHMACSHA1RFC2202() {
        XCTAssertEqual(Digest.hmacSHA1Hex(key: bytes("Jefe"), bytes("what do ya want for nothing?")),
                       "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
        XCTAssertEqual(Digest.hmacSHA1Hex(key: [UInt8](repeating: 0x0b, count: 20), bytes("Hi There")),
                       "b617318655057264e28bc0b6fb378c8ef146be00")
        XCTAssertEqual(Digest.hmacSHA1Hex(key: [UInt8](), [UInt8]()), "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d")
        // Test case 6: a key longer than the block size is hashed first; test case 7: also a
        // message longer than a block.
        XCTAssertEqual(Digest.hmacSHA1Hex(key: [UInt8](repeating: 0xaa, count: 80),
                                          bytes("Test Using Larger Than Block-Size Key - Hash Key First")),
                       "aa4ae5e15272d00e95705637ce8a3b55ed402112")
        XCTAssertEqual(Digest.hmacSHA1Hex(key: [UInt8](repeating: 0xaa, count: 80),
                                          bytes("Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data")),
                       "e8e99d0f45237d786d6bbaa7965c7808bbff1a91")
        // A key of exactly one block is used as is, one byte more is hashed first (values from
        // Python's hmac module).
        XCTAssertEqual(Digest.hmacSHA1Hex(key: [UInt8](repeating: 0x61, count: 64), bytes("m")),
                       "7a073a0cc4b46cd1f581a3a5e5ff66871daca857")
        XCTAssertEqual(Digest.hmacSHA1Hex(key: [UInt8](repeating: 0x61, count: 65), bytes("m")),
                       "940aaa5bbaee8ae5884704174d4bd09b834d393a")
    }

    func testHMACSHA256RFC4231() {
        XCTAssertEqual(Digest.hmacSHA256Hex(key: [UInt8](repeating: 0x0b, count: 20), bytes("Hi There")),
                       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        XCTAssertEqual(Digest.hmacSHA256Hex(key: bytes("Jefe"), bytes("what do ya want for nothing?")),
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        // Test case 6: a key longer than the block size is hashed first.
        XCTAssertEqual(Digest.hmacSHA256Hex(key: [UInt8](repeating: 0xaa, count: 131),
                                            bytes("Test Using Larger Than Block-Size Key - Hash Key First")),
                       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
        XCTAssertEqual(Digest.hmacSHA256Hex(key: [UInt8](), [UInt8]()), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad")
    }

    func testHMACDependsOnKeyAndMessage() {
        let mac = Digest.hmacSHA256(key: bytes("k1"), bytes("m"))
        XCTAssertNotEqual(mac, Digest.hmacSHA256(key: bytes("k2"), bytes("m")))
        XCTAssertNotEqual(mac, Digest.hmacSHA256(key: bytes("k1"), bytes("n")))
        // Empty key twice in a row: a NULL key must not mean "reuse the previous key".
        let first = Digest.hmacSHA256(key: [UInt8](), bytes("m"))
        _ = Digest.hmacSHA256(key: bytes("other"), bytes("m"))
        XCTAssertEqual(Digest.hmacSHA256(key: [UInt8](), bytes("m")), first)
    }

    // MARK: Hex

    func testHex() {
        XCTAssertEqual(Hex.encode([0x00, 0x0f, 0xa5, 0xff]), "000fa5ff")
        XCTAssertEqual(Hex.decode("000fa5ff"), [0x00, 0x0f, 0xa5, 0xff])
        XCTAssertEqual(Hex.decode("000FA5FF"), [0x00, 0x0f, 0xa5, 0xff])
        XCTAssertEqual(Hex.decode(""), [])
        XCTAssertNil(Hex.decode("abc"))
        XCTAssertNil(Hex.decode("zz"))
        XCTAssertNil(Hex.decode("0x00"))
        XCTAssertNil(Hex.decode(" 00"))
    }

    // MARK: Base64

    func testBase64RFC4648Vectors() {
        let vectors = ["": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors {
            XCTAssertEqual(Base64.encode(bytes(plain)), encoded)
            XCTAssertEqual(Base64.decode(encoded), bytes(plain), encoded)
            let unpadded = encoded.replacingOccurrences(of: "=", with: "")
            XCTAssertEqual(Base64.encode(bytes(plain), padded: false), unpadded)
            XCTAssertEqual(Base64.decode(unpadded, padding: .forbidden), bytes(plain))
            XCTAssertEqual(Base64.decode(unpadded, padding: .optional), bytes(plain))
            XCTAssertEqual(Base64.decode(encoded, padding: .optional), bytes(plain))
        }
    }

    func testBase64URLSafeAlphabet() {
        let data: [UInt8] = [0xfb, 0xff, 0xbf]
        XCTAssertEqual(Base64.encode(data), "+/+/")
        XCTAssertEqual(Base64.encodeURLSafe(data), "-_-_")
        XCTAssertEqual(Base64.decodeURLSafe("-_-_"), data)
        XCTAssertNil(Base64.decodeURLSafe("+/+/"), "the standard alphabet is not base64url")
        XCTAssertNil(Base64.decode("-_-_"), "base64url characters are not standard base64")
        XCTAssertEqual(Base64.encodeURLSafe([0xfb]), "-w")
        XCTAssertEqual(Base64.decodeURLSafe("-w=="), [0xfb])
    }

    func testBase64StrictDecodingRejectsGarbage() {
        let garbage = [
            "Zg=",        // partial padding
            "Zg",         // missing padding where required
            "Zh==",       // non-zero trailing bits: not the canonical encoding of any byte string
            "Zm9=",       // same, with two data characters left over
            "Zm9v=",      // padding where none belongs
            "Zm9v====",   // padding where none belongs
            "Z",          // a single dangling character
            "Zm=9",       // padding in the middle
            "Zm9v\n",     // whitespace
            " Zm9v",
            "Zm 9v",
            "Zm9✓",       // non-ASCII
            "Zm9v!",
            "====",
        ]
        for text in garbage {
            XCTAssertNil(Base64.decode(text), "accepted \(text.debugDescription)")
        }
        XCTAssertNil(Base64.decode("Zg==", padding: .forbidden))
        XCTAssertNil(Base64.decode("Zg=", padding: .optional))
    }

    func testBase64RoundTripsAgainstFoundation() {
        var generator = SplitMix64(seed: 0x5EED)
        for length in 0...70 {
            let data = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let ours = Base64.encode(data)
            XCTAssertEqual(ours, Data(data).base64EncodedString(), "length \(length)")
            XCTAssertEqual(Base64.decode(ours), data)
            XCTAssertEqual(Base64.decodeURLSafe(Base64.encodeURLSafe(data)), data)
            XCTAssertEqual(Base64.decode(Base64.encode(data, alphabet: .urlSafe, padded: true), alphabet: .urlSafe), data)
        }
    }

    // MARK: Constant time, random

    func testConstantTimeEquality() {
        XCTAssertTrue(ConstantTime.equals([1, 2, 3], [1, 2, 3]))
        XCTAssertFalse(ConstantTime.equals([1, 2, 3], [1, 2, 4]))
        XCTAssertFalse(ConstantTime.equals([9, 2, 3], [1, 2, 3]))
        XCTAssertFalse(ConstantTime.equals([1, 2, 3], [1, 2]))
        XCTAssertTrue(ConstantTime.equals([UInt8](), [UInt8]()))
        XCTAssertFalse(ConstantTime.equals([UInt8](), [0]))
        XCTAssertTrue(ConstantTime.equals("token-é", "token-é"))
        XCTAssertFalse(ConstantTime.equals("token", "Token"))
    }

    func testSecureRandom() throws {
        let a = try SecureRandom.bytes(32)
        let b = try SecureRandom.bytes(32)
        XCTAssertEqual(a.count, 32)
        XCTAssertNotEqual(a, b, "two 256-bit draws collided: the generator is broken")
        XCTAssertEqual(try SecureRandom.bytes(0), [])
        XCTAssertThrowsError(try SecureRandom.bytes(-1)) { error in
            XCTAssertEqual(error as? CryptoError, .invalidArgument("random byte count -1 out of range"))
        }
        // 4096 random bytes use every byte value's high bit about half the time; a stuck
        // generator (all zeros, all ones) fails this.
        let many = try SecureRandom.bytes(4096)
        let highBits = many.filter { $0 & 0x80 != 0 }.count
        XCTAssertTrue((1700...2400).contains(highBits), "high bits set in \(highBits) of 4096 bytes")
    }
}

/// Deterministic test data (SplitMix64, Steele et al. 2014), so failures reproduce.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
