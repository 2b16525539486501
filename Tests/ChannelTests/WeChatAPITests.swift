import SwitchboardCore
import WeChatChannel
import XCTest

/// Official Account and WeCom 微信客服 API bodies, answers and error classification, against
/// the request and answer examples of the docs.
final class WeChatAPITests: XCTestCase {
    private func json(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// Parses a body with Foundation, to check it is valid JSON with the expected values.
    private func object(_ body: String) throws -> NSDictionary {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? NSDictionary)
    }

    // MARK: Official Account

    func testStableTokenBody() throws {
        XCTAssertEqual(OfficialAccountAPI.stableTokenBody(appId: "wxd0c1a9e4f2b38765", secret: "s\"ecret"),
                       #"{"grant_type":"client_credential","appid":"wxd0c1a9e4f2b38765","secret":"s\"ecret"}"#)
        XCTAssertEqual(try object(OfficialAccountAPI.stableTokenBody(appId: "a", secret: "b", forceRefresh: true))["force_refresh"] as? Bool, true)
    }

    func testStableTokenAnswer() throws {
        XCTAssertEqual(try OfficialAccountAPI.parseStableToken(json(#"{"access_token":"ACCESS_TOKEN","expires_in":7200}"#)),
                       .success(.init(token: "ACCESS_TOKEN", expiresInSeconds: 7200)))
        XCTAssertEqual(try OfficialAccountAPI.parseStableToken(json(#"{"errcode":40013,"errmsg":"invalid appid"}"#)),
                       .failure(WeChatAPIStatus(errcode: 40013, errmsg: "invalid appid")))
        assertChannelError(try OfficialAccountAPI.parseStableToken(json(#"{"expires_in":7200}"#)), \.isMalformed, "no token")
        assertChannelError(try OfficialAccountAPI.parseStableToken(json(#"{"access_token":"T","expires_in":0}"#)), \.isMalformed, "bad expiry")
        assertChannelError(try OfficialAccountAPI.parseStableToken(json("<html>")), \.isMalformed, "not JSON")
        assertChannelError(try OfficialAccountAPI.parseStableToken([0xFF, 0xFE]), \.isMalformed, "not UTF-8")
    }

    func testCustomSendBodies() throws {
        XCTAssertEqual(OfficialAccountAPI.customSendText(to: "OPENID", content: "您好\n\"引号\""),
                       #"{"touser":"OPENID","msgtype":"text","text":{"content":"您好\n\"引号\""}}"#)
        XCTAssertEqual(OfficialAccountAPI.customSendImage(to: "OPENID", mediaId: "MEDIA_ID"),
                       #"{"touser":"OPENID","msgtype":"image","image":{"media_id":"MEDIA_ID"}}"#)
        XCTAssertEqual((try object(OfficialAccountAPI.customSendText(to: "o", content: "你好"))["text"] as? NSDictionary)?["content"] as? String, "你好")
    }

    func testOfficialAccountErrorClassification() throws {
        let classify = { (code: Int) in WeChatAPIError.classify(errcode: code, errmsg: "m", platform: .officialAccount) }
        XCTAssertEqual(classify(0), .ok)
        for code in [40001, 40014, 42001] { XCTAssertEqual(classify(code), .refreshToken, "\(code)") }
        for code in [-1, 45009, 45011] { XCTAssertEqual(classify(code), .retry(reason: "errcode \(code): m"), "\(code)") }
        XCTAssertEqual(classify(45015), .failedWithHint(reason: "errcode 45015: m", agentHint: "超出48小时客服消息窗口，可改用短信联系"))
        guard case .failedWithHint(_, let quota) = classify(45047) else { return XCTFail("45047 must carry a hint") }
        XCTAssertTrue(quota.contains("客服消息条数已达上限") && quota.contains("短信"), quota)
        XCTAssertEqual(classify(40003), .failed(reason: "errcode 40003: m"))
        XCTAssertEqual(classify(95018), .failed(reason: "errcode 95018: m"), "a WeCom code means nothing on the Official Account")
        XCTAssertEqual(try WeChatAPIStatus.parse(json(#"{"errcode":45015,"errmsg":"response out of time limit or subscription is canceled"}"#))
                        .disposition(.officialAccount),
                       .failedWithHint(reason: "errcode 45015: response out of time limit or subscription is canceled", agentHint: WeChatAPIError.windowHint))
        XCTAssertEqual(try WeChatAPIStatus.parse(json(#"{"errcode":0,"errmsg":"ok"}"#)).disposition(.officialAccount), .ok)
        XCTAssertEqual(try WeChatAPIStatus.parse(json("{}")), WeChatAPIStatus(errcode: 0, errmsg: ""))
    }

    func testWeComErrorClassification() {
        let classify = { (code: Int) in WeChatAPIError.classify(errcode: code, errmsg: "m", platform: .wecom) }
        XCTAssertEqual(classify(0), .ok)
        for code in [40014, 42001] { XCTAssertEqual(classify(code), .refreshToken, "\(code)") }
        XCTAssertEqual(classify(40001), .failed(reason: "errcode 40001: m"), "WeCom 40001 is a bad secret: a new token cannot help")
        for code in [-1, 45009, 45033] { XCTAssertEqual(classify(code), .retry(reason: "errcode \(code): m"), "\(code)") }
        XCTAssertEqual(classify(95018), .failedWithHint(reason: "errcode 95018: m", agentHint: WeChatAPIError.kfSessionHint))
        XCTAssertEqual(classify(95016), .failedWithHint(reason: "errcode 95016: m", agentHint: WeChatAPIError.kfStateHint))
        XCTAssertEqual(classify(45015), .failed(reason: "errcode 45015: m"))
    }

    // MARK: WeCom 微信客服

    func testSyncMsgBody() {
        XCTAssertEqual(WeComKfAPI.syncMsgBody(cursor: "4gw7MepFLfgF2VC5npN", token: "ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR", openKfId: "wkxxxxxx"),
                       #"{"cursor":"4gw7MepFLfgF2VC5npN","token":"ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR","limit":1000,"open_kfid":"wkxxxxxx"}"#)
        XCTAssertEqual(WeComKfAPI.syncMsgBody(cursor: nil, token: nil, openKfId: "wk", limit: 5000), #"{"limit":1000,"open_kfid":"wk"}"#)
        XCTAssertEqual(WeComKfAPI.syncMsgBody(cursor: "", token: "t", openKfId: "wk", limit: 10), #"{"token":"t","limit":10,"open_kfid":"wk"}"#)
    }

    func testSendTextAndServiceStateBodies() throws {
        XCTAssertEqual(WeComKfAPI.sendTextBody(to: "EXTERNAL_USERID", openKfId: "OPEN_KFID", msgId: "MSGID", content: "你购买的物品已发货"),
                       #"{"touser":"EXTERNAL_USERID","open_kfid":"OPEN_KFID","msgid":"MSGID","msgtype":"text","text":{"content":"你购买的物品已发货"}}"#)
        XCTAssertNil(try object(WeComKfAPI.sendTextBody(to: "u", openKfId: "k", msgId: nil, content: "x"))["msgid"])
        XCTAssertEqual(WeComKfAPI.serviceStateTransBody(openKfId: "wk", externalUserId: "wm", serviceState: 4),
                       #"{"open_kfid":"wk","external_userid":"wm","service_state":4}"#)
        XCTAssertEqual(WeComKfAPI.serviceStateTransBody(openKfId: "wk", externalUserId: "wm", serviceState: 3, servicerUserId: "zhangsan"),
                       #"{"open_kfid":"wk","external_userid":"wm","service_state":3,"servicer_userid":"zhangsan"}"#)
    }

    func testTextChunksStayWithin2048BytesAndNeverSplitACharacter() {
        // 1,000 Chinese characters are 3,000 UTF-8 bytes: 682 characters (2,046 bytes) fit the first chunk.
        let chinese = String(repeating: "客服消息", count: 250)
        let chunks = WeComKfAPI.textChunks(chinese)
        XCTAssertEqual(chunks.map { $0.utf8.count }, [2046, 954])
        XCTAssertEqual(chunks.joined(), chinese)
        // Mixed ASCII shifts the boundary: 2 ASCII bytes then Chinese fill exactly 2,048.
        let mixed = "ab" + String(repeating: "中", count: 700)
        XCTAssertEqual(WeComKfAPI.textChunks(mixed).map { $0.utf8.count }, [2048, 54])
        XCTAssertEqual(WeComKfAPI.textChunks(mixed).joined(), mixed)
        // An emoji family (one character, 25 bytes) is never cut; a tiny limit cuts only between characters.
        let family = "👨‍👩‍👧‍👦"
        let small = WeComKfAPI.textChunks("a" + family + "b", maxBytes: 25)
        XCTAssertEqual(small, ["a", family, "b"])
        // A character longer than the limit is cut between scalars, each piece valid UTF-8.
        XCTAssertEqual(WeComKfAPI.textChunks(family, maxBytes: 8), ["👨\u{200D}", "👩\u{200D}", "👧\u{200D}", "👦"])
        XCTAssertEqual(WeComKfAPI.textChunks(""), [])
        XCTAssertEqual(WeComKfAPI.textChunks("短"), ["短"])
        XCTAssertEqual(WeComKfAPI.textChunks(String(repeating: "a", count: 2048)).count, 1)
        XCTAssertEqual(WeComKfAPI.textChunks(String(repeating: "a", count: 2049)).map(\.count), [2048, 1])
    }

    func testSyncMsgAnswer() throws {
        let body = #"""
        {"errcode":0,"errmsg":"ok","next_cursor":"4gw7MepFLfgF2VC5npN","has_more":1,"msg_list":[
          {"msgid":"from_msgid_4622416642169452483","open_kfid":"wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q","external_userid":"wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw",
           "send_time":1615478585,"origin":3,"msgtype":"text","text":{"content":"你好，快递到哪了？","menu_id":"101"}},
          {"msgid":"m2","open_kfid":"wk","external_userid":"wm","send_time":1615478586,"origin":3,"msgtype":"image","image":{"media_id":"2-G6nrLmr5EC3MMb_-zK1dDdzmd0p7cNliYu9V5w7o8K0"}},
          {"msgid":"m3","open_kfid":"wk","external_userid":"wm","send_time":1615478587,"origin":3,"msgtype":"voice","voice":{"media_id":"v1"}},
          {"msgid":"m4","open_kfid":"wk","external_userid":"wm","send_time":1615478588,"origin":3,"msgtype":"video","video":{"media_id":"vd1"}},
          {"msgid":"m5","open_kfid":"wk","external_userid":"wm","send_time":1615478589,"origin":3,"msgtype":"file","file":{"media_id":"f1"}},
          {"msgid":"m6","open_kfid":"wk","external_userid":"wm","send_time":1615478590,"origin":3,"msgtype":"location",
           "location":{"latitude":23.106021881103516,"longitude":113.32232666015625,"name":"广州国际媒体港(广州市海珠区)","address":"广东省广州市海珠区滨江东路"}},
          {"msgid":"m7","open_kfid":"wk","external_userid":"wm","send_time":1615478591,"origin":3,"msgtype":"link",
           "link":{"title":"TITLE","desc":"DESC","url":"URL","pic_url":"PIC_URL"}},
          {"msgid":"m8","send_time":1615478592,"origin":4,"msgtype":"event",
           "event":{"event_type":"enter_session","open_kfid":"wk","external_userid":"wm","scene":"123","welcome_code":"aaaaaa"}},
          {"msgid":"m9","open_kfid":"wk","external_userid":"wm","send_time":1615478593,"origin":5,"servicer_userid":"zhangsan","msgtype":"text","text":{"content":"我来处理"}},
          {"msgid":"m10","open_kfid":"wk","external_userid":"wm","send_time":1615478594,"origin":3,"msgtype":"business_card","business_card":{"userid":"u"}}
        ]}
        """#
        guard case .success(let page) = try WeComKfSyncPage.parse(json(body)) else { return XCTFail("expected a page") }
        XCTAssertEqual(page.nextCursor, "4gw7MepFLfgF2VC5npN")
        XCTAssertTrue(page.hasMore)
        XCTAssertEqual(page.messages.count, 10)
        let first = page.messages[0]
        XCTAssertEqual(first.msgId, "from_msgid_4622416642169452483")
        XCTAssertEqual(first.openKfId, "wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q")
        XCTAssertEqual(first.externalUserId, "wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw")
        XCTAssertEqual(first.sendTime, 1_615_478_585)
        XCTAssertEqual(first.content, .text("你好，快递到哪了？"))
        XCTAssertEqual(first.messageParts, [.text("你好，快递到哪了？")])
        XCTAssertEqual(page.messages[1].content, .image(mediaId: "2-G6nrLmr5EC3MMb_-zK1dDdzmd0p7cNliYu9V5w7o8K0"))
        XCTAssertEqual(page.messages[1].mediaId, "2-G6nrLmr5EC3MMb_-zK1dDdzmd0p7cNliYu9V5w7o8K0")
        XCTAssertNil(page.messages[1].messageParts)
        XCTAssertEqual(page.messages[2].content, .voice(mediaId: "v1"))
        XCTAssertEqual(page.messages[3].content, .video(mediaId: "vd1"))
        XCTAssertEqual(page.messages[4].content, .file(mediaId: "f1"))
        XCTAssertEqual(page.messages[5].messageParts,
                       [.location(lat: 23.106021881103516, lon: 113.32232666015625, label: "广州国际媒体港(广州市海珠区) 广东省广州市海珠区滨江东路")])
        XCTAssertEqual(page.messages[6].messageParts, [.text("TITLE\nDESC\nURL")])
        XCTAssertEqual(page.messages[7].content, .event(type: "enter_session"))
        XCTAssertEqual(page.messages[7].externalUserId, "wm", "an event's customer comes from the event object")
        XCTAssertEqual(page.messages[8].servicerUserId, "zhangsan")
        XCTAssertEqual(page.messages[9].content, .unsupported(msgType: "business_card"))
        XCTAssertEqual(page.messages.map(\.isFromCustomer), [true, true, true, true, true, true, true, false, false, true])
    }

    func testSyncMsgAnswerEdgeCases() throws {
        guard case .success(let empty) = try WeComKfSyncPage.parse(json(#"{"errcode":0,"errmsg":"ok","next_cursor":"c2","has_more":0,"msg_list":[]}"#)) else {
            return XCTFail("expected a page")
        }
        XCTAssertEqual(empty, WeComKfSyncPage(nextCursor: "c2", hasMore: false, messages: []))
        guard case .success(let flag) = try WeComKfSyncPage.parse(json(#"{"errcode":0,"next_cursor":"c","has_more":true}"#)) else { return XCTFail() }
        XCTAssertTrue(flag.hasMore)
        XCTAssertEqual(try WeComKfSyncPage.parse(json(#"{"errcode":95007,"errmsg":"invalid msg token"}"#)),
                       .failure(WeChatAPIStatus(errcode: 95007, errmsg: "invalid msg token")))
        let broken = [
            (#"{"errcode":0,"msg_list":[{"msgid":"m","origin":3,"msgtype":"text","external_userid":"wm"}]}"#, "kf/sync_msg answer: msg_list[0] (text) has no 'text'"),
            (#"{"errcode":0,"msg_list":[{"msgid":"m","origin":3,"msgtype":"image","external_userid":"wm","image":{"media_id":""}}]}"#,
             "kf/sync_msg answer: msg_list[0] (image) has no 'image.media_id'"),
            (#"{"errcode":0,"msg_list":[{"msgid":"m","origin":3,"msgtype":"text","text":{"content":"x"}}]}"#,
             "kf/sync_msg answer: msg_list[0] (text) has no 'external_userid'"),
            (#"{"errcode":0,"msg_list":[{"origin":3,"msgtype":"text"}]}"#, "kf/sync_msg answer: missing field 'msgid'"),
            (#"{"errcode":0,"msg_list":[{"msgid":"m","origin":3,"msgtype":"location","external_userid":"wm","location":{"latitude":91,"longitude":0}}]}"#,
             "kf/sync_msg answer: msg_list[0] location out of range"),
            (#"{"errcode":0,"has_more":"yes"}"#, "kf/sync_msg answer: field 'has_more' has the wrong type"),
            ("[]", "kf/sync_msg answer: body is not the expected JSON"),
            ("{", "kf/sync_msg answer: body is not the expected JSON"),
        ]
        for (text, message) in broken {
            XCTAssertEqual(assertChannelError(try WeComKfSyncPage.parse(json(text)), \.isMalformed, message), message)
        }
    }
}
