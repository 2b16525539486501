import SMSChannel
import SwitchboardCrypto
import SwitchboardCore
import XCTest

/// Bad input gets a clear error naming the field and produces no events (DESIGN §11).
final class SMSMalformedInputTests: XCTestCase {
    private func twilio() throws -> SMSAdapter { try SMSAdapter(config: try SMSFixtures.twilioConfig()) }

    /// `minimalInbound` with `changes` applied: a nil value removes the field.
    private func inbound(_ changes: [String: String?]) -> [(String, String)] {
        var params = TwilioRequests.minimalInbound.filter { changes[$0.0] == nil }
        for (name, value) in changes.sorted(by: { $0.key < $1.key }) {
            if let value { params.append((name, value)) }
        }
        return params
    }

    private func assertTwilioMalformed(_ params: [(String, String)], mentions field: String,
                                       file: StaticString = #filePath, line: UInt = #line) throws {
        let request = try TwilioRequests.signed(params)
        let message = assertChannelError(try twilio().receive(request), \.isMalformed, "malformed", file: file, line: line)
        XCTAssertTrue(message?.contains(field) == true, "'\(message ?? "")' does not name \(field)", file: file, line: line)
    }

    func testMinimalInboundIsValid() throws {
        let batch = try twilio().receive(try TwilioRequests.signed(TwilioRequests.minimalInbound))
        XCTAssertEqual(batch.events, [.message(InboundMessage(from: Identity(kind: .sms, address: "+8613812345678"),
                                                               externalId: "SM0123456789abcdef0123456789abcdef",
                                                               parts: [.text("你好")], to: "+14155550142"))])
    }

    func testTwilioMissingOrBadFields() throws {
        try assertTwilioMalformed(inbound(["From": nil]), mentions: "'From'")
        try assertTwilioMalformed(inbound(["Body": nil]), mentions: "'Body'")
        try assertTwilioMalformed(inbound(["MessageSid": nil]), mentions: "'MessageSid'")
        try assertTwilioMalformed(inbound(["Body": ""]), mentions: "'Body'")
        try assertTwilioMalformed(inbound(["From": "hello"]), mentions: "'From'")
        try assertTwilioMalformed(inbound(["From": "+0123456789"]), mentions: "'From'")
        try assertTwilioMalformed(inbound(["From": "+1234567890123456"]), mentions: "'From'")
        try assertTwilioMalformed(inbound(["MessageSid": "SM 1"]), mentions: "'MessageSid'")
        try assertTwilioMalformed(inbound(["NumMedia": "abc"]), mentions: "'NumMedia'")
        try assertTwilioMalformed(inbound(["NumMedia": "-1"]), mentions: "'NumMedia'")
        try assertTwilioMalformed(inbound(["NumMedia": "11"]), mentions: "'NumMedia'")
        try assertTwilioMalformed(inbound(["NumMedia": "1"]), mentions: "'MediaUrl0'")
        try assertTwilioMalformed(inbound(["NumMedia": "1", "MediaUrl0": "javascript:alert(1)"]), mentions: "'MediaUrl0'")
        try assertTwilioMalformed(inbound(["NumMedia": "1", "MediaUrl0": "https://x.test/a b"]), mentions: "'MediaUrl0'")
        try assertTwilioMalformed(inbound(["NumMedia": "1", "MediaUrl0": "https://x.test/a", "MediaContentType0": "jpeg"]),
                                  mentions: "'MediaContentType0'")
        try assertTwilioMalformed(TwilioRequests.minimalInbound + [("From", "+8613812345678")], mentions: "'From' is repeated")
        try assertTwilioMalformed([], mentions: "'MessageSid'")
    }

    func testTwilioPictureOnlyMMSHasNoTextPart() throws {
        let params = inbound(["Body": "", "NumMedia": "1", "MediaUrl0": "https://api.twilio.com/m/ME1"])
        let batch = try twilio().receive(try TwilioRequests.signed(params))
        guard case .message(let message) = batch.events.first else { throw TestFailure("no message") }
        // No content type given: the part still carries a MIME type.
        XCTAssertEqual(message.parts, [.media(url: "https://api.twilio.com/m/ME1", mime: "application/octet-stream", name: nil, size: nil)])
    }

    func testTwilioOversizeFields() throws {
        try assertTwilioMalformed(inbound(["Body": String(repeating: "长", count: 5462)]), mentions: "'Body' is longer than")
        XCTAssertNoThrow(try twilio().receive(try TwilioRequests.signed(inbound(["Body": String(repeating: "长", count: 5461)]))))
        try assertTwilioMalformed(inbound(["MessageSid": String(repeating: "S", count: 129)]), mentions: "'MessageSid' is longer than")
        try assertTwilioMalformed(inbound(["To": String(repeating: "1", count: 65)]), mentions: "'To' is longer than")
        try assertTwilioMalformed(inbound(["NumMedia": "1", "MediaUrl0": "https://x.test/" + String(repeating: "a", count: 2048)]),
                                  mentions: "'MediaUrl0' is longer than")
    }

    func testTwilioUndecodableForm() throws {
        let adapter = try twilio()
        for (body, expected) in [("MessageSid=SM1&Body=%zz", "form body: invalid percent escape"),
                                 ("MessageSid=SM1&Body=100%", "form body: invalid percent escape"),
                                 ("MessageSid=SM1&Body=%FF%FE", "form body: not valid UTF-8"),
                                 ("MessageSid=SM1&Body=%E4%BD", "form body: not valid UTF-8")] {
            let message = assertChannelError(try adapter.receive(try TwilioRequests.raw(body)), \.isMalformed, "malformed for \(body)")
            XCTAssertEqual(message, expected)
        }
    }

    func testTwilioStatusGarbage() throws {
        let adapter = try twilio()
        let unknown = try TwilioRequests.signed([("MessageSid", "SM1"), ("MessageStatus", "exploded")], subpath: "twilio/status")
        XCTAssertEqual(assertChannelError(try adapter.receive(unknown), \.isMalformed, "malformed"),
                       "field 'MessageStatus' has unknown value 'exploded'")
        let missing = try TwilioRequests.signed([("MessageSid", "SM1")], subpath: "twilio/status")
        XCTAssertEqual(assertChannelError(try adapter.receive(missing), \.isMalformed, "malformed"), "missing field 'MessageStatus'")
        let noSid = try TwilioRequests.signed([("MessageStatus", "sent")], subpath: "twilio/status")
        XCTAssertEqual(assertChannelError(try adapter.receive(noSid), \.isMalformed, "malformed"), "missing field 'MessageSid'")
        let badCode = try TwilioRequests.signed([("MessageSid", "SM1"), ("MessageStatus", "failed"), ("ErrorCode", "30003 <script>")],
                                                subpath: "twilio/status")
        assertChannelError(try adapter.receive(badCode), \.isMalformed, "malformed")
    }

    // MARK: Aliyun

    private func aliyun(_ json: String) throws -> HTTPRequest {
        HTTPRequest(method: "POST", subpath: "aliyun", query: "token=\(SMSFixtures.aliyunToken)",
                    headers: ["content-type": "application/json"], body: Array(json.utf8))
    }

    private func assertAliyunMalformed(_ json: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let adapter = try SMSAdapter(config: SMSFixtures.aliyunConfig())
        let message = assertChannelError(try adapter.receive(try aliyun(json)), \.isMalformed, "malformed", file: file, line: line)
        XCTAssertEqual(message, expected, file: file, line: line)
    }

    private let aliyunItem = #"{"phone_number":"13800138000","send_time":"2026-11-20 09:15:32","content":"你好","dest_code":"1234","sequence_id":1}"#

    func testAliyunGarbage() throws {
        try assertAliyunMalformed("garbage", "Aliyun SmsUp push: body is not valid JSON")
        try assertAliyunMalformed("", "Aliyun SmsUp push: body is not valid JSON")
        try assertAliyunMalformed(aliyunItem, "Aliyun SmsUp push: body has the wrong JSON shape")
        try assertAliyunMalformed("[]", "Aliyun SmsUp push: the batch is empty")
        try assertAliyunMalformed("[\(aliyunItem),{\"content\":\"x\",\"sequence_id\":2}]", "Aliyun SmsUp push: missing field '[1].phone_number'")
        try assertAliyunMalformed(#"[{"phone_number":"13800138000","content":"x"}]"#, "Aliyun SmsUp push: missing field '[0].sequence_id'")
        try assertAliyunMalformed(#"[{"phone_number":"13800138000","content":"x","sequence_id":{"a":1}}]"#,
                                  "Aliyun SmsUp push: field '[0].sequence_id' has the wrong type")
        try assertAliyunMalformed(#"[{"phone_number":null,"content":"x","sequence_id":1}]"#, "Aliyun SmsUp push: field '[0].phone_number' is null")
        try assertAliyunMalformed(#"[{"phone_number":"abc","content":"x","sequence_id":1}]"#, "field '[0].phone_number' is not a phone number")
        try assertAliyunMalformed(#"[{"phone_number":"13800138000","content":"","sequence_id":1}]"#,
                                  "field '[0].content' is empty and the message has no media")
        try assertAliyunMalformed(#"[{"phone_number":"13800138000","content":"x","sequence_id":"1 2"}]"#,
                                  "field '[0].sequence_id' must be printable ASCII without spaces")
    }

    func testAliyunInvalidUTF8() throws {
        let adapter = try SMSAdapter(config: SMSFixtures.aliyunConfig())
        var request = try aliyun("")
        request.body = Array(#"[{"phone_number":"13800138000","content":""#.utf8) + [0xC3, 0x28] + Array(#"","sequence_id":1}]"#.utf8)
        XCTAssertEqual(assertChannelError(try adapter.receive(request), \.isMalformed, "malformed"), "Aliyun SmsUp push: body is not valid UTF-8")
    }

    func testAliyunOversize() throws {
        let long = String(repeating: "字", count: 6000)
        try assertAliyunMalformed(#"[{"phone_number":"13800138000","content":"\#(long)","sequence_id":1}]"#,
                                  "field '[0].content' is longer than 16384 bytes")
        let many = "[" + Array(repeating: aliyunItem, count: 1001).joined(separator: ",") + "]"
        try assertAliyunMalformed(many, "Aliyun SmsUp push: more than 1000 messages")
    }

    func testAliyunNumberForms() throws {
        let adapter = try SMSAdapter(config: SMSFixtures.aliyunConfig())
        let json = #"[{"phone_number":"8613800138000","content":"a","sequence_id":"77"},{"phone_number":"85291234567","content":"b","sequence_id":78}]"#
        let froms = try adapter.receive(try aliyun(json)).events.compactMap { event -> String? in
            if case .message(let m) = event { return m.from.address + "#" + m.externalId }
            return nil
        }
        XCTAssertEqual(froms, ["+8613800138000#77", "+85291234567#78"])
    }

    // MARK: Tencent

    private func assertTencentMalformed(_ json: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let adapter = try SMSAdapter(config: SMSFixtures.tencentConfig(token: nil))
        let request = HTTPRequest(method: "POST", subpath: "tencent", headers: ["content-type": "application/json"], body: Array(json.utf8))
        let message = assertChannelError(try adapter.receive(request), \.isMalformed, "malformed", file: file, line: line)
        XCTAssertEqual(message, expected, file: file, line: line)
    }

    func testTencentGarbage() throws {
        try assertTencentMalformed("{", "Tencent SMS reply: body is not valid JSON")
        try assertTencentMalformed("[]", "Tencent SMS reply: body has the wrong JSON shape")
        try assertTencentMalformed(#"{"mobile":"13800138000","nationcode":"86","text":"x"}"#, "Tencent SMS reply: missing field 'time'")
        try assertTencentMalformed(#"{"mobile":"13800138000","nationcode":"86","time":1}"#, "Tencent SMS reply: missing field 'text'")
        try assertTencentMalformed(#"{"mobile":"13800138000","nationcode":"86","text":"x","time":"soon"}"#, "field 'time' is not a Unix timestamp")
        try assertTencentMalformed(#"{"mobile":"13800138000","nationcode":"86","text":"","time":1}"#, "field 'text' is empty and the message has no media")
        try assertTencentMalformed(#"{"mobile":"13800138000","nationcode":"8a","text":"x","time":1}"#, "field 'nationcode' is not a country code")
        try assertTencentMalformed(#"{"mobile":"1380013800a","nationcode":"86","text":"x","time":1}"#, "field 'mobile' is not a phone number")
    }

    // MARK: Generic

    private func generic(_ json: String, subpath: String = "generic", sign: Bool = true) throws -> HTTPRequest {
        let secret = try SMSFixtures.manifest().generic.hmac_secret
        let body = Array(json.utf8)
        var headers = ["content-type": "application/json"]
        if sign { headers["x-signature"] = "sha256=" + GenericSignature.hex(secret: secret, body: body) }
        return HTTPRequest(method: "POST", subpath: subpath, headers: headers, body: body)
    }

    func testGenericSignatureChecks() throws {
        let adapter = try SMSAdapter(config: try SMSFixtures.genericConfig())
        let fixture = try SMSFixtures.request("generic-inbound.json")

        var tampered = fixture
        tampered.body[tampered.body.count / 2] ^= 0x01
        XCTAssertEqual(assertChannelError(try adapter.receive(tampered), \.isBadSignature, "403"), "X-Signature does not match the body")

        var upper = fixture
        upper.headers["x-signature"] = "sha256=" + upper.headers["x-signature"]!.dropFirst(7).uppercased()
        XCTAssertEqual(try adapter.receive(upper).events.count, 1, "hex case does not matter")

        for header in [nil, "", "sha1=" + String(repeating: "0", count: 64), "sha256=xyz", "sha256=" + String(repeating: "0", count: 62),
                       "sha256=" + String(repeating: "0", count: 64)] {
            var request = fixture
            request.headers["x-signature"] = header
            assertChannelError(try adapter.receive(request), \.isBadSignature, "403 for \(header ?? "nil")")
        }
        // Signature before parsing: unsigned garbage is a 403.
        assertChannelError(try adapter.receive(try generic("garbage", sign: false)), \.isBadSignature, "403")
    }

    func testGenericGarbage() throws {
        let adapter = try SMSAdapter(config: try SMSFixtures.genericConfig())
        func malformed(_ json: String, _ subpath: String = "generic") throws -> String? {
            assertChannelError(try adapter.receive(try generic(json, subpath: subpath)), \.isMalformed, "malformed for \(json)")
        }
        XCTAssertEqual(try malformed("garbage"), "generic SMS message: body is not valid JSON")
        XCTAssertEqual(try malformed(#"{"id":"1","text":"x"}"#), "generic SMS message: missing field 'from'")
        XCTAssertEqual(try malformed(#"{"id":"1","from":"+8613800138000"}"#), "field 'text' is empty and the message has no media")
        XCTAssertEqual(try malformed(#"{"id":"1","from":"+8613800138000","media":[{"url":"ftp://x/y"}]}"#), "field 'media[0].url' is not an http(s) URL")
        XCTAssertEqual(try malformed(#"{"id":"1","from":"+8613800138000","media":[{"mime":"image/png"}]}"#),
                       "generic SMS message: missing field 'media[0].url'")
        let eleven = Array(repeating: #"{"url":"https://x.test/a.png"}"#, count: 11).joined(separator: ",")
        XCTAssertEqual(try malformed(#"{"id":"1","from":"+8613800138000","media":[\#(eleven)]}"#), "field 'media' has more than 10 items")
        XCTAssertEqual(try malformed(#"{"id":"1","status":"pending"}"#, "generic/status"), "field 'status' must be one of sent, delivered, read, failed")
        XCTAssertEqual(try malformed(#"{"id":"1","status":"exploded"}"#, "generic/status"), "field 'status' must be one of sent, delivered, read, failed")
        XCTAssertEqual(try malformed(#"{"status":"sent"}"#, "generic/status"), "generic SMS status: missing field 'id'")
    }

    func testGenericFailedStatusWithoutErrorStillSaysFailed() throws {
        let adapter = try SMSAdapter(config: try SMSFixtures.genericConfig())
        let batch = try adapter.receive(try generic(#"{"id":42,"status":"failed"}"#, subpath: "generic/status"))
        XCTAssertEqual(batch.events, [.deliveryStatus(DeliveryStatusReport(externalId: "42", status: .failed, error: "failed"))])
        let read = try adapter.receive(try generic(#"{"id":"m-1","status":"read","error":"ignored"}"#, subpath: "generic/status"))
        XCTAssertEqual(read.events, [.deliveryStatus(DeliveryStatusReport(externalId: "m-1", status: .read))])
    }
}

/// The generic gateway's signature, computed here with SwitchboardCrypto (pinned to RFC 4231
/// vectors in CryptoTests) for hand-made bodies; the fixtures carry Python-computed ones.
enum GenericSignature {
    static func hex(secret: String, body: [UInt8]) -> String {
        SwitchboardCrypto.Digest.hmacSHA256Hex(key: Array(secret.utf8), body)
    }
}
