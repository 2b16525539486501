import Foundation
import SwitchboardCore
import WeChatChannel
import XCTest

/// The WeCom customer-service adapter through `receive`, `render`/`interpret` and its puller
/// (DESIGN §10.3): the encrypted URL check, `kf_msg_or_event` → fetch, `send_msg` in pieces and
/// `sync_msg` pages.
final class WeComKfAdapterTests: XCTestCase {
    private typealias W = WeChatAdapters

    // MARK: Callbacks

    private func echoRequest(echostr: String, signature: String, _ f: WeChatFixtures.Signed) -> HTTPRequest {
        HTTPRequest(method: "GET", subpath: "wechat",
                    query: W.query([("msg_signature", signature), ("timestamp", f.timestamp), ("nonce", f.nonce), ("echostr", echostr)]))
    }

    func testURLVerificationDecryptsTheEchostr() throws {
        let f = try WeChatFixtures.signed("wecom-echostr.json")
        let batch = try W.wecom().receive(echoRequest(echostr: try XCTUnwrap(f.echostr), signature: try XCTUnwrap(f.msg_signature), f))
        XCTAssertEqual(batch.events, [])
        XCTAssertEqual(batch.response, HTTPResponse(contentType: "text/plain; charset=utf-8", text: "1616140317555161061"))
        assertChannelError(try W.wecom().receive(echoRequest(echostr: try XCTUnwrap(f.echostr), signature: String(repeating: "1", count: 40), f)),
                           \.isBadSignature, "badSignature")
        assertChannelError(try W.wecom(["corp_id": "wwother"]).receive(echoRequest(echostr: try XCTUnwrap(f.echostr),
                                                                                    signature: try XCTUnwrap(f.msg_signature), f)),
                           \.isMalformed, "malformed (another corp)")
    }

    func testEchostrWhosePlusArrivesAsASpace() throws {
        // An echostr sent with a literal `+` is decoded to a space on the way in; the signature
        // covers the `+`. Find 16 random bytes whose ciphertext has a `+` in it.
        let f = try WeChatFixtures.signed("wecom-echostr.json")
        let crypto = try WeChatCrypto(encodingAESKey: W.wecomKey)
        var echostr = ""
        for seed in 0..<200 where !echostr.contains("+") {
            echostr = crypto.encrypt(xml: Array("4242424242".utf8), receiveId: W.wecomCorp, random16: [UInt8](repeating: UInt8(seed), count: 16))
        }
        XCTAssertTrue(echostr.contains("+"))
        let signature = WeChatSignature.msgSignature(token: W.wecomToken, timestamp: f.timestamp, nonce: f.nonce, encrypt: echostr)
        let asSent = echoRequest(echostr: echostr.replacingOccurrences(of: "+", with: " "), signature: signature, f)
        XCTAssertEqual(try W.wecom().receive(asSent).response.text, "4242424242")
        // Percent-encoded properly, it works as well.
        XCTAssertEqual(try W.wecom().receive(echoRequest(echostr: echostr, signature: signature, f)).response.text, "4242424242")
    }

    func testKfMsgOrEventBecomesAFetchOfItsOpenKfId() throws {
        let f = try WeChatFixtures.signed("wecom-kf-event.json")
        let request = W.post(query: [("msg_signature", try XCTUnwrap(f.msg_signature)), ("timestamp", f.timestamp), ("nonce", f.nonce)],
                             body: Array(try XCTUnwrap(f.body).utf8))
        let batch = try W.wecom().receive(request)
        XCTAssertEqual(batch.events, [.fetch(PullTrigger(source: W.openKfId, token: "ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR"))])
        XCTAssertEqual(batch.response.text, "success")

        var forged = request
        forged.query = W.query([("msg_signature", String(repeating: "f", count: 40)), ("timestamp", f.timestamp), ("nonce", f.nonce)])
        assertChannelError(try W.wecom().receive(forged), \.isBadSignature, "badSignature")
        forged.query = W.query([("timestamp", f.timestamp), ("nonce", f.nonce)])
        assertRejected(try W.wecom().receive(forged), status: 403, "no msg_signature")
        forged.query = request.query + "&nonce=" + f.nonce
        assertRejected(try W.wecom().receive(forged), status: 400, "a repeated nonce")
    }

    func testOtherEventsAreAckedWithoutEvents() throws {
        let enterAgent = "<xml><ToUserName><![CDATA[\(W.wecomCorp)]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName>"
            + "<CreateTime>1714112447</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[enter_agent]]></Event>"
            + "<AgentID>1000002</AgentID></xml>"
        let batch = try W.wecom().receive(try W.wecomPost(enterAgent))
        XCTAssertEqual(batch.events, [])
        XCTAssertEqual(batch.response.text, "success")
    }

    func testOpenKfIdSettingFiltersTheCallbacks() throws {
        let request = try W.wecomPost(W.kfEventXML())
        XCTAssertEqual(try W.wecom(["open_kfid": W.openKfId]).receive(request).events, [.fetch(PullTrigger(source: W.openKfId, token: "ENCsyncToken"))])
        let other = try W.wecom(["open_kfid": "wkSomeOtherAccount"]).receive(request)
        XCTAssertEqual(other.events, [], "another customer-service account's news is not pulled by this channel")
        XCTAssertEqual(other.response.text, "success")
    }

    func testHostileDecryptedXMLIs400() throws {
        let laughs = "<!DOCTYPE xml [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]><xml><ToUserName>&b;</ToUserName></xml>"
        assertRejected(try W.wecom().receive(try W.wecomPost(laughs)), status: 400, "hostile XML inside the encryption")
    }

    // MARK: send_msg in pieces

    private static let reply: String = {
        // 5,000 bytes of Chinese (3 bytes a character) with an emoji and ASCII mixed in.
        var text = ""
        while text.utf8.count < 4_990 { text += "您好，您的快递已到达驿站，请凭取件码取件。😀 OK " }
        return text
    }()

    private func outbound(_ text: String = reply, replyFrom: String? = W.openKfId, key: String = "conv-1:msg-9") -> OutboundMessage {
        OutboundMessage(conversationId: "conv-1", messageId: "msg-9", to: "wmExternalUser01", parts: [.text(text)], idempotencyKey: key,
                        replyFrom: replyFrom)
    }

    private struct SendBody: Decodable, Equatable {
        struct Text: Decodable, Equatable { var content: String }
        var touser: String
        var open_kfid: String
        var msgid: String
        var msgtype: String
        var text: Text
    }

    private let ok = TransportResponse(status: 200, body: Array(#"{"errcode":0,"errmsg":"ok","msgid":"MSG_FROM_WECOM"}"#.utf8))

    /// Every request of one delivery, following `.next` until the last piece.
    private func pieces(_ adapter: any ChannelAdapter, _ message: OutboundMessage) throws -> [OutboundHTTPRequest] {
        var request = try XCTUnwrap(try adapter.render(message, credential: "KF_TOKEN").request)
        var all = [request]
        while true {
            switch adapter.interpret(ok, to: request, for: message, credential: "KF_TOKEN") {
            case .next(let next, _):
                request = next
                all.append(next)
                guard all.count < 10 else { throw TestFailure("the pieces never end") }
            case .sent:
                return all
            case let other:
                throw TestFailure("unexpected \(other)")
            }
        }
    }

    func testLongReplyGoesInPiecesOfAtMost2048Bytes() throws {
        XCTAssertGreaterThanOrEqual(Self.reply.utf8.count, 4_990)
        let adapter = try W.wecom()
        let requests = try pieces(adapter, outbound())
        XCTAssertEqual(requests.count, 3)
        let bodies = try requests.map { try JSONDecoder().decode(SendBody.self, from: Data($0.body)) }
        for (request, body) in zip(requests, bodies) {
            XCTAssertEqual(request.method, "POST")
            XCTAssertEqual(request.url, W.apiBase + "/cgi-bin/kf/send_msg?access_token=KF_TOKEN")
            XCTAssertEqual(request.headers["content-type"], "application/json")
            XCTAssertEqual(body.touser, "wmExternalUser01")
            XCTAssertEqual(body.open_kfid, W.openKfId)
            XCTAssertEqual(body.msgtype, "text")
            XCTAssertLessThanOrEqual(body.text.content.utf8.count, 2048)
            XCTAssertFalse(body.text.content.isEmpty)
            XCTAssertLessThanOrEqual(body.msgid.utf8.count, 32)
            XCTAssertTrue(body.msgid.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }, body.msgid)
        }
        XCTAssertEqual(bodies.map(\.text.content).joined(), Self.reply)
        XCTAssertEqual(Set(bodies.map(\.msgid)).count, 3, "each piece has its own msgid")
        // Stable: the same delivery renders the same pieces with the same msgids.
        XCTAssertEqual(try pieces(adapter, outbound()), requests)
        // Another delivery gets other msgids.
        let other = try pieces(adapter, outbound(key: "conv-1:msg-10")).map { try JSONDecoder().decode(SendBody.self, from: Data($0.body)).msgid }
        XCTAssertTrue(Set(other).isDisjoint(with: bodies.map(\.msgid)))
    }

    func testAShortReplyIsOneRequestThatIsSent() throws {
        let adapter = try W.wecom()
        let message = outbound("好的")
        let request = try XCTUnwrap(try adapter.render(message, credential: "KF_TOKEN").request)
        XCTAssertEqual(try JSONDecoder().decode(SendBody.self, from: Data(request.body)).text.content, "好的")
        XCTAssertEqual(adapter.interpret(ok, to: request, for: message, credential: "KF_TOKEN"), .sent(providerId: nil))
    }

    func testAFailedPieceStopsTheDelivery() throws {
        let adapter = try W.wecom()
        let message = outbound()
        let first = try XCTUnwrap(try adapter.render(message, credential: "KF_TOKEN").request)
        let busy = TransportResponse(status: 200, body: Array(#"{"errcode":-1,"errmsg":"system busy"}"#.utf8))
        XCTAssertEqual(adapter.interpret(busy, to: first, for: message, credential: "KF_TOKEN"), .retry(reason: "errcode -1: system busy"))
        let expired = TransportResponse(status: 200, body: Array(#"{"errcode":42001,"errmsg":"access_token expired"}"#.utf8))
        XCTAssertEqual(adapter.interpret(expired, to: first, for: message, credential: "KF_TOKEN"),
                       .refreshCredentials(reason: "errcode 42001: access_token expired"))
        let session = TransportResponse(status: 200, body: Array(#"{"errcode":95018,"errmsg":"send msg session status invalid"}"#.utf8))
        XCTAssertEqual(adapter.interpret(session, to: first, for: message, credential: "KF_TOKEN"),
                       .failed(reason: "errcode 95018: send msg session status invalid", agentHint: WeChatAPIError.kfSessionHint))
    }

    func testTheSettingsOpenKfIdIsTheFallbackAndNoneIsUnrenderable() throws {
        let fallback = try W.wecom(["open_kfid": "wkConfigured"])
        let request = try XCTUnwrap(try fallback.render(outbound("hi", replyFrom: nil), credential: "T").request)
        XCTAssertEqual(try JSONDecoder().decode(SendBody.self, from: Data(request.body)).open_kfid, "wkConfigured")
        // The conversation's own account wins over the setting.
        let own = try XCTUnwrap(try fallback.render(outbound("hi"), credential: "T").request)
        XCTAssertEqual(try JSONDecoder().decode(SendBody.self, from: Data(own.body)).open_kfid, W.openKfId)

        assertChannelError(try W.wecom().render(outbound("hi", replyFrom: nil), credential: "T"), \.isUnrenderable, "unrenderable (no open_kfid)")
        assertChannelError(try W.wecom().render(OutboundMessage(conversationId: "c", messageId: "m", to: "wm1", parts: [.text("")],
                                                                idempotencyKey: "c:m", replyFrom: W.openKfId), credential: "T"),
                           \.isUnrenderable, "unrenderable (no text)")
    }

    // MARK: The puller

    private func puller(_ changes: [String: String?] = [:]) throws -> any ChannelPuller {
        try XCTUnwrap(try W.wecom(changes).puller)
    }

    private struct SyncBody: Decodable, Equatable {
        var cursor: String?
        var token: String?
        var limit: Int
        var open_kfid: String
    }

    func testPageRequest() throws {
        let trigger = PullTrigger(source: W.openKfId, token: "ENCsyncToken")
        let first = try puller().pageRequest(trigger: trigger, cursor: nil, credential: "KF_TOKEN")
        XCTAssertEqual(first.method, "POST")
        XCTAssertEqual(first.url, W.apiBase + "/cgi-bin/kf/sync_msg?access_token=KF_TOKEN")
        XCTAssertEqual(try JSONDecoder().decode(SyncBody.self, from: Data(first.body)),
                       SyncBody(cursor: nil, token: "ENCsyncToken", limit: 1000, open_kfid: W.openKfId))
        let next = try puller().pageRequest(trigger: trigger, cursor: "4gw7MepFLfgF2VC5npN", credential: "KF_TOKEN")
        XCTAssertEqual(try JSONDecoder().decode(SyncBody.self, from: Data(next.body)),
                       SyncBody(cursor: "4gw7MepFLfgF2VC5npN", token: "ENCsyncToken", limit: 1000, open_kfid: W.openKfId))
    }

    private static let page = """
    {"errcode":0,"errmsg":"ok","next_cursor":"NEXT_CURSOR_2","has_more":1,"msg_list":[
     {"msgid":"m-text","open_kfid":"wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q","external_userid":"wmCustomer1","send_time":1714112450,"origin":3,
      "msgtype":"text","text":{"content":"我的快递到哪了？"}},
     {"msgid":"m-servicer","open_kfid":"wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q","external_userid":"wmCustomer1","send_time":1714112451,"origin":5,
      "servicer_userid":"zhangsan","msgtype":"text","text":{"content":"客服从企业微信回复的消息"}},
     {"msgid":"m-event","send_time":1714112452,"origin":4,"msgtype":"event",
      "event":{"event_type":"enter_session","open_kfid":"wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q","external_userid":"wmCustomer1"}},
     {"msgid":"m-image","open_kfid":"wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q","external_userid":"wmCustomer1","send_time":1714112453,"origin":3,
      "msgtype":"image","image":{"media_id":"MEDIA_IMG_1"}},
     {"msgid":"m-voice","open_kfid":"wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q","external_userid":"wmCustomer2","send_time":1714112454,"origin":3,
      "msgtype":"voice","voice":{"media_id":"MEDIA_VOICE_1"}},
     {"msgid":"m-card","open_kfid":"wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q","external_userid":"wmCustomer2","send_time":1714112455,"origin":3,
      "msgtype":"business_card","business_card":{"userid":"lisi"}}
    ]}
    """

    func testParsePageKeepsOnlyCustomerMessages() throws {
        let trigger = PullTrigger(source: W.openKfId, token: "ENCsyncToken")
        let result = try puller().parsePage(TransportResponse(status: 200, body: Array(Self.page.utf8)), trigger: trigger)
        let one = Identity(kind: .wechat, address: "wmCustomer1"), two = Identity(kind: .wechat, address: "wmCustomer2")
        XCTAssertEqual(result, .page(events: [
            .message(InboundMessage(from: one, externalId: "m-text", parts: [.text("我的快递到哪了？")], to: W.openKfId)),
            .message(InboundMessage(from: one, externalId: "m-image",
                                    parts: [.media(url: "/v1/media/wx-kf/MEDIA_IMG_1", mime: "image/jpeg", name: nil, size: nil)],
                                    to: W.openKfId, mediaToFetch: ["MEDIA_IMG_1"])),
            .message(InboundMessage(from: two, externalId: "m-voice", parts: [.voicemail(recordingUrl: "/v1/media/wx-kf/MEDIA_VOICE_1", transcript: nil)],
                                    to: W.openKfId, mediaToFetch: ["MEDIA_VOICE_1"])),
            .message(InboundMessage(from: two, externalId: "m-card", parts: [.text("[不支持的消息类型：business_card]")], to: W.openKfId)),
        ], nextCursor: "NEXT_CURSOR_2", hasMore: true))
    }

    func testLastPageAndEmptyPage() throws {
        let trigger = PullTrigger(source: W.openKfId, token: nil)
        let last = #"{"errcode":0,"errmsg":"ok","next_cursor":"C3","has_more":0,"msg_list":[]}"#
        XCTAssertEqual(try puller().parsePage(TransportResponse(status: 200, body: Array(last.utf8)), trigger: trigger),
                       .page(events: [], nextCursor: "C3", hasMore: false))
        let noCursor = #"{"errcode":0,"errmsg":"ok","next_cursor":"","has_more":false,"msg_list":[]}"#
        XCTAssertEqual(try puller().parsePage(TransportResponse(status: 200, body: Array(noCursor.utf8)), trigger: trigger),
                       .page(events: [], nextCursor: nil, hasMore: false))
    }

    func testPageErrors() throws {
        let trigger = PullTrigger(source: W.openKfId, token: "T")
        let p = try puller()
        func parse(_ status: Int, _ body: String) -> PullPageResult {
            p.parsePage(TransportResponse(status: status, body: Array(body.utf8), error: status == 0 ? "connection refused" : nil), trigger: trigger)
        }
        XCTAssertEqual(parse(200, #"{"errcode":42001,"errmsg":"access_token expired"}"#), .refreshCredentials("errcode 42001: access_token expired"))
        XCTAssertEqual(parse(200, #"{"errcode":40014,"errmsg":"invalid access_token"}"#), .refreshCredentials("errcode 40014: invalid access_token"))
        XCTAssertEqual(parse(200, #"{"errcode":95007,"errmsg":"invalid msg token"}"#), .failed("errcode 95007: invalid msg token"))
        XCTAssertEqual(parse(200, #"{"errcode":-1,"errmsg":"system busy"}"#), .failed("errcode -1: system busy"))
        guard case .failed = parse(502, "<html>Bad Gateway</html>") else { return XCTFail("a 502 page is a failed pull") }
        guard case .failed = parse(0, "") else { return XCTFail("no answer is a failed pull") }
        guard case .failed = parse(200, "not json") else { return XCTFail("a non-JSON answer is a failed pull") }
        // A 5xx whose body happens to be JSON is still no page (it must not read as an empty last page).
        XCTAssertEqual(parse(500, "{}"), .failed("HTTP 500 from the WeChat API"))
        XCTAssertEqual(parse(503, #"{"errcode":0,"errmsg":"ok","has_more":0,"msg_list":[]}"#), .failed("HTTP 503 from the WeChat API"))
    }
}
