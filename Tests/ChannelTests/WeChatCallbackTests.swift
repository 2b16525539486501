import SwitchboardCore
import WeChatChannel
import XCTest

/// WeChatCallback over hand-written fixtures of every message type and event, taken from the
/// examples in the Official Account docs (接收普通消息 / 接收事件推送) and WeCom 微信客服
/// (kf_msg_or_event), read through WeChatXML as the adapter will.
final class WeChatCallbackTests: XCTestCase {
    private func callback(_ name: String) throws -> WeChatCallback {
        try WeChatCallback(fields: WeChatXML.fields(WeChatFixtures.bytes("callbacks/\(name)")))
    }

    private func callback(_ fields: [String: String]) throws -> WeChatCallback {
        try WeChatCallback(fields: fields)
    }

    func testText() throws {
        let c = try callback("text.xml")
        XCTAssertEqual(c.toUserName, "toUser")
        XCTAssertEqual(c.fromUserName, "fromUser")
        XCTAssertEqual(c.createTime, 1_348_831_860)
        XCTAssertEqual(c.msgId, "1234567890123456")
        XCTAssertEqual(c.body, .text(content: "this is a test"))
        XCTAssertEqual(c.messageParts, [.text("this is a test")])
        XCTAssertEqual(c.dedupKey, "msg:1234567890123456")
        XCTAssertNil(c.eventName)
        XCTAssertNil(c.mediaId)
    }

    func testImageVoiceVideoShortVideoCarryTheirMediaIds() throws {
        let image = try callback("image.xml")
        XCTAssertEqual(image.body, .image(picUrl: "this is a url", mediaId: "media_id"))
        XCTAssertEqual(image.mediaId, "media_id")
        XCTAssertNil(image.messageParts, "media is fetched by the adapter")

        let voice = try callback("voice.xml")
        XCTAssertEqual(voice.body, .voice(mediaId: "media_id", format: "Format", recognition: nil))
        XCTAssertNil(voice.recognition)
        let recognised = try callback("voice-recognition.xml")
        XCTAssertEqual(recognised.body, .voice(mediaId: "media_id", format: "Format", recognition: "腾讯微信团队"))
        XCTAssertEqual(recognised.recognition, "腾讯微信团队")
        XCTAssertEqual(recognised.mediaId, "media_id")

        XCTAssertEqual(try callback("video.xml").body, .video(mediaId: "media_id", thumbMediaId: "thumb_media_id"))
        XCTAssertEqual(try callback("shortvideo.xml").body, .shortVideo(mediaId: "media_id", thumbMediaId: "thumb_media_id"))
        XCTAssertEqual(try callback("shortvideo.xml").mediaId, "media_id")
        XCTAssertEqual(try callback("video.xml").dedupKey, "msg:1234567890123456")
    }

    func testLocationAndLinkMapToCoreParts() throws {
        let location = try callback("location.xml")
        XCTAssertEqual(location.body, .location(latitude: 23.134521, longitude: 113.358803, scale: 20, label: "位置信息"))
        XCTAssertEqual(location.messageParts, [.location(lat: 23.134521, lon: 113.358803, label: "位置信息")])

        let link = try callback("link.xml")
        XCTAssertEqual(link.body, .link(title: "公众平台官网链接", description: "公众平台官网链接", url: "url"))
        XCTAssertEqual(link.messageParts, [.text("公众平台官网链接\n公众平台官网链接\nurl")])
    }

    func testSubscribeUnsubscribeAndScan() throws {
        let plain = try callback("event-subscribe.xml")
        XCTAssertEqual(plain.body, .subscribe(scene: nil, ticket: nil))
        XCTAssertNil(plain.msgId)
        XCTAssertEqual(plain.dedupKey, "event:fromUser|123456789|subscribe")
        XCTAssertNil(plain.messageParts)

        let qr = try callback("event-subscribe-qrscene.xml")
        XCTAssertEqual(qr.body, .subscribe(scene: "123123", ticket: "TICKET"))

        let unsubscribe = try callback("event-unsubscribe.xml")
        XCTAssertEqual(unsubscribe.body, .unsubscribe)
        XCTAssertEqual(unsubscribe.dedupKey, "event:fromUser|123456789|unsubscribe")

        let scan = try callback("event-scan.xml")
        XCTAssertEqual(scan.body, .scan(scene: "SCENE_VALUE", ticket: "TICKET"))
        XCTAssertEqual(scan.dedupKey, "event:fromUser|123456789|SCAN")
        XCTAssertNotEqual(scan.dedupKey, unsubscribe.dedupKey, "two events in the same second differ by their name")
    }

    func testLocationReportAndMenuEvents() throws {
        XCTAssertEqual(try callback("event-location.xml").body, .reportLocation(latitude: 23.137466, longitude: 113.352425, precision: 119.385040))
        XCTAssertEqual(try callback("event-location.xml").eventName, "LOCATION")
        XCTAssertEqual(try callback("event-click.xml").body, .menuClick(key: "EVENTKEY"))
        XCTAssertEqual(try callback("event-view.xml").body, .menuView(url: "www.qq.com"))
        XCTAssertEqual(try callback("event-view.xml").dedupKey, "event:fromUser|123456789|VIEW")
    }

    func testWeComKfNotification() throws {
        let kf = try callback("wecom-kf-msg-or-event.xml")
        XCTAssertEqual(kf.toUserName, "ww12345678910")
        XCTAssertEqual(kf.fromUserName, "")
        XCTAssertEqual(kf.body, .kfMsgOrEvent(token: "ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR", openKfId: "wkxxxxxxx"))
        XCTAssertEqual(kf.dedupKey, "kf:wkxxxxxxx|1348831860|ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR")
        XCTAssertEqual(kf.eventName, "kf_msg_or_event")
    }

    func testWeComKfNotificationFromTheEncryptedWechatpyFixture() throws {
        let f = try WeChatFixtures.signed("wecom-kf-event.json")
        let body = try WeChatXML.fields(Array(try XCTUnwrap(f.body).utf8))
        let crypto = try WeChatCrypto(encodingAESKey: XCTUnwrap(f.encoding_aes_key))
        let plain = try crypto.decrypt(encrypt: XCTUnwrap(body["Encrypt"]), receiveId: XCTUnwrap(f.receive_id))
        let kf = try WeChatCallback(fields: WeChatXML.fields(plain))
        XCTAssertEqual(kf.body, .kfMsgOrEvent(token: "ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR", openKfId: "wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q"))
        XCTAssertEqual(kf.toUserName, f.receive_id)
    }

    func testCompatibleModeBodyReadsAsPlainMessage() throws {
        // Compatible mode carries the plain fields next to Encrypt: the plain ones parse as a message.
        let f = try WeChatFixtures.signed("oa-compatible.json")
        let c = try WeChatCallback(fields: WeChatXML.fields(Array(try XCTUnwrap(f.body).utf8)))
        XCTAssertEqual(c.body, .text(content: "兼容模式的消息"))
        XCTAssertEqual(c.msgId, "23637352235060881")
    }

    func testUnknownTypesAreUnsupportedNotErrors() throws {
        let page = try callback("unsupported-miniprogrampage.xml")
        XCTAssertEqual(page.body, .unsupported(msgType: "miniprogrampage", event: nil))
        XCTAssertEqual(page.dedupKey, "msg:1234567890123456")
        XCTAssertNil(page.messageParts)

        let scancode = try callback("event-scancode-push.xml")
        XCTAssertEqual(scancode.body, .unsupported(msgType: "event", event: "scancode_push"))
        XCTAssertEqual(scancode.dedupKey, "event:fromUser|1408090816|scancode_push")
    }

    func testMissingOrBadFieldsAreMalformed() throws {
        let base = ["ToUserName": "gh", "FromUserName": "o1", "CreateTime": "1714112445", "MsgType": "text", "Content": "hi", "MsgId": "1"]
        XCTAssertEqual(try callback(base).body, .text(content: "hi"))
        let cases: [([String: String], String)] = [
            (base.filter { $0.key != "ToUserName" }, "WeChat callback is missing <ToUserName>"),
            (base.filter { $0.key != "FromUserName" }, "WeChat callback is missing <FromUserName>"),
            (base.filter { $0.key != "MsgId" }, "WeChat callback is missing <MsgId>"),
            (base.filter { $0.key != "Content" }, "WeChat callback is missing <Content>"),
            (base.merging(["CreateTime": "-5"]) { $1 }, "WeChat callback <CreateTime> is not a whole number"),
            (base.merging(["CreateTime": "12a"]) { $1 }, "WeChat callback <CreateTime> is not a whole number"),
            (base.merging(["MsgType": ""]) { $1 }, "WeChat callback has an empty <MsgType>"),
            (base.merging(["MsgType": "image"]) { $1 }, "WeChat callback is missing <PicUrl>"),
            (base.merging(["MsgType": "location", "Location_X": "95", "Location_Y": "1", "Scale": "1", "Label": ""]) { $1 },
             "WeChat callback <Location_X> is out of range"),
            (base.merging(["MsgType": "location", "Location_X": "nan", "Location_Y": "1", "Scale": "1", "Label": ""]) { $1 },
             "WeChat callback <Location_X> is not a number"),
            (base.merging(["MsgType": "event", "Event": "CLICK"]) { $1 }, "WeChat callback is missing <EventKey>"),
            (base.merging(["MsgType": "event", "Event": "kf_msg_or_event", "Token": "t"]) { $1 }, "WeChat callback is missing <OpenKfId>"),
        ]
        for (fields, message) in cases {
            assertChannelError(try callback(fields), \.isMalformed, message)
            XCTAssertEqual(assertChannelError(try callback(fields), \.isMalformed, message), message)
        }
    }

    func testEmptyTextIsAllowedButEmptyEventKeyOnClickIsNot() throws {
        let base = ["ToUserName": "gh", "FromUserName": "o1", "CreateTime": "1", "MsgType": "text", "Content": "", "MsgId": "1"]
        XCTAssertEqual(try callback(base).body, .text(content: ""))
        assertChannelError(try callback(base.merging(["MsgType": "event", "Event": "CLICK", "EventKey": ""]) { $1 }), \.isMalformed, "empty key")
    }
}
