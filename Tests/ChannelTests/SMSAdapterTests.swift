import SMSChannel
import SwitchboardCore
import XCTest

/// Each provider's fixture (Tests/ChannelTests/Fixtures/sms) through `SMSAdapter.receive`: the
/// events it becomes and the synchronous answer the provider expects.
final class SMSAdapterTests: XCTestCase {
    private let emptyTwiML = HTTPResponse(status: 200, contentType: "text/xml",
                                          text: #"<?xml version="1.0" encoding="UTF-8"?><Response></Response>"#)
    private let mediaBase = "https://api.twilio.com/2010-04-01/Accounts/AC3f6e1a2b9c8d7e6f5a4b3c2d1e0f9a8b/Messages/MM0a1b2c3d4e5f60718293a4b5c6d7e8f9/Media/"

    private func twilio() throws -> SMSAdapter { try SMSAdapter(config: try SMSFixtures.twilioConfig()) }

    // MARK: Twilio

    func testTwilioInboundChinese() throws {
        let batch = try twilio().receive(try SMSFixtures.request("twilio-inbound-chinese.form"))
        XCTAssertEqual(batch.events, [.message(InboundMessage(
            from: Identity(kind: .sms, address: "+8613812345678"), externalId: "SM7d2f4c0e9a8b6c5d4e3f2a1b0c9d8e7f",
            parts: [.text("您好，我想咨询社保卡补办需要带哪些材料？谢谢🙏")], to: "+14155550142"))])
        XCTAssertEqual(batch.response, emptyTwiML)
    }

    func testTwilioInboundMMSWithTwoMedia() throws {
        let batch = try twilio().receive(try SMSFixtures.request("twilio-inbound-mms.form"))
        XCTAssertEqual(batch.events, [.message(InboundMessage(
            from: Identity(kind: .sms, address: "+14155550199"), externalId: "MM0a1b2c3d4e5f60718293a4b5c6d7e8f9",
            parts: [
                .text("Broken streetlight at 5th & Main, 100% out + the pole is leaning"),
                .media(url: mediaBase + "ME4c1f0b2a9d8e7c6b5a4f3e2d1c0b9a87", mime: "image/jpeg", name: nil, size: nil),
                .media(url: mediaBase + "ME9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b", mime: "image/png", name: nil, size: nil),
            ], to: "+14155550142"))])
        XCTAssertEqual(batch.response, emptyTwiML)
    }

    func testTwilioStatusCallbacks() throws {
        let sid = "SMa9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4"
        let expected: [(String, [InboundEvent])] = [
            ("twilio-status-sent.form", [.deliveryStatus(DeliveryStatusReport(externalId: sid, status: .sent))]),
            ("twilio-status-delivered.form", [.deliveryStatus(DeliveryStatusReport(externalId: sid, status: .delivered))]),
            ("twilio-status-undelivered.form", [.deliveryStatus(DeliveryStatusReport(externalId: sid, status: .failed,
                                                                                      error: "undelivered (Twilio error 30003)"))]),
            // queued changes nothing: the outbox recorded `sent` when Twilio accepted the request.
            ("twilio-status-queued.form", []),
        ]
        for (name, events) in expected {
            let batch = try twilio().receive(try SMSFixtures.request(name))
            XCTAssertEqual(batch.events, events, name)
            XCTAssertEqual(batch.response, emptyTwiML, name)
        }
    }

    /// Every Twilio status, through a signed callback.
    func testTwilioStatusMapping() throws {
        let adapter = try twilio()
        let cases: [(String, String?, DeliveryStatusReport?)] = [
            ("accepted", nil, nil), ("scheduled", nil, nil), ("queued", nil, nil), ("sending", nil, nil),
            ("sent", nil, DeliveryStatusReport(externalId: "SM1", status: .sent)),
            ("delivered", nil, DeliveryStatusReport(externalId: "SM1", status: .delivered)),
            ("read", nil, DeliveryStatusReport(externalId: "SM1", status: .read)),
            ("failed", "30008", DeliveryStatusReport(externalId: "SM1", status: .failed, error: "failed (Twilio error 30008)")),
            ("undelivered", nil, DeliveryStatusReport(externalId: "SM1", status: .failed, error: "undelivered")),
            ("canceled", nil, DeliveryStatusReport(externalId: "SM1", status: .failed, error: "canceled")),
        ]
        for (status, code, report) in cases {
            var params = [("MessageSid", "SM1"), ("MessageStatus", status)]
            if let code { params.append(("ErrorCode", code)) }
            let batch = try adapter.receive(try TwilioRequests.signed(params, subpath: "twilio/status"))
            XCTAssertEqual(batch.events, report.map { [.deliveryStatus($0)] } ?? [], status)
        }
    }

    func testTwilioLegacySmsStatusField() throws {
        let batch = try twilio().receive(try TwilioRequests.signed([("SmsSid", "SM2"), ("SmsStatus", "delivered")], subpath: "twilio/status"))
        XCTAssertEqual(batch.events, [.deliveryStatus(DeliveryStatusReport(externalId: "SM2", status: .delivered))])
    }

    // MARK: Aliyun, Tencent, generic

    func testAliyunBatchOfTwo() throws {
        let adapter = try SMSAdapter(config: SMSFixtures.aliyunConfig())
        let batch = try adapter.receive(try SMSFixtures.request("aliyun-smsup-batch.json"))
        XCTAssertEqual(batch.events, [
            .message(InboundMessage(from: Identity(kind: .sms, address: "+8613800138000"), externalId: "1849203317",
                                    parts: [.text("查询办件进度，受理编号A2026112000123")], to: "1234")),
            .message(InboundMessage(from: Identity(kind: .sms, address: "+8615912345678"), externalId: "1849203318",
                                    parts: [.text("TD")], to: "1234")),
        ])
        XCTAssertEqual(batch.response.status, 200)
        XCTAssertEqual(batch.response.contentType, "application/json; charset=utf-8")
        XCTAssertEqual(String(decoding: batch.response.body, as: UTF8.self), #"{"code":0,"msg":"接收成功"}"#)
    }

    func testTencentReply() throws {
        let adapter = try SMSAdapter(config: SMSFixtures.tencentConfig())
        let batch = try adapter.receive(try SMSFixtures.request("tencent-reply.json"))
        // sha256("+8613800138000\n1763601332\n好的，谢谢！明天上午过去办理。"), computed with Python's hashlib.
        XCTAssertEqual(batch.events, [.message(InboundMessage(
            from: Identity(kind: .sms, address: "+8613800138000"),
            externalId: "37383626f196887bb03aa9a4f79c3f8fe1f4c1dac57c8ecff1521091a5eb1419",
            parts: [.text("好的，谢谢！明天上午过去办理。")], to: nil))])
        XCTAssertEqual(String(decoding: batch.response.body, as: UTF8.self), #"{"result":0,"errmsg":"OK"}"#)
        XCTAssertEqual(batch.response.status, 200)
    }

    func testTencentDedupDigestIsStableAndContentBound() throws {
        let adapter = try SMSAdapter(config: SMSFixtures.tencentConfig(token: nil))
        func id(_ json: String) throws -> String {
            let request = HTTPRequest(method: "POST", subpath: "tencent", headers: ["content-type": "application/json"], body: Array(json.utf8))
            guard case .message(let m) = try adapter.receive(request).events.first else { throw TestFailure("the reply produced no message") }
            return m.externalId
        }
        let base = try id(#"{"mobile":"13800138000","nationcode":"86","sign":"s","text":"好","time":1763601332,"extend":""}"#)
        XCTAssertEqual(try id(#"{"extend":"9","time":1763601332,"text":"好","sign":"other","nationcode":"86","mobile":"13800138000"}"#), base)
        XCTAssertNotEqual(try id(#"{"mobile":"13800138000","nationcode":"86","sign":"s","text":"好!","time":1763601332}"#), base)
        XCTAssertNotEqual(try id(#"{"mobile":"13800138000","nationcode":"86","sign":"s","text":"好","time":1763601333}"#), base)
        XCTAssertNotEqual(try id(#"{"mobile":"13800138001","nationcode":"86","sign":"s","text":"好","time":1763601332}"#), base)
    }

    func testGenericInboundWithMedia() throws {
        let adapter = try SMSAdapter(config: try SMSFixtures.genericConfig())
        let batch = try adapter.receive(try SMSFixtures.request("generic-inbound.json"))
        XCTAssertEqual(batch.events, [.message(InboundMessage(
            from: Identity(kind: .sms, address: "+8613700001111"), externalId: "gw-20261120-000917",
            parts: [.text("路灯不亮，位置见图片"),
                    .media(url: "https://gw.example.net/media/7f3a/streetlight.jpg", mime: "image/jpeg", name: "streetlight.jpg", size: 183224)],
            to: "12345"))])
        XCTAssertEqual(String(decoding: batch.response.body, as: UTF8.self), #"{"ok":true}"#)
    }

    func testGenericStatusCallbacks() throws {
        let adapter = try SMSAdapter(config: try SMSFixtures.genericConfig())
        XCTAssertEqual(try adapter.receive(try SMSFixtures.request("generic-status-failed.json")).events,
                       [.deliveryStatus(DeliveryStatusReport(externalId: "gw-out-20261120-0778", status: .failed, error: "MK:0005 user blocked SMS"))])
        let delivered = try adapter.receive(try SMSFixtures.request("generic-status-delivered.json"))
        XCTAssertEqual(delivered.events, [.deliveryStatus(DeliveryStatusReport(externalId: "gw-out-20261120-0779", status: .delivered))])
        XCTAssertEqual(String(decoding: delivered.response.body, as: UTF8.self), #"{"ok":true}"#)
    }

    // MARK: Routes, methods, content types

    func testOnlyTheConfiguredProvidersRoutesExist() throws {
        let adapter = try twilio()
        for subpath in ["aliyun", "tencent", "generic", "generic/status", "", "twilio/", "twilio/status/x", "TWILIO"] {
            var request = try SMSFixtures.request("twilio-inbound-chinese.form")
            request.subpath = subpath
            assertChannelError(try adapter.receive(request), \.isUnknownRoute, "unknownRoute for '\(subpath)'")
        }
        let aliyun = try SMSAdapter(config: SMSFixtures.aliyunConfig())
        assertChannelError(try aliyun.receive(try SMSFixtures.request("twilio-inbound-chinese.form")), \.isUnknownRoute, "unknownRoute")
        let generic = try SMSAdapter(config: try SMSFixtures.genericConfig())
        var tencentRequest = try SMSFixtures.request("tencent-reply.json")
        tencentRequest.query = ""
        assertChannelError(try generic.receive(tencentRequest), \.isUnknownRoute, "unknownRoute")
    }

    func testPostOnly() throws {
        for method in ["GET", "PUT", "HEAD", "post"] {
            var request = try SMSFixtures.request("twilio-inbound-chinese.form")
            request.method = method
            let message = assertChannelError(try twilio().receive(request), \.isUnknownRoute, "unknownRoute for \(method)")
            XCTAssertEqual(message?.contains("POST only"), true)
        }
    }

    func testWrongContentTypes() throws {
        var twilioRequest = try SMSFixtures.request("twilio-inbound-chinese.form")
        twilioRequest.headers["content-type"] = "application/json"
        assertChannelError(try twilio().receive(twilioRequest), \.isUnsupportedMediaType, "unsupportedMediaType")
        twilioRequest.headers["content-type"] = nil
        assertChannelError(try twilio().receive(twilioRequest), \.isUnsupportedMediaType, "unsupportedMediaType")

        var aliyunRequest = try SMSFixtures.request("aliyun-smsup-batch.json")
        aliyunRequest.headers["content-type"] = "text/plain"
        assertChannelError(try SMSAdapter(config: SMSFixtures.aliyunConfig()).receive(aliyunRequest), \.isUnsupportedMediaType, "415")

        var genericRequest = try SMSFixtures.request("generic-inbound.json")
        genericRequest.headers["content-type"] = "application/x-www-form-urlencoded"
        assertChannelError(try SMSAdapter(config: try SMSFixtures.genericConfig()).receive(genericRequest), \.isUnsupportedMediaType, "415")
    }

    func testContentTypeParametersAreIgnored() throws {
        var request = try SMSFixtures.request("twilio-inbound-chinese.form")
        request.headers["content-type"] = "application/x-www-form-urlencoded; charset=UTF-8"
        XCTAssertEqual(try twilio().receive(request).events.count, 1)
    }

    // MARK: webhook_token for the unsigned pushes

    func testWebhookTokenRequiredWhenConfigured() throws {
        let adapter = try SMSAdapter(config: SMSFixtures.aliyunConfig())
        var request = try SMSFixtures.request("aliyun-smsup-batch.json")
        for (query, expected) in [("", "missing ?token= (this channel requires webhook_token)"), ("token=wrong", "wrong ?token="),
                                  ("token=aliyun-push-token-7c1", "wrong ?token="),
                                  ("token=aliyun-push-token-7c1e&token=aliyun-push-token-7c1e", "repeated ?token= parameter"),
                                  ("tok=aliyun-push-token-7c1e", "missing ?token= (this channel requires webhook_token)")] {
            request.query = query
            let message = assertChannelError(try adapter.receive(request), \.isBadSignature, "badSignature for '\(query)'")
            XCTAssertEqual(message, expected)
        }
        // Checked before the body: garbage with a wrong token is a 403, not a 400.
        request.query = "token=wrong"
        request.body = Array("not json".utf8)
        assertChannelError(try adapter.receive(request), \.isBadSignature, "badSignature")
    }

    func testWebhookTokenPercentEncodedAndAmongOtherParameters() throws {
        var config = SMSFixtures.tencentConfig(token: "t0k+en/=")
        config.id = "sms-tx2"
        var request = try SMSFixtures.request("tencent-reply.json")
        request.query = "a=1&token=t0k%2Ben%2F%3D&b=2"
        XCTAssertEqual(try SMSAdapter(config: config).receive(request).events.count, 1)
    }

    func testNoWebhookTokenAcceptsUnsignedPush() throws {
        var request = try SMSFixtures.request("tencent-reply.json")
        request.query = ""
        XCTAssertEqual(try SMSAdapter(config: SMSFixtures.tencentConfig(token: nil)).receive(request).events.count, 1)
    }
}
