import SwitchboardCore
import SwitchboardCrypto
import WebChatChannel
import XCTest

/// The HMAC-signed visitor token (DESIGN §9) and the web-chat adapter's empty webhook seam.
final class VisitorTokenTests: XCTestCase {
    private let secret = "0123456789abcdef0123456789abcdef"
    private let visitorId = "v_AAECAwQFBgcICQoLDA0ODw"
    /// base64url("v_AAEC…") "." base64url(HMAC-SHA256(secret, "visitor:v_AAEC…")), computed with Python's hmac and base64.
    private let expectedToken = "dl9BQUVDQXdRRkJnY0lDUW9MREEwT0R3.n-aD03REzqwc_kGK5gfZMF8sx0P0mD-cgL56x5vG_oo"

    private func tokens() throws -> VisitorToken { try VisitorToken(secret: secret) }

    func testVisitorIdFromCallerRandomBytes() throws {
        XCTAssertEqual(try VisitorToken.makeVisitorId(randomBytes: Array(0..<16)), visitorId)
        let fresh = try VisitorToken.makeVisitorId(randomBytes: try SecureRandom.bytes(16))
        XCTAssertTrue(fresh.hasPrefix("v_"))
        XCTAssertEqual(fresh.count, 24)
        XCTAssertThrowsError(try VisitorToken.makeVisitorId(randomBytes: Array(0..<15)))
        XCTAssertThrowsError(try VisitorToken.makeVisitorId(randomBytes: [UInt8](repeating: 1, count: 65)))
    }

    func testSignMatchesIndependentComputation() throws {
        XCTAssertEqual(try tokens().sign(visitorId: visitorId), expectedToken)
    }

    func testRoundTrip() throws {
        let tokens = try tokens()
        XCTAssertEqual(try tokens.verify(expectedToken), visitorId)
        for id in ["a", "visitor-42", "v_" + String(repeating: "Z", count: 126)] {
            XCTAssertEqual(try tokens.verify(try tokens.sign(visitorId: id)), id)
        }
    }

    func testTamperedTokensFailTheSignature() throws {
        let tokens = try tokens()
        // Another visitor's id with this visitor's MAC.
        let other = try tokens.sign(visitorId: "v_someoneElse")
        let swapped = String(other.split(separator: ".")[0]) + "." + String(expectedToken.split(separator: ".")[1])
        XCTAssertEqual(verifyError(tokens, swapped), .badSignature)
        // One MAC character changed (staying canonical base64url).
        var chars = Array(expectedToken)
        chars[chars.count - 5] = chars[chars.count - 5] == "A" ? "B" : "A"
        XCTAssertEqual(verifyError(tokens, String(chars)), .badSignature)
        // One id character changed.
        chars = Array(expectedToken)
        chars[4] = chars[4] == "Q" ? "R" : "Q"
        XCTAssertEqual(verifyError(tokens, String(chars)), .badSignature)
    }

    func testWrongSecretFails() throws {
        let other = try VisitorToken(secret: "fedcba9876543210fedcba9876543210")
        XCTAssertEqual(verifyError(other, expectedToken), .badSignature)
    }

    func testGarbageIsMalformed() throws {
        let tokens = try tokens()
        let mac = String(expectedToken.split(separator: ".")[1])
        let garbage = [
            "", ".", "abc", "abc.", ".abc", "a.b.c", expectedToken + ".x",
            "dl9BQUVDQXdRRkJnY0lDUW9MREEwT0R3." + mac + "=",          // padding
            "dl9B+UVDQXdRRkJnY0lDUW9MREEwT0R3." + mac,                 // standard alphabet
            "dl9BQUVDQXdRRkJnY0lDUW9MREEwT0R3." + String(mac.dropLast(2)), // MAC too short
            Base64.encodeURLSafe(Array("v 1".utf8)) + "." + mac,       // id with a space
            Base64.encodeURLSafe(Array("ü".utf8)) + "." + mac,         // id outside the alphabet
            Base64.encodeURLSafe([0xff, 0xfe]) + "." + mac,            // id not UTF-8
            String(repeating: "A", count: 600) + "." + mac,            // too long
            " " + expectedToken,
        ]
        for token in garbage {
            guard case .malformed = verifyError(tokens, token) else {
                return XCTFail("expected malformed for \(token.debugDescription), got \(String(describing: verifyError(tokens, token)))")
            }
        }
    }

    func testInvalidIdsAreNotSigned() throws {
        let tokens = try tokens()
        for id in ["", "has space", "semi;colon", "中文", String(repeating: "a", count: 129)] {
            XCTAssertThrowsError(try tokens.sign(visitorId: id)) { error in
                guard case .invalidVisitorId = error as? VisitorTokenError else { return XCTFail("\(error)") }
            }
        }
    }

    func testWeakSecretIsRefused() {
        XCTAssertThrowsError(try VisitorToken(secret: "short")) { error in
            XCTAssertEqual(error as? VisitorTokenError, .weakSecret("the visitor token secret must be at least 16 bytes"))
        }
        XCTAssertThrowsError(try VisitorToken(secret: ""))
        XCTAssertNoThrow(try VisitorToken(secret: [UInt8](repeating: 7, count: 16)))
    }

    private func verifyError(_ tokens: VisitorToken, _ token: String) -> VisitorTokenError? {
        do {
            let id = try tokens.verify(token)
            XCTFail("accepted \(token.debugDescription) as \(id)")
            return nil
        } catch {
            return error
        }
    }

    // MARK: WebChatAdapter

    func testWebChatAdapterHasNoWebhooksAndRendersNothing() throws {
        let adapter = try WebChatAdapter(config: ChannelConfig(id: "web", kind: .webchat, skill: "general"))
        XCTAssertEqual(adapter.channelId, "web")
        XCTAssertEqual(adapter.kind, .webchat)
        let request = HTTPRequest(method: "POST", subpath: "anything", headers: ["content-type": "application/json"], body: Array("{}".utf8))
        assertChannelError(try adapter.receive(request), \.isUnknownRoute, "unknownRoute")
        let outbound = OutboundMessage(conversationId: "c", messageId: "m", to: "v_x", parts: [.text("hi")], idempotencyKey: "k")
        XCTAssertNil(try adapter.render(outbound))
        guard case .failed = adapter.interpretDeliveryResponse(status: 200, body: []) else { return XCTFail("expected failed") }
    }

    func testWebChatAdapterRefusesOtherKinds() {
        XCTAssertThrowsError(try WebChatAdapter(config: ChannelConfig(id: "sms", kind: .sms, provider: "twilio", skill: "s"))) { error in
            XCTAssertEqual((error as? ChannelConfigurationError)?.key, "kind")
        }
    }
}
