import TwilioSupport
import Foundation
import SMSChannel
import SwitchboardCore
import XCTest

/// Loads the SMS fixtures (Tests/ChannelTests/Fixtures/sms) and the request metadata recorded
/// beside them in `requests.json`: sub-path, query, content type and the signature that an
/// independent implementation (twilio-python's RequestValidator, Python's hmac) computed.
enum SMSFixtures {
    struct Manifest: Decodable {
        struct Twilio: Decodable { var auth_token: String; var public_url: String }
        struct Generic: Decodable { var hmac_secret: String }
        struct Request: Decodable {
            var subpath: String
            var query: String
            var content_type: String
            var signature_header: String?
            var signature: String?
        }
        var twilio: Twilio
        var generic: Generic
        var requests: [String: Request]
    }

    static let aliyunToken = "aliyun-push-token-7c1e"
    static let tencentToken = "tencent-cb-token-5d2a"

    static func url(_ name: String) throws -> URL {
        try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/sms/\(name)", withExtension: nil), "fixture \(name) is missing from the test bundle")
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: try url(name)))
    }

    static func manifest() throws -> Manifest {
        try JSONDecoder().decode(Manifest.self, from: Data(try bytes("requests.json")))
    }

    /// The POST the provider would make for fixture `name`, signature header included.
    static func request(_ name: String) throws -> HTTPRequest {
        let meta = try XCTUnwrap(try manifest().requests[name], "no requests.json entry for \(name)")
        var headers = ["content-type": meta.content_type]
        if let header = meta.signature_header, let signature = meta.signature {
            headers[header.lowercased()] = signature
        }
        return HTTPRequest(method: "POST", subpath: meta.subpath, query: meta.query, headers: headers, body: try bytes(name),
                           remoteAddress: "203.0.113.7")
    }

    static func twilioConfig(outbound: OutboundSettings? = nil) throws -> ChannelConfig {
        let m = try manifest()
        return ChannelConfig(id: "sms-main", kind: .sms, provider: "twilio", skill: "general",
                             settings: ["auth_token": m.twilio.auth_token, "public_url": m.twilio.public_url], outbound: outbound)
    }

    static func genericConfig() throws -> ChannelConfig {
        ChannelConfig(id: "sms-gw", kind: .sms, provider: "generic", skill: "general",
                      settings: ["hmac_secret": try manifest().generic.hmac_secret])
    }

    static func aliyunConfig(token: String? = aliyunToken) -> ChannelConfig {
        ChannelConfig(id: "sms-ali", kind: .sms, provider: "aliyun", skill: "general",
                      settings: token.map { ["webhook_token": $0] } ?? [:])
    }

    static func tencentConfig(token: String? = tencentToken) -> ChannelConfig {
        ChannelConfig(id: "sms-tx", kind: .sms, provider: "tencent", skill: "general",
                      settings: token.map { ["webhook_token": $0] } ?? [:])
    }
}

/// Asserts that `body` throws a `ChannelError` of the expected case, and returns its message
/// for further checks. Any other error (a fixture that failed to load) fails the test too.
@discardableResult
func assertChannelError<T>(_ body: @autoclosure () throws -> T, _ expected: (ChannelError) -> Bool,
                           _ description: String, file: StaticString = #filePath, line: UInt = #line) -> String? {
    do {
        let value = try body()
        XCTFail("expected \(description), got \(value)", file: file, line: line)
        return nil
    } catch let error as ChannelError {
        XCTAssertTrue(expected(error), "expected \(description), got \(error)", file: file, line: line)
        return error.message
    } catch {
        XCTFail("expected \(description), got \(error)", file: file, line: line)
        return nil
    }
}

extension ChannelError {
    var isBadSignature: Bool { if case .badSignature = self { return true }; return false }
    var isUnknownRoute: Bool { if case .unknownRoute = self { return true }; return false }
    var isUnsupportedMediaType: Bool { if case .unsupportedMediaType = self { return true }; return false }
    var isMalformed: Bool { if case .malformed = self { return true }; return false }
    var isUnrenderable: Bool { if case .unrenderable = self { return true }; return false }
}

/// Twilio requests for hand-made parameter sets, signed as Twilio would sign them for the
/// fixture channel (auth token and public URL from `requests.json`). `TwilioSignature` itself
/// is pinned to Twilio's published vector and to twilio-python's output in TwilioSignatureTests.
enum TwilioRequests {
    static func signed(_ params: [(String, String)], subpath: String = "twilio", query: String = "") throws -> HTTPRequest {
        let twilio = try SMSFixtures.manifest().twilio
        let url = twilio.public_url + (subpath.hasSuffix("/status") ? "/status" : "") + (query.isEmpty ? "" : "?" + query)
        let signature = TwilioSignature.compute(authToken: twilio.auth_token, url: url, parameters: params)
        return HTTPRequest(method: "POST", subpath: subpath, query: query,
                           headers: ["content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature],
                           body: Array(FormURLEncoding.encode(params).utf8))
    }

    /// A request whose body is given raw (for bodies that cannot be produced by encoding pairs);
    /// the signature is over `signedParams`.
    static func raw(_ body: String, signedParams: [(String, String)] = []) throws -> HTTPRequest {
        var request = try signed(signedParams)
        request.body = Array(body.utf8)
        return request
    }

    /// Inbound parameters of a minimal valid SMS, to be varied by tests.
    static let minimalInbound: [(String, String)] = [
        ("MessageSid", "SM0123456789abcdef0123456789abcdef"), ("From", "+8613812345678"), ("To", "+14155550142"),
        ("Body", "你好"), ("NumMedia", "0"),
    ]
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

// MARK: the seam v2, as the tests of the v1-era adapters read it

extension InboundBatch {
    /// The answer of a batch whose answer does not depend on what storing did.
    var response: HTTPResponse {
        answer.response([], AnswerContext(nowSeconds: 0, randomBytes: []))
    }
}

extension ChannelAdapter {
    /// The provider request of a rendered message, nil for a socket delivery.
    func render(_ outbound: OutboundMessage) throws(ChannelError) -> OutboundHTTPRequest? {
        try render(outbound, credential: nil).request
    }

    func interpretDeliveryResponse(status: Int, body: [UInt8]) -> DeliveryOutcome {
        let request = OutboundHTTPRequest(url: "http://127.0.0.1/", headers: [:], body: [])
        let outbound = OutboundMessage(conversationId: "c", messageId: "m", to: "x", parts: [], idempotencyKey: "c:m")
        return interpret(TransportResponse(status: status, body: body), to: request, for: outbound, credential: nil)
    }
}
