import TwilioSupport
import SMSChannel
import SwitchboardCore
import XCTest

/// Twilio's signature algorithm (https://www.twilio.com/docs/usage/security#validating-requests)
/// against Twilio's published example and against values computed by twilio-python 9.13's
/// `RequestValidator` (an independent implementation).
final class TwilioSignatureTests: XCTestCase {
    /// The example on Twilio's security page.
    private let publishedURL = "https://mycompany.com/myapp.php?foo=1&bar=2"
    private let publishedParams: [(String, String)] = [
        ("CallSid", "CA1234567890ABCDE"), ("Caller", "+12349013030"), ("Digits", "1234"),
        ("From", "+12349013030"), ("To", "+18005551212"),
    ]

    func testTwilioPublishedVector() {
        XCTAssertEqual(TwilioSignature.compute(authToken: "12345", url: publishedURL, parameters: publishedParams),
                       "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
        XCTAssertTrue(TwilioSignature.isValid("0/KCTR6DLpKmkAf8muzZqo1nDgQ=", authToken: "12345", url: publishedURL,
                                              parameters: publishedParams))
    }

    func testPublishedVectorIndependentOfParameterOrder() {
        let shuffled = [publishedParams[3], publishedParams[0], publishedParams[4], publishedParams[2], publishedParams[1]]
        XCTAssertEqual(TwilioSignature.compute(authToken: "12345", url: publishedURL, parameters: shuffled), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    }

    func testTamperedInputsFail() {
        let good = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        XCTAssertFalse(TwilioSignature.isValid("1/KCTR6DLpKmkAf8muzZqo1nDgQ=", authToken: "12345", url: publishedURL, parameters: publishedParams))
        XCTAssertFalse(TwilioSignature.isValid(good, authToken: "12346", url: publishedURL, parameters: publishedParams))
        XCTAssertFalse(TwilioSignature.isValid(good, authToken: "12345", url: "https://mycompany.com/myapp.php?foo=1&bar=3",
                                               parameters: publishedParams))
        XCTAssertFalse(TwilioSignature.isValid(good, authToken: "12345", url: "http://mycompany.com/myapp.php?foo=1&bar=2",
                                               parameters: publishedParams))
        var changed = publishedParams
        changed[2] = ("Digits", "1235")
        XCTAssertFalse(TwilioSignature.isValid(good, authToken: "12345", url: publishedURL, parameters: changed))
        XCTAssertFalse(TwilioSignature.isValid(good, authToken: "12345", url: publishedURL, parameters: publishedParams + [("Extra", "1")]))
        XCTAssertFalse(TwilioSignature.isValid(good, authToken: "12345", url: publishedURL, parameters: Array(publishedParams.dropLast())))
    }

    func testGarbageSignatureHeaderIsInvalid() {
        for header in ["", "not base64!", "0/KCTR6DLpKmkAf8muzZqo1nDgQ", "0/KCTR6DLpKmkAf8muzZqo1nDgQ=\n", "AAAA", String(repeating: "A", count: 400)] {
            XCTAssertFalse(TwilioSignature.isValid(header, authToken: "12345", url: publishedURL, parameters: publishedParams), header)
        }
    }

    /// twilio-python checks the URL with and without its port; so do we.
    func testURLWithDefaultPortIsAccepted() {
        XCTAssertTrue(TwilioSignature.isValid("0/KCTR6DLpKmkAf8muzZqo1nDgQ=", authToken: "12345",
                                              url: "https://mycompany.com:443/myapp.php?foo=1&bar=2", parameters: publishedParams))
        // Signed with the port (twilio-python: EpDEmp1PyjDYp77YxYU3GILBWzE=), configured without it.
        XCTAssertTrue(TwilioSignature.isValid("EpDEmp1PyjDYp77YxYU3GILBWzE=", authToken: "12345", url: publishedURL, parameters: publishedParams))
    }

    func testURLVariants() {
        XCTAssertEqual(TwilioSignature.urlVariants("https://example.org/x"), ["https://example.org/x", "https://example.org:443/x"])
        XCTAssertEqual(TwilioSignature.urlVariants("http://example.org:8080/x?y=1"), ["http://example.org:8080/x?y=1", "http://example.org/x?y=1"])
        XCTAssertEqual(TwilioSignature.urlVariants("https://[::1]:8443/a"), ["https://[::1]:8443/a", "https://[::1]/a"])
        XCTAssertEqual(TwilioSignature.urlVariants("https://[::1]/a"), ["https://[::1]/a", "https://[::1]:443/a"])
        XCTAssertEqual(TwilioSignature.urlVariants("https://example.org?q=1"), ["https://example.org?q=1", "https://example.org:443?q=1"])
        XCTAssertEqual(TwilioSignature.urlVariants("not a url"), ["not a url"])
    }

    /// A repeated name contributes every value, values sorted (twilio-python: 6luPzzhB/QL7dCqQp/mXakcHKh0=).
    func testRepeatedKeysSortValues() {
        let url = "https://example.org/v1/channels/sms-main/twilio"
        let params = [("To", "+18005551212"), ("MediaUrl", "https://x.test/b.png"), ("MediaUrl", "https://x.test/a.png"), ("Body", "hi")]
        XCTAssertEqual(TwilioSignature.compute(authToken: "12345", url: url, parameters: params), "6luPzzhB/QL7dCqQp/mXakcHKh0=")
        XCTAssertTrue(TwilioSignature.isValid("6luPzzhB/QL7dCqQp/mXakcHKh0=", authToken: "12345", url: url, parameters: params))
    }

    /// An exact duplicate pair: twilio-python 9 signs it once, earlier validators twice. Both readings pass.
    func testDuplicatePairBothReadings() {
        let url = "https://example.org/v1/channels/sms-main/twilio"
        let params = [("Body", "hi"), ("Tag", "x"), ("Tag", "x"), ("To", "+1")]
        XCTAssertTrue(TwilioSignature.isValid("9HNaLh7yJ0nNNmkW7YOUJhJTf5g=", authToken: "12345", url: url, parameters: params))
        XCTAssertTrue(TwilioSignature.isValid("tiAq7FEkbnDWpY0xAUdkfQ0fVBk=", authToken: "12345", url: url, parameters: params))
        XCTAssertFalse(TwilioSignature.isValid("9HNaLh7yJ0nNNmkW7YOUJhJTf5g=", authToken: "12345", url: url,
                                               parameters: [("Body", "hi"), ("Tag", "x"), ("Tag", "y"), ("To", "+1")]))
    }

    /// Names sort by code point ("Z" < "_" < "a" < "É"), not by locale (twilio-python: Aq6Uac3Fvjl7NETKXFDgwnXYCUE=).
    func testSortingIsByCodePoint() {
        let url = "https://example.org/v1/channels/sms-main/twilio"
        let params = [("a", "1"), ("Z", "2"), ("É", "3"), ("_", "4")]
        XCTAssertEqual(TwilioSignature.compute(authToken: "12345", url: url, parameters: params), "Aq6Uac3Fvjl7NETKXFDgwnXYCUE=")
    }

    // MARK: Through the adapter

    private func signedRequest(_ name: String) throws -> (SMSAdapter, HTTPRequest) {
        (try SMSAdapter(config: try SMSFixtures.twilioConfig()), try SMSFixtures.request(name))
    }

    func testFixtureSignaturesFromTwilioPythonVerify() throws {
        for name in ["twilio-inbound-chinese.form", "twilio-inbound-mms.form", "twilio-status-sent.form",
                     "twilio-status-delivered.form", "twilio-status-undelivered.form", "twilio-status-queued.form"] {
            let (adapter, request) = try signedRequest(name)
            XCTAssertNoThrow(try adapter.receive(request), name)
        }
    }

    func testSignedURLIncludesStatusSuffixAndQuery() throws {
        let (adapter, request) = try signedRequest("twilio-inbound-mms.form")
        XCTAssertEqual(adapter.twilioSignedURL(for: request), "https://example.org/v1/channels/sms-main/twilio?hotline=12345&lang=en")
        let (_, status) = try signedRequest("twilio-status-sent.form")
        XCTAssertEqual(adapter.twilioSignedURL(for: status), "https://example.org/v1/channels/sms-main/twilio/status")
    }

    func testAdapterRejectsTamperedSignature() throws {
        let (adapter, original) = try signedRequest("twilio-inbound-chinese.form")
        var request = original
        var signature = Array(request.headers["x-twilio-signature"]!)
        signature[3] = signature[3] == "A" ? "B" : "A"
        request.headers["x-twilio-signature"] = String(signature)
        assertChannelError(try adapter.receive(request), \.isBadSignature, "badSignature")
    }

    func testAdapterRejectsMissingSignature() throws {
        let (adapter, original) = try signedRequest("twilio-inbound-chinese.form")
        var request = original
        request.headers["x-twilio-signature"] = nil
        let message = assertChannelError(try adapter.receive(request), \.isBadSignature, "badSignature")
        XCTAssertEqual(message, "missing X-Twilio-Signature header")
    }

    func testAdapterRejectsAlteredBody() throws {
        let (adapter, original) = try signedRequest("twilio-inbound-chinese.form")
        var request = original
        request.body = Array(String(decoding: request.body, as: UTF8.self).replacingOccurrences(of: "%2B8613812345678", with: "%2B8613800000000").utf8)
        assertChannelError(try adapter.receive(request), \.isBadSignature, "badSignature")
    }

    func testAdapterRejectsSignatureForOtherPath() throws {
        // The status callback's signature covers .../twilio/status; replayed at .../twilio it fails.
        let (adapter, original) = try signedRequest("twilio-status-delivered.form")
        var request = original
        request.subpath = "twilio"
        assertChannelError(try adapter.receive(request), \.isBadSignature, "badSignature")
    }

    func testAdapterRejectsChangedQuery() throws {
        let (adapter, original) = try signedRequest("twilio-inbound-mms.form")
        var request = original
        request.query = "hotline=12345&lang=zh"
        assertChannelError(try adapter.receive(request), \.isBadSignature, "badSignature")
    }

    func testAdapterRejectsWrongAuthToken() throws {
        var config = try SMSFixtures.twilioConfig()
        config.settings["auth_token"] = "00000000000000000000000000000000"
        let adapter = try SMSAdapter(config: config)
        assertChannelError(try adapter.receive(try SMSFixtures.request("twilio-inbound-chinese.form")), \.isBadSignature, "badSignature")
    }
}
