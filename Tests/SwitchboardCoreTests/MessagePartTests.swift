import Foundation
import XCTest
@testable import SwitchboardCore

final class MessagePartTests: XCTestCase {
    static let everyPart: [MessagePart] = [
        .text("您好"),
        .media(url: "https://x/a.jpg", mime: "image/jpeg", name: "a.jpg", size: 2048),
        .media(url: "https://x/b", mime: "application/octet-stream", name: nil, size: nil),
        .location(lat: 31.2304, lon: 121.4737, label: "上海"),
        .location(lat: -33.5, lon: 0, label: nil),
        .call(event: "completed", duration: 65, recordingUrl: "https://x/r.mp3"),
        .call(event: "ringing", duration: nil, recordingUrl: nil),
        .voicemail(recordingUrl: "https://x/v.wav", transcript: "请回电"),
        .voicemail(recordingUrl: "https://x/v2.wav", transcript: nil),
        .form(title: "留言", fields: ["类别": "投诉申告", "电话": "13800000000"]),
        .form(title: "empty", fields: [:]),
        .email(subject: "Re: 申请", html: "<p>好</p>"),
        .email(subject: "plain", html: nil),
    ]

    func testOnlyAbsoluteHTTPURLsCountAsWebURLs() {
        for good in ["https://x/a.png", "http://127.0.0.1:8080/m?a=1", "HTTPS://Example.org"] {
            XCTAssertTrue(WebURL.isAbsoluteHTTP(good), good)
        }
        for bad in ["file:///etc/passwd", "gopher://127.0.0.1:6379/_FLUSHALL", "/v1/media/a/b", "https://", "http:///x",
                    "https://x/a b", "https://x/\u{0}", "javascript:alert(1)", "ftp://x/y", "", "https://?q", "https:/x"] {
            XCTAssertFalse(WebURL.isAbsoluteHTTP(bad), bad)
        }
        XCTAssertNil(MessagePart.media(url: "https://x/a.png", mime: "image/png", name: nil, size: nil).nonWebURL)
        XCTAssertEqual(MessagePart.media(url: "file:///etc/passwd", mime: "image/png", name: nil, size: nil).nonWebURL, "file:///etc/passwd")
        XCTAssertEqual(MessagePart.voicemail(recordingUrl: "/tmp/v.wav", transcript: nil).nonWebURL, "/tmp/v.wav")
        XCTAssertNil(MessagePart.call(event: "ringing", duration: nil, recordingUrl: nil).nonWebURL)
        XCTAssertNil(MessagePart.text("file:///etc/passwd").nonWebURL, "text is text")
    }

    func testEveryPartRoundTrips() throws {
        for part in Self.everyPart {
            let data = try JSONEncoder().encode(part)
            XCTAssertEqual(try JSONDecoder().decode(MessagePart.self, from: data), part, String(decoding: data, as: UTF8.self))
        }
        let message = Message(id: "1700-0", conversationId: "c1", direction: .in, author: .contact, parts: Self.everyPart,
                              externalId: "SM1", status: .delivered, createdAt: 1_700_000_000_000)
        XCTAssertEqual(try JSONDecoder().decode(Message.self, from: JSONEncoder().encode(message)), message)
    }

    func testWireShapeHasTypeDiscriminator() throws {
        let data = try JSONEncoder().encode(MessagePart.voicemail(recordingUrl: "u", transcript: nil))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(object["type"] as? String, "voicemail")
        XCTAssertEqual(object["recordingUrl"] as? String, "u")
        XCTAssertNil(object["transcript"], "absent optionals are left out")
    }

    func testUnknownTypeAndMissingFieldsAreRefused() {
        XCTAssertThrowsError(try JSONDecoder().decode(MessagePart.self, from: Data(#"{"type":"sticker"}"#.utf8)))
        XCTAssertThrowsError(try JSONDecoder().decode(MessagePart.self, from: Data(#"{"type":"text"}"#.utf8)))
        XCTAssertThrowsError(try JSONDecoder().decode(MessagePart.self, from: Data(#"{"text":"x"}"#.utf8)))
    }

    func testPlainTextJoinsTextParts() {
        let message = Message(conversationId: "c", direction: .out, author: .agent,
                              parts: [.text("一"), .media(url: "u", mime: "m", name: nil, size: nil), .text("二")],
                              status: .pending, createdAt: 0)
        XCTAssertEqual(message.plainText, "一\n二")
    }
}
