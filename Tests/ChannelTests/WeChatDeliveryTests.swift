import Foundation
import SwitchboardCore
import WeChatChannel
import XCTest

/// Official Account replies (`custom/send`) and what the API's answers mean, the access tokens
/// of both providers, and media fetched by id (DESIGN §10.1, §10.3, §10.8).
final class WeChatDeliveryTests: XCTestCase {
    private typealias W = WeChatAdapters

    private let message = OutboundMessage(conversationId: "conv-7", messageId: "msg-3", to: W.openId,
                                          parts: [.text("您好，请问有什么可以帮您？"), .text("工作时间 9:00–18:00")], idempotencyKey: "conv-7:msg-3")

    // MARK: custom/send

    func testCustomSendRequest() throws {
        let request = try XCTUnwrap(try W.officialAccount().render(message, credential: "ACCESS+TOKEN/1=").request)
        XCTAssertEqual(request.method, "POST")
        XCTAssertEqual(request.url, W.apiBase + "/cgi-bin/message/custom/send?access_token=ACCESS%2BTOKEN%2F1%3D")
        XCTAssertEqual(request.headers, ["content-type": "application/json", "x-switchboard-step": "0"], "step 0 of the reply's plan")
        struct Body: Decodable, Equatable {
            struct Text: Decodable, Equatable { var content: String }
            var touser: String
            var msgtype: String
            var text: Text
        }
        XCTAssertEqual(try JSONDecoder().decode(Body.self, from: Data(request.body)),
                       Body(touser: W.openId, msgtype: "text", text: .init(content: "您好，请问有什么可以帮您？\n\n工作时间 9:00–18:00")))
        let noText = OutboundMessage(conversationId: "c", messageId: "m", to: W.openId, parts: [.text("")], idempotencyKey: "c:m")
        assertChannelError(try W.officialAccount().render(noText, credential: "T"), \.isUnrenderable, "unrenderable")
    }

    func testInterpretMapsEveryAnswer() throws {
        let adapter = try W.officialAccount()
        let request = try XCTUnwrap(try adapter.render(message, credential: "T").request)
        func outcome(_ status: Int, _ body: String, error: String? = nil) -> DeliveryOutcome {
            adapter.interpret(TransportResponse(status: status, body: Array(body.utf8), error: error), to: request, for: message, credential: "T")
        }
        XCTAssertEqual(outcome(200, #"{"errcode":0,"errmsg":"ok"}"#), .sent(providerId: nil))
        XCTAssertEqual(outcome(200, "{}"), .sent(providerId: nil), "no errcode is success")
        for code in [40001, 42001, 40014] {
            XCTAssertEqual(outcome(200, #"{"errcode":\#(code),"errmsg":"token"}"#), .refreshCredentials(reason: "errcode \(code): token"))
        }
        XCTAssertEqual(outcome(200, #"{"errcode":45015,"errmsg":"response out of time limit"}"#),
                       .failed(reason: "errcode 45015: response out of time limit", agentHint: "超出48小时客服消息窗口，可改用短信联系"))
        XCTAssertEqual(outcome(200, #"{"errcode":45047,"errmsg":"out of response count limit"}"#),
                       .failed(reason: "errcode 45047: out of response count limit", agentHint: WeChatAPIError.quotaHint))
        XCTAssertEqual(outcome(200, #"{"errcode":-1,"errmsg":"system error"}"#), .retry(reason: "errcode -1: system error"))
        XCTAssertEqual(outcome(200, #"{"errcode":45009,"errmsg":"reach max api daily quota limit"}"#),
                       .retry(reason: "errcode 45009: reach max api daily quota limit"))
        XCTAssertEqual(outcome(200, #"{"errcode":40003,"errmsg":"invalid openid"}"#), .failed(reason: "errcode 40003: invalid openid"))
        XCTAssertEqual(outcome(502, "<html>bad gateway</html>"), .retry(reason: "HTTP 502 from the WeChat API"))
        XCTAssertEqual(outcome(503, #"{"errcode":0}"#), .retry(reason: "HTTP 503 from the WeChat API"), "a 5xx is never sent")
        XCTAssertEqual(outcome(429, ""), .retry(reason: "HTTP 429 from the WeChat API"))
        XCTAssertEqual(outcome(404, ""), .failed(reason: "HTTP 404 from the WeChat API"))
        XCTAssertEqual(outcome(0, "", error: "connection refused"), .retry(reason: "no response from the WeChat API (connection refused)"))
        guard case .retry = outcome(200, "<html>captive portal</html>") else { return XCTFail("a non-JSON 2xx is retried, never sent") }
        guard case .retry = outcome(200, "") else { return XCTFail("an empty 2xx is retried, never sent") }
    }

    // MARK: Access tokens

    private func credentials(_ adapter: any ChannelAdapter) throws -> any CredentialSource {
        try XCTUnwrap(adapter.credentials)
    }

    func testOfficialAccountStableTokenRequest() throws {
        let source = try credentials(try W.officialAccount())
        XCTAssertEqual(source.cacheKey, "wechat:" + W.oaAppId)
        let normal = source.tokenRequest(force: false)
        XCTAssertEqual(normal.method, "POST")
        XCTAssertEqual(normal.url, W.apiBase + "/cgi-bin/stable_token")
        XCTAssertEqual(normal.headers["content-type"], "application/json")
        XCTAssertEqual(String(decoding: normal.body, as: UTF8.self),
                       #"{"grant_type":"client_credential","appid":"wxd0c1a9e4f2b38765","secret":"demo-wx-app-secret"}"#)
        XCTAssertEqual(String(decoding: source.tokenRequest(force: true).body, as: UTF8.self),
                       #"{"grant_type":"client_credential","appid":"wxd0c1a9e4f2b38765","secret":"demo-wx-app-secret","force_refresh":true}"#)
    }

    func testWeComGetTokenRequest() throws {
        let source = try credentials(try W.wecom())
        for force in [false, true] {
            let request = source.tokenRequest(force: force)
            XCTAssertEqual(request.method, "GET")
            XCTAssertEqual(request.url, W.apiBase + "/cgi-bin/gettoken?corpid=wx5823bf96d3bd56c7&corpsecret=demo-kf-secret")
            XCTAssertEqual(request.body, [])
        }
        // The key names the corp and the secret's digest, never the secret itself.
        XCTAssertTrue(source.cacheKey.hasPrefix("wecom:wx5823bf96d3bd56c7:"), source.cacheKey)
        XCTAssertEqual(source.cacheKey.count, "wecom:wx5823bf96d3bd56c7:".count + 12)
        XCTAssertFalse(source.cacheKey.contains("demo-kf-secret"))
        XCTAssertEqual(try credentials(try W.wecom()).cacheKey, source.cacheKey, "stable")
        XCTAssertNotEqual(try credentials(try W.wecom(["secret": "another-app-secret"])).cacheKey, source.cacheKey,
                          "another application of the same corp has its own token")
    }

    func testParseToken() throws {
        let oa = try credentials(try W.officialAccount()), wecom = try credentials(try W.wecom())
        func parse(_ source: any CredentialSource, _ status: Int, _ body: String) -> Result<IssuedCredential, CredentialError> {
            source.parseToken(TransportResponse(status: status, body: Array(body.utf8), error: status == 0 ? "timed out" : nil))
        }
        func retryable(_ r: Result<IssuedCredential, CredentialError>) -> Bool? {
            if case .failure(let e) = r { return e.retryable }
            return nil
        }
        XCTAssertEqual(try parse(oa, 200, #"{"access_token":"ACCESS_TOKEN","expires_in":7200}"#).get(),
                       IssuedCredential(token: "ACCESS_TOKEN", expiresInSeconds: 7200))
        XCTAssertEqual(try parse(wecom, 200, #"{"errcode":0,"errmsg":"ok","access_token":"KF_TOKEN","expires_in":7200}"#).get(),
                       IssuedCredential(token: "KF_TOKEN", expiresInSeconds: 7200))
        // Not worth asking again until an operator fixes the settings.
        XCTAssertEqual(retryable(parse(oa, 200, #"{"errcode":40013,"errmsg":"invalid appid"}"#)), false)
        XCTAssertEqual(retryable(parse(oa, 200, #"{"errcode":40125,"errmsg":"invalid appsecret"}"#)), false)
        XCTAssertEqual(retryable(parse(wecom, 200, #"{"errcode":40001,"errmsg":"invalid secret"}"#)), false)
        XCTAssertEqual(retryable(parse(oa, 403, "")), false)
        // Worth asking again.
        XCTAssertEqual(retryable(parse(oa, 200, #"{"errcode":-1,"errmsg":"system error"}"#)), true)
        XCTAssertEqual(retryable(parse(wecom, 200, #"{"errcode":45009,"errmsg":"api freq out of limit"}"#)), true)
        XCTAssertEqual(retryable(parse(oa, 503, "")), true)
        XCTAssertEqual(retryable(parse(oa, 429, "")), true)
        XCTAssertEqual(retryable(parse(oa, 0, "")), true)
        XCTAssertEqual(retryable(parse(oa, 200, "<html/>")), true)
        XCTAssertEqual(retryable(parse(oa, 200, #"{"access_token":"","expires_in":7200}"#)), true)
        XCTAssertEqual(retryable(parse(oa, 200, #"{"access_token":"T","expires_in":0}"#)), true)
        if case .failure(let e) = parse(oa, 200, #"{"errcode":40013,"errmsg":"invalid appid"}"#) {
            XCTAssertEqual(e.message, "the token API refused: errcode 40013: invalid appid")
        }
    }

    // MARK: Media

    private static let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10] + Array("JFIF".utf8)
    private static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]
    private static let gif: [UInt8] = Array("GIF89a".utf8) + [1, 0, 1, 0]
    private static let amr: [UInt8] = Array("#!AMR\n".utf8) + [0x3C, 0x48]
    private static let mp4: [UInt8] = [0, 0, 0, 0x18] + Array("ftypmp42".utf8) + [0, 0, 0, 0]

    func testMediaFetchRequestAndSniffing() throws {
        let media = try XCTUnwrap(try W.officialAccount().media)
        let request = media.fetchRequest(mediaId: "MEDIA/ID+1", credential: "AT")
        XCTAssertEqual(request.method, "GET")
        XCTAssertEqual(request.url, W.apiBase + "/cgi-bin/media/get?access_token=AT&media_id=MEDIA%2FID%2B1")
        let cases: [([UInt8], String, String?)] = [
            (Self.jpeg, "image/jpeg", "image.jpg"), (Self.png, "image/png", "image.png"), (Self.gif, "image/gif", "image.gif"),
            (Self.amr, "audio/amr", "voice.amr"), (Self.mp4, "video/mp4", "video.mp4"), ([1, 2, 3, 4, 5], "application/octet-stream", nil),
        ]
        for (bytes, mime, name) in cases {
            XCTAssertEqual(media.parseMedia(TransportResponse(status: 200, body: bytes)), .media(bytes: bytes, mime: mime, name: name), mime)
        }
        XCTAssertEqual(try XCTUnwrap(try W.wecom().media).fetchRequest(mediaId: "M", credential: "KF").url,
                       W.apiBase + "/cgi-bin/media/get?access_token=KF&media_id=M")
    }

    func testMediaErrors() throws {
        let oa = try XCTUnwrap(try W.officialAccount().media), wecom = try XCTUnwrap(try W.wecom().media)
        func json(_ s: String) -> TransportResponse { TransportResponse(status: 200, body: Array(s.utf8)) }
        XCTAssertEqual(oa.parseMedia(json(#"{"errcode":40007,"errmsg":"invalid media_id"}"#)), .failed("errcode 40007: invalid media_id"))
        XCTAssertEqual(oa.parseMedia(json(#"{"errcode":42001,"errmsg":"access_token expired"}"#)), .refreshCredentials("errcode 42001: access_token expired"))
        XCTAssertEqual(oa.parseMedia(json(#"{"errcode":40001,"errmsg":"invalid credential"}"#)), .refreshCredentials("errcode 40001: invalid credential"))
        // WeCom's 40001 is a wrong secret: a new token cannot help.
        XCTAssertEqual(wecom.parseMedia(json(#"{"errcode":40001,"errmsg":"invalid secret"}"#)), .failed("errcode 40001: invalid secret"))
        XCTAssertEqual(wecom.parseMedia(json(#"{"errcode":40014,"errmsg":"invalid access_token"}"#)), .refreshCredentials("errcode 40014: invalid access_token"))
        XCTAssertEqual(oa.parseMedia(json(#"{"video_url":"http://example.org/v.mp4"}"#)), .failed("media/get answered JSON without media"))
        XCTAssertEqual(oa.parseMedia(TransportResponse(status: 200, body: [])), .failed("media/get answered an empty body"))
        XCTAssertEqual(oa.parseMedia(TransportResponse(status: 404, body: Self.jpeg)), .failed("media/get answered HTTP 404"))
        XCTAssertEqual(oa.parseMedia(TransportResponse(status: 0, body: [], error: "timed out")), .failed("no answer from media/get: timed out"))
    }
}
