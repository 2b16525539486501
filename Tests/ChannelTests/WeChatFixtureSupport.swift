import Foundation
import XCTest

/// The WeChat fixtures (Tests/ChannelTests/Fixtures/wechat): JSON files written by
/// `make_fixtures.py` with wechatpy 1.8.18 as the independent peer, and hand-written callback
/// XML from the WeChat docs' examples.
enum WeChatFixtures {
    /// One signed/encrypted callback (or reply) as wechatpy produced it. Fields a fixture does
    /// not need are null or absent.
    struct Signed: Decodable {
        var token: String
        var encoding_aes_key: String?
        var previous_encoding_aes_key: String?
        var receive_id: String?
        var timestamp: String
        var nonce: String
        var signature: String?
        var msg_signature: String?
        var encrypt: String?
        var echostr: String?
        var random16: String?
        var plaintext: String
        var pad_count: Int?
        var body: String?
        var envelope: String?
        var mode: String?
    }

    static func url(_ name: String) throws -> URL {
        try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/wechat/\(name)", withExtension: nil), "fixture \(name) is missing from the test bundle")
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: try url(name)))
    }

    static func signed(_ name: String) throws -> Signed {
        try JSONDecoder().decode(Signed.self, from: Data(try bytes(name)))
    }

    /// The encrypted Official Account fixtures (safe and compatible mode, key rotation, padding edges).
    static let encryptedOfficialAccount = ["oa-compatible.json", "oa-safe.json", "oa-previous-key.json", "oa-padding-16.json", "oa-padding-32.json"]
}
