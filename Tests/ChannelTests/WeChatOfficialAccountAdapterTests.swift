import Foundation
import SwitchboardCore
import WeChatChannel
import XCTest

/// The Official Account adapter end to end through `receive`: the three callback modes with
/// wechatpy's fixtures, verification failures and their statuses, every message and event type,
/// and the subscribe welcome as a passive reply (DESIGN §10.3).
final class WeChatOfficialAccountAdapterTests: XCTestCase {
    private typealias W = WeChatAdapters

    private func message(_ batch: InboundBatch, file: StaticString = #filePath, line: UInt = #line) throws -> InboundMessage {
        XCTAssertEqual(batch.events.count, 1, file: file, line: line)
        guard case .message(let m)? = batch.events.first else { throw TestFailure("expected one message, got \(batch.events)") }
        return m
    }

    private func acked(_ batch: InboundBatch, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(batch.response, HTTPResponse(contentType: "text/plain; charset=utf-8", text: "success"), file: file, line: line)
    }

    // MARK: Modes

    func testRoutesAndProviderObjects() throws {
        let adapter = try W.officialAccount()
        XCTAssertEqual(adapter.channelId, "wx-main")
        XCTAssertEqual(adapter.kind, .wechat)
        XCTAssertEqual(adapter.routes, [ChannelRoute("wechat", methods: ["GET", "POST"], signed: true, maxBodyBytes: 64 * 1024)])
        XCTAssertNotNil(adapter.credentials)
        XCTAssertNotNil(adapter.media)
        XCTAssertNil(adapter.puller, "Official Account messages arrive in the callback itself")
    }

    func testURLVerificationAnswersEchostr() throws {
        let f = try WeChatFixtures.signed("oa-plain.json")
        let request = HTTPRequest(method: "GET", subpath: "wechat", query: W.query([
            ("signature", try XCTUnwrap(f.signature)), ("echostr", try XCTUnwrap(f.echostr)), ("timestamp", f.timestamp), ("nonce", f.nonce),
        ]))
        let batch = try W.officialAccount().receive(request)
        XCTAssertEqual(batch.events, [])
        XCTAssertEqual(batch.response.text, f.echostr)
        var forged = request
        forged.query = W.query([("signature", String(repeating: "0", count: 40)), ("echostr", "x"), ("timestamp", f.timestamp), ("nonce", f.nonce)])
        XCTAssertEqual(assertRejected(try W.officialAccount().receive(forged), status: 403, "a forged URL check"),
                       "signature does not match (check the channel's token)")
    }

    func testPlainModeText() throws {
        let f = try WeChatFixtures.signed("oa-plain.json")
        let batch = try W.plainAccount().receive(try W.plainPost(Array(try XCTUnwrap(f.body).utf8)))
        XCTAssertEqual(try message(batch), InboundMessage(from: Identity(kind: .wechat, address: W.openId), externalId: "msg:23637352235060880",
                                                          parts: [.text("你好，我想咨询一下快递的问题")], to: W.oaAccount))
        acked(batch)
    }

    func testSafeModeText() throws {
        let batch = try W.officialAccount().receive(try W.encryptedPost(fixture: "oa-safe.json"))
        XCTAssertEqual(try message(batch), InboundMessage(from: Identity(kind: .wechat, address: W.openId), externalId: "msg:23637352235060882",
                                                          parts: [.text("安全模式：请问营业时间？")], to: W.oaAccount))
        acked(batch)
    }

    func testCompatibleModeReadsOnlyTheDecryptedMessage() throws {
        var request = try W.encryptedPost(fixture: "oa-compatible.json")
        XCTAssertEqual(try message(try W.officialAccount().receive(request)).parts, [.text("兼容模式的消息")])
        // The plain copy beside <Encrypt> is covered by no signature: a changed copy must not be read.
        let body = String(decoding: request.body, as: UTF8.self)
        XCTAssertTrue(body.contains("兼容模式的消息"))
        request.body = Array(body.replacingOccurrences(of: "兼容模式的消息", with: "伪造的明文").utf8)
        XCTAssertEqual(try message(try W.officialAccount().receive(request)).parts, [.text("兼容模式的消息")])
    }

    func testPreviousKeyIsTriedThroughTheAdapter() throws {
        let request = try W.encryptedPost(fixture: "oa-previous-key.json")
        let rotated = try W.officialAccount(["previous_encoding_aes_key": W.oaPreviousKey])
        XCTAssertEqual(try message(try rotated.receive(request)).parts, [.text("旧密钥加密的消息")])
        // Without the previous key the same callback cannot be opened.
        assertRejected(try W.officialAccount().receive(request), status: 400, "a callback under a key that is no longer configured")
        // The current key still works while a previous one is configured.
        XCTAssertEqual(try message(try rotated.receive(try W.encryptedPost(fixture: "oa-safe.json"))).parts, [.text("安全模式：请问营业时间？")])
    }

    func testAMessageForAnotherAppIdIsMalformed() throws {
        // wechatpy's safe-mode fixture is addressed to wxd0c1a9e4f2b38765; this channel is another app.
        let other = try W.officialAccount(["app_id": "wx0000000000000000"])
        assertChannelError(try other.receive(try W.encryptedPost(fixture: "oa-safe.json")), \.isMalformed, "malformed (receive id)")
        // The same for a callback sealed here for another appid with the channel's own key.
        let forged = try W.safePost(W.eventXML("subscribe"), receiveId: "wx1111111111111111")
        let message = assertChannelError(try W.officialAccount().receive(forged), \.isMalformed, "malformed (receive id)")
        XCTAssertEqual(message, WeChatCryptoError.wrongReceiveId.channelError.message)
    }

    // MARK: Refusals

    func testBadSignaturesAre403() throws {
        let plain = try W.plainPost(callback: "text.xml")
        var forged = plain
        forged.query = forged.query.replacingOccurrences(of: "signature=", with: "signature=0")
        assertChannelError(try W.officialAccount().receive(forged), \.isBadSignature, "badSignature (signature)")

        // Safe mode: a correct `signature` does not make up for a wrong `msg_signature`.
        let f = try WeChatFixtures.signed("oa-safe.json")
        let safe = try W.encryptedPost(fixture: "oa-safe.json")
        var badMsg = safe
        badMsg.query = badMsg.query.replacingOccurrences(of: try XCTUnwrap(f.msg_signature), with: String(repeating: "a", count: 40))
        XCTAssertEqual(assertChannelError(try W.officialAccount().receive(badMsg), \.isBadSignature, "badSignature (msg_signature)"),
                       "msg_signature does not match")
        // A changed <Encrypt> no longer matches msg_signature.
        var changed = safe
        changed.body = Array(String(decoding: safe.body, as: UTF8.self).replacingOccurrences(of: "bMWo", with: "bMWp").utf8)
        assertChannelError(try W.officialAccount().receive(changed), \.isBadSignature, "badSignature (Encrypt changed)")
        // Another channel token: every signature fails.
        assertChannelError(try W.officialAccount(["token": "another-token"]).receive(safe), \.isBadSignature, "badSignature (token)")
    }

    func testMissingSignaturesAre403AndOtherMissingArgumentsAre400() throws {
        let f = try WeChatFixtures.signed("oa-safe.json")
        let body = Array(try XCTUnwrap(f.body).utf8)
        let all: [(String, String)] = [("signature", try XCTUnwrap(f.signature)), ("timestamp", f.timestamp), ("nonce", f.nonce),
                                       ("encrypt_type", "aes"), ("msg_signature", try XCTUnwrap(f.msg_signature))]
        let adapter = try W.officialAccount()
        for (name, status) in [("signature", 403), ("msg_signature", 403), ("timestamp", 400), ("nonce", 400)] {
            let request = W.post(query: all.filter { $0.0 != name }, body: body)
            assertRejected(try adapter.receive(request), status: status, "a callback without ?\(name)=")
        }
        // An empty value counts as missing.
        assertRejected(try adapter.receive(W.post(query: all.map { $0.0 == "signature" ? ($0.0, "") : $0 }, body: body)), status: 403,
                       "an empty ?signature=")
        // Without encrypt_type the callback claims plain mode, which this encrypted channel refuses.
        assertRejected(try adapter.receive(W.post(query: all.filter { $0.0 != "encrypt_type" }, body: body)), status: 403,
                       "a safe-mode body posted as plain")
    }

    func testRepeatedQueryArgumentsAre400() throws {
        let safe = try W.encryptedPost(fixture: "oa-safe.json")
        let adapter = try W.officialAccount()
        for name in ["signature", "msg_signature", "nonce", "encrypt_type"] {
            let items = try safe.queryItems()
            var request = safe
            request.query = W.query(items + items.filter { $0.0 == name })
            let message = assertRejected(try adapter.receive(request), status: 400, "a repeated ?\(name)=")
            XCTAssertEqual(message, "the query argument '\(name)' is repeated")
        }
    }

    /// A channel with an EncodingAESKey is in safe or compatible mode, where the platform always
    /// encrypts: a plain callback (whose signature does not cover its body) is refused.
    func testAnEncryptedChannelRefusesPlainCallbacks() throws {
        let request = try W.plainPost(callback: "text.xml")
        XCTAssertNoThrow(try W.plainAccount().receive(request), "a plain-mode channel takes it")
        assertChannelError(try W.officialAccount().receive(request), \.isBadSignature, "badSignature (plain on an encrypted channel)")
        assertRejected(try W.officialAccount().receive(request), status: 403, "a plain callback to an encrypted channel")
    }

    func testOversizeBodyIsTooLarge() throws {
        let head = "<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName>"
            + "<CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><MsgId>1</MsgId><Content><![CDATA["
        let tail = "]]></Content></xml>"
        let filler = String(repeating: "长", count: (64 * 1024) / 3 + 1)
        let request = try W.plainPost(Array((head + filler + tail).utf8))
        XCTAssertGreaterThan(request.body.count, 64 * 1024)
        assertChannelError(try W.officialAccount().receive(request), \.isTooLarge, "tooLarge")
        assertRejected(try W.officialAccount().receive(request), status: 413, "an oversize callback")
    }

    func testHostileXMLIs400InEveryMode() throws {
        let laughs = """
        <?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\
        <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><xml><ToUserName>t</ToUserName><FromUserName>f</FromUserName>\
        <CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&c;</Content><MsgId>1</MsgId></xml>
        """
        let external = """
        <?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><ToUserName>t</ToUserName>\
        <FromUserName>f</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&x;</Content><MsgId>1</MsgId></xml>
        """
        let adapter = try W.officialAccount()
        for xml in [laughs, external, "<xml><ToUserName>t</ToUserName", "not xml at all", "<html><body/></html>"] {
            assertRejected(try adapter.receive(try W.plainPost(Array(xml.utf8))), status: 400, "hostile plain XML")
            // Inside the encryption, after every signature matched: still refused.
            assertRejected(try adapter.receive(try W.safePost(xml)), status: 400, "hostile decrypted XML")
        }
        // encrypt_type=aes with no <Encrypt>, or with a channel that has no key: 400.
        var noEncrypt = try W.encryptedPost(fixture: "oa-safe.json")
        noEncrypt.body = try WeChatFixtures.bytes("callbacks/text.xml")
        XCTAssertEqual(assertRejected(try adapter.receive(noEncrypt), status: 400, "no <Encrypt>"), "encrypted callback without <Encrypt>")
        let plainOnly = try W.officialAccount(["encoding_aes_key": nil])
        assertRejected(try plainOnly.receive(try W.encryptedPost(fixture: "oa-safe.json")), status: 400, "encrypted callback, no key")
    }

    // MARK: Message and event types

    private func plain(_ name: String, _ adapter: (any ChannelAdapter)? = nil) throws -> InboundBatch {
        try (adapter ?? W.plainAccount()).receive(try W.plainPost(callback: name))
    }

    private let fromUser = Identity(kind: .wechat, address: "fromUser")

    func testTextAndUnsupportedTypes() throws {
        XCTAssertEqual(try message(try plain("text.xml")),
                       InboundMessage(from: fromUser, externalId: "msg:1234567890123456", parts: [.text("this is a test")], to: "toUser"))
        let note = try message(try plain("unsupported-miniprogrampage.xml"))
        XCTAssertEqual(note.parts, [.text("[不支持的消息类型：miniprogrampage]")])
        XCTAssertEqual(note.externalId, "msg:1234567890123456")
        XCTAssertEqual(note.mediaToFetch, [])
    }

    func testImageIsAMediaPartToFetch() throws {
        let batch = try plain("image.xml")
        XCTAssertEqual(try message(batch), InboundMessage(
            from: fromUser, externalId: "msg:1234567890123456",
            parts: [.media(url: "/v1/media/wx-main/media_id", mime: "image/jpeg", name: nil, size: nil)], to: "toUser", mediaToFetch: ["media_id"]))
        XCTAssertEqual(MediaReference.parse("/v1/media/wx-main/media_id")?.mediaId, "media_id")
        acked(batch)
    }

    func testVoiceIsAVoicemailPartWithTheRecognitionAsTranscript() throws {
        let recognised = try message(try plain("voice-recognition.xml"))
        XCTAssertEqual(recognised.parts, [.voicemail(recordingUrl: "/v1/media/wx-main/media_id", transcript: "腾讯微信团队")])
        XCTAssertEqual(recognised.mediaToFetch, ["media_id"])
        let bare = try message(try plain("voice.xml"))
        XCTAssertEqual(bare.parts, [.voicemail(recordingUrl: "/v1/media/wx-main/media_id", transcript: nil)])
        XCTAssertEqual(bare.mediaToFetch, ["media_id"])
    }

    func testVideoAndShortVideo() throws {
        for name in ["video.xml", "shortvideo.xml"] {
            let m = try message(try plain(name))
            XCTAssertEqual(m.parts, [.media(url: "/v1/media/wx-main/media_id", mime: "video/mp4", name: nil, size: nil)], name)
            XCTAssertEqual(m.mediaToFetch, ["media_id"], "the video, not its thumbnail (\(name))")
        }
    }

    func testLocationAndLink() throws {
        XCTAssertEqual(try message(try plain("location.xml")).parts, [.location(lat: 23.134521, lon: 113.358803, label: "位置信息")])
        XCTAssertEqual(try message(try plain("link.xml")).parts, [.text("公众平台官网链接\n公众平台官网链接\nurl")])
    }

    func testSubscribeOptsInAndAnswersTheWelcomeInPlainXML() throws {
        for name in ["event-subscribe.xml", "event-subscribe-qrscene.xml"] {
            let batch = try plain(name)
            XCTAssertEqual(batch.events, [.subscription(fromUser, subscribed: true)], name)
            let reply = batch.answer.response([], W.answerContext)
            XCTAssertEqual(reply.status, 200)
            XCTAssertEqual(reply.contentType, "application/xml; charset=utf-8")
            XCTAssertEqual(try WeChatXML.fields(reply.body), [
                "ToUserName": "fromUser", "FromUserName": "toUser", "CreateTime": "1714112500", "MsgType": "text", "Content": W.welcome,
            ], name)
        }
        // Without `welcome` the follow is only acknowledged.
        let quiet = try plain("event-subscribe.xml", try W.plainAccount(["welcome": nil]))
        XCTAssertEqual(quiet.events, [.subscription(fromUser, subscribed: true)])
        acked(quiet)
    }

    func testUnsubscribeOptsOut() throws {
        let batch = try plain("event-unsubscribe.xml")
        XCTAssertEqual(batch.events, [.subscription(fromUser, subscribed: false)])
        acked(batch)
    }

    func testMenuClickOpensAConversationForItsSkillOnlyWhenMapped() throws {
        let mapped = try message(try plain("event-click.xml", try W.plainAccount(["menu_skills.EVENTKEY": "complaints"])))
        XCTAssertEqual(mapped, InboundMessage(from: fromUser, externalId: "event:fromUser|123456789|CLICK", parts: [.text("点击菜单：EVENTKEY")],
                                              to: "toUser", skill: "complaints"))
        let unmapped = try plain("event-click.xml")
        XCTAssertEqual(unmapped.events, [], "CLICK on a key menu_skills does not name")
        acked(unmapped)
    }

    func testViewScanLocationAndUnknownEventsAreAckedWithoutEvents() throws {
        for name in ["event-view.xml", "event-scan.xml", "event-location.xml", "event-scancode-push.xml"] {
            let batch = try plain(name)
            XCTAssertEqual(batch.events, [], name)
            acked(batch)
        }
    }

    // MARK: The welcome in safe mode

    func testSafeModeWelcomeIsEncryptedAndSigned() throws {
        let batch = try W.officialAccount().receive(try W.safePost(W.eventXML("subscribe")))
        XCTAssertEqual(batch.events, [.subscription(Identity(kind: .wechat, address: W.openId), subscribed: true)])
        let reply = batch.answer.response([.stored], W.answerContext)
        XCTAssertEqual(reply.status, 200)
        XCTAssertEqual(reply.contentType, "application/xml; charset=utf-8")
        let envelope = try WeChatXML.fields(reply.body)
        XCTAssertEqual(Set(envelope.keys), ["Encrypt", "MsgSignature", "TimeStamp", "Nonce"])
        let encrypt = try XCTUnwrap(envelope["Encrypt"])
        XCTAssertEqual(envelope["TimeStamp"], "1714112500")
        XCTAssertEqual(envelope["Nonce"], W.nonce, "the request's nonce")
        XCTAssertEqual(envelope["MsgSignature"], WeChatSignature.msgSignature(token: W.oaToken, timestamp: "1714112500", nonce: W.nonce, encrypt: encrypt))

        let crypto = try WeChatCrypto(encodingAESKey: W.oaKey)
        let inner = try crypto.decrypt(encrypt: encrypt, receiveId: W.oaAppId)
        XCTAssertEqual(try WeChatXML.fields(inner), [
            "ToUserName": W.openId, "FromUserName": W.oaAccount, "CreateTime": "1714112500", "MsgType": "text", "Content": W.welcome,
        ])
        // Sealed with the server's random bytes (the first 16), so it is reproducible.
        XCTAssertEqual(crypto.encrypt(xml: inner, receiveId: W.oaAppId, random16: Array(W.answerContext.randomBytes.prefix(16))), encrypt)
        let other = batch.answer.response([.stored], AnswerContext(nowSeconds: 1_714_112_500, randomBytes: [UInt8](repeating: 9, count: 32)))
        XCTAssertNotEqual(try WeChatXML.fields(other.body)["Encrypt"], encrypt, "fresh random bytes give a fresh ciphertext")
    }

    func testCompatibleModeWelcomeIsEncryptedToo() throws {
        // Compatible mode also sends encrypt_type=aes; the platform accepts the encrypted reply.
        let crypto = try WeChatCrypto(encodingAESKey: W.oaKey)
        let xml = W.eventXML("subscribe")
        let encrypt = crypto.encrypt(xml: Array(xml.utf8), receiveId: W.oaAppId, random16: W.random16)
        var request = try W.safePost(xml)
        request.body = Array((String(xml.dropLast("</xml>".count)) + "<Encrypt><![CDATA[\(encrypt)]]></Encrypt></xml>").utf8)
        let reply = try W.officialAccount().receive(request).answer.response([.stored], W.answerContext)
        let envelope = try WeChatXML.fields(reply.body)
        XCTAssertEqual(try WeChatXML.fields(try crypto.decrypt(encrypt: try XCTUnwrap(envelope["Encrypt"]), receiveId: W.oaAppId))["Content"], W.welcome)
    }
}
