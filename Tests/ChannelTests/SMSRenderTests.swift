import Foundation
import SMSChannel
import SwitchboardCore
import XCTest

/// Outbound rendering to a Twilio Messages API request, the reading of its answers, and the
/// configuration errors that name the setting.
final class SMSRenderTests: XCTestCase {
    private let accountSid = "AC3f6e1a2b9c8d7e6f5a4b3c2d1e0f9a8b"
    private let messagesURL = "https://api.twilio.com/2010-04-01/Accounts/AC3f6e1a2b9c8d7e6f5a4b3c2d1e0f9a8b/Messages.json"

    private func adapter(from: String = "+14155550142", authToken: String? = nil) throws -> SMSAdapter {
        try SMSAdapter(config: try SMSFixtures.twilioConfig(outbound: OutboundSettings(url: messagesURL, accountSid: accountSid,
                                                                                         authToken: authToken, from: from)))
    }

    private func message(_ parts: [MessagePart], to: String = "+8613812345678") -> OutboundMessage {
        OutboundMessage(conversationId: "c-1", messageId: "m-7", to: to, parts: parts, idempotencyKey: "sb-out-m-7")
    }

    // MARK: render

    func testRenderExactFormAndHeaders() throws {
        let request = try XCTUnwrap(try adapter().render(message([
            .text("您好，补办需带：身份证原件 & 1寸照片"), .text("办理地址见链接~"),
            .media(url: "https://cdn.example.org/guide/社保.pdf?v=2", mime: "application/pdf", name: "社保.pdf", size: 1024),
        ])))
        XCTAssertEqual(request.method, "POST")
        XCTAssertEqual(request.url, messagesURL)
        // Expected body written out by hand from the form-urlencoded rules (Python's quote_plus
        // agrees except that it leaves `~` bare, which WHATWG encodes as %7E).
        XCTAssertEqual(String(decoding: request.body, as: UTF8.self),
                       "To=%2B8613812345678&From=%2B14155550142"
                       + "&Body=%E6%82%A8%E5%A5%BD%EF%BC%8C%E8%A1%A5%E5%8A%9E%E9%9C%80%E5%B8%A6%EF%BC%9A%E8%BA%AB%E4%BB%BD%E8%AF%81"
                       + "%E5%8E%9F%E4%BB%B6+%26+1%E5%AF%B8%E7%85%A7%E7%89%87%0A%E5%8A%9E%E7%90%86%E5%9C%B0%E5%9D%80%E8%A7%81%E9%93%BE%E6%8E%A5%7E"
                       + "&MediaUrl=https%3A%2F%2Fcdn.example.org%2Fguide%2F%E7%A4%BE%E4%BF%9D.pdf%3Fv%3D2"
                       + "&StatusCallback=https%3A%2F%2Fexample.org%2Fv1%2Fchannels%2Fsms-main%2Ftwilio%2Fstatus")
        XCTAssertEqual(request.headers, [
            // base64("AC3f…8b:f3b1…93"), computed with Python's base64 module.
            "Authorization": "Basic QUMzZjZlMWEyYjljOGQ3ZTZmNWE0YjNjMmQxZTBmOWE4YjpmM2IxYzllMjdhNWQ0YzhlOWIwYTZkMmU0ZjFjN2E5Mw==",
            "Content-Type": "application/x-www-form-urlencoded",
            "I-Twilio-Idempotency-Token": "sb-out-m-7",
        ])
    }

    func testRenderedFormDecodesBackToTheMessage() throws {
        let request = try XCTUnwrap(try adapter().render(message([.text("a+b=c&d 100%")])))
        let pairs = try FormURLEncoding.decode(request.body)
        XCTAssertEqual(pairs.map { "\($0.0)=\($0.1)" },
                       ["To=+8613812345678", "From=+14155550142", "Body=a+b=c&d 100%",
                        "StatusCallback=https://example.org/v1/channels/sms-main/twilio/status"])
    }

    func testRenderMediaOnlyAndMessagingServiceAndPasswordOverride() throws {
        let request = try XCTUnwrap(try adapter(from: "MG2b7c9d1e3f5a7b9c1d3e5f7a9b1c3d5e", authToken: "outbound-secret").render(message([
            .media(url: "https://cdn.example.org/a.jpg", mime: "image/jpeg", name: nil, size: nil),
            .media(url: "https://cdn.example.org/b.jpg", mime: "image/jpeg", name: nil, size: nil),
        ])))
        XCTAssertEqual(try FormURLEncoding.decode(request.body).map { $0.0 },
                       ["To", "MessagingServiceSid", "MediaUrl", "MediaUrl", "StatusCallback"])
        XCTAssertEqual(request.headers["Authorization"], "Basic " + Data("\(accountSid):outbound-secret".utf8).base64EncodedString())
    }

    func testRenderWithoutPublicURLHasNoStatusCallback() throws {
        let config = ChannelConfig(id: "sms-ali", kind: .sms, provider: "aliyun", skill: "general",
                                   outbound: OutboundSettings(url: "https://gw.example.net/Messages", accountSid: "u", authToken: "p", from: "10690000"))
        let request = try XCTUnwrap(try SMSAdapter(config: config).render(message([.text("好")])))
        XCTAssertEqual(String(decoding: request.body, as: UTF8.self), "To=%2B8613812345678&From=10690000&Body=%E5%A5%BD")
        XCTAssertEqual(request.headers["Authorization"], "Basic dTpw")
    }

    func testUnrenderableMessages() throws {
        let adapter = try adapter()
        let cases: [(OutboundMessage, String)] = [
            (message([]), "message m-7 has no text or media"),
            (message([.text("")]), "message m-7 has no text or media"),
            (message([.location(lat: 31.2, lon: 121.5, label: nil)]), "SMS cannot carry a location part"),
            (message([.text(String(repeating: "a", count: 1601))]), "SMS text is longer than Twilio's 1600 characters"),
            (message(Array(repeating: .media(url: "https://x.test/a.jpg", mime: "image/jpeg", name: nil, size: nil), count: 11)),
             "an MMS carries at most 10 media"),
            (message([.text("hi")], to: ""), "message m-7 has no recipient"),
        ]
        for (outbound, expected) in cases {
            XCTAssertEqual(assertChannelError(try adapter.render(outbound), \.isUnrenderable, "unrenderable"), expected)
        }
        XCTAssertNotNil(try adapter.render(message([.text(String(repeating: "长", count: 1600))])))
        let inboundOnly = try SMSAdapter(config: try SMSFixtures.twilioConfig())
        XCTAssertEqual(assertChannelError(try inboundOnly.render(message([.text("hi")])), \.isUnrenderable, "unrenderable"),
                       "channel 'sms-main' has no outbound settings")
    }

    // MARK: interpretDeliveryResponse

    func testInterpretDeliveryResponses() throws {
        let adapter = try adapter()
        func outcome(_ status: Int, _ body: String) -> DeliveryOutcome {
            adapter.interpretDeliveryResponse(status: status, body: Array(body.utf8))
        }
        XCTAssertEqual(outcome(201, #"{"account_sid":"AC1","sid":"SMf00d","status":"queued","body":"hi"}"#), .sent(providerId: "SMf00d"))
        XCTAssertEqual(outcome(200, "{}"), .sent(providerId: nil))
        XCTAssertEqual(outcome(202, "accepted"), .sent(providerId: nil))
        XCTAssertEqual(outcome(0, ""), .retry(reason: "no response from the SMS gateway (connection failed or timed out)"))
        XCTAssertEqual(outcome(429, #"{"code":20429,"message":"Too Many Requests","more_info":"https://www.twilio.com/docs/errors/20429","status":429}"#),
                       .retry(reason: "HTTP 429: Twilio error 20429: Too Many Requests"))
        XCTAssertEqual(outcome(503, "<html>\n<body>Service Unavailable</body>\n</html>\n"),
                       .retry(reason: "HTTP 503: <html> <body>Service Unavailable</body> </html>"))
        XCTAssertEqual(outcome(500, ""), .retry(reason: "HTTP 500: empty response body"))
        XCTAssertEqual(outcome(400, #"{"code":21211,"message":"The 'To' number +86138 is not a valid phone number.","more_info":"https://www.twilio.com/docs/errors/21211","status":400}"#),
                       .failed(reason: "HTTP 400: Twilio error 21211: The 'To' number +86138 is not a valid phone number."))
        XCTAssertEqual(outcome(401, #"{"code":"20003","message":"Authenticate"}"#), .failed(reason: "HTTP 401: Twilio error 20003: Authenticate"))
        XCTAssertEqual(outcome(404, #"{"message":"Not found"}"#), .failed(reason: "HTTP 404: Not found"))
        XCTAssertEqual(outcome(302, ""), .failed(reason: "HTTP 302: empty response body"))
        guard case .failed(let reason, _) = outcome(403, String(repeating: "x", count: 5000)) else { return XCTFail("expected failed") }
        XCTAssertEqual(reason.count, "HTTP 403: ".count + 201, "long bodies are clipped to 200 characters and an ellipsis")
    }

    // MARK: Configuration errors

    private func configError(_ config: ChannelConfig, file: StaticString = #filePath, line: UInt = #line) -> ChannelConfigurationError? {
        do {
            _ = try SMSAdapter(config: config)
            XCTFail("expected a configuration error", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    func testConfigurationErrorsNameTheKey() throws {
        let good = try SMSFixtures.twilioConfig(outbound: OutboundSettings(url: messagesURL, accountSid: accountSid, from: "+14155550142"))
        XCTAssertNoThrow(try SMSAdapter(config: good))
        func variant(_ change: (inout ChannelConfig) -> Void) -> ChannelConfig { var c = good; change(&c); return c }

        let cases: [(ChannelConfig, String)] = [
            (variant { $0.settings["auth_token"] = nil }, "auth_token"),
            (variant { $0.settings["auth_token"] = "" }, "auth_token"),
            (variant { $0.settings["public_url"] = nil }, "public_url"),
            (variant { $0.settings["public_url"] = "example.org/twilio" }, "public_url"),
            (variant { $0.settings["public_url"] = "https://example.org/a b" }, "public_url"),
            (variant { $0.provider = nil }, "provider"),
            (variant { $0.provider = "nexmo" }, "provider"),
            (variant { $0.kind = .email }, "kind"),
            (variant { $0.settings["webhook_token"] = "x" }, "webhook_token"),
            (variant { $0.outbound?.accountSid = nil }, "outbound.account_sid"),
            (variant { $0.outbound?.from = "" }, "outbound.from"),
            (variant { $0.outbound?.url = "api.twilio.com/Messages" }, "outbound.url"),
            (ChannelConfig(id: "g", kind: .sms, provider: "generic", skill: "s"), "hmac_secret"),
            (ChannelConfig(id: "a", kind: .sms, provider: "aliyun", skill: "s", settings: ["webhook_token": ""]), "webhook_token"),
            (ChannelConfig(id: "a", kind: .sms, provider: "aliyun", skill: "s",
                           outbound: OutboundSettings(url: "https://gw.example.net/m", accountSid: "u", from: "1069")), "outbound.auth_token"),
        ]
        for (config, key) in cases {
            XCTAssertEqual(configError(config)?.key, key)
        }
        XCTAssertEqual(configError(variant { $0.settings["auth_token"] = nil })?.description,
                       "channel 'sms-main': setting 'auth_token' is required to verify X-Twilio-Signature")
        XCTAssertEqual(configError(variant { $0.provider = "nexmo" })?.description,
                       "channel 'sms-main': setting 'provider' must be one of twilio, aliyun, tencent, generic, not 'nexmo'")
    }

    func testPublicURLQueryIsReplacedByTheRequestQuery() throws {
        var config = try SMSFixtures.twilioConfig()
        config.settings["public_url"]! += "?stale=1"
        let adapter = try SMSAdapter(config: config)
        let request = try SMSFixtures.request("twilio-inbound-mms.form")
        XCTAssertEqual(adapter.twilioSignedURL(for: request), "https://example.org/v1/channels/sms-main/twilio?hotline=12345&lang=en")
        XCTAssertEqual(try adapter.receive(request).events.count, 1)
    }

    func testAdapterIdentity() throws {
        let adapter = try adapter()
        XCTAssertEqual(adapter.channelId, "sms-main")
        XCTAssertEqual(adapter.kind, .sms)
        XCTAssertEqual(adapter.provider, .twilio)
    }
}
