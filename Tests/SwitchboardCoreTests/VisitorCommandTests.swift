import XCTest
@testable import SwitchboardCore

final class VisitorCommandTests: XCTestCase {
    func testHello() throws {
        XCTAssertEqual(try parse(#"{"type":"hello","channel":"web"}"#).command,
                       .hello(channel: "web", visitorToken: nil, name: nil, email: nil))
        XCTAssertEqual(try parse(#"{"type":"hello","channel":"web","visitorToken":"v.sig","name":"刘先生","email":"liu@example.cn"}"#).command,
                       .hello(channel: "web", visitorToken: "v.sig", name: "刘先生", email: "liu@example.cn"))
        XCTAssertEqual(try parse(#"{"type":"hello","channel":"web","visitorToken":"","name":"","email":""}"#).command,
                       .hello(channel: "web", visitorToken: nil, name: nil, email: nil), "empty form fields are unset")
    }

    func testMessageTypingCsatPing() throws {
        XCTAssertEqual(try parse(#"{"type":"message.send","text":"我的快递还没到","clientId":"m1"}"#).command,
                       .sendMessage(text: "我的快递还没到", clientId: "m1"))
        XCTAssertEqual(try parse(#"{"type":"typing"}"#).command, .typing)
        XCTAssertEqual(try parse(#"{"type":"csat","rating":5}"#).command, .csat(rating: 5, comment: nil))
        XCTAssertEqual(try parse(#"{"type":"csat","rating":1,"comment":"太慢了"}"#).command, .csat(rating: 1, comment: "太慢了"))
        XCTAssertEqual(try parse(#"{"type":"csat","rating":4,"conversationId":"c18f"}"#).command,
                       .csat(rating: 4, comment: nil, conversationId: "c18f"))
        XCTAssertEqual(try parse(#"{"type":"ping","ref":"p"}"#), ClientFrame(ref: .string("p"), command: .ping))
        XCTAssertEqual(VisitorCommand.csat(rating: 3, comment: nil).type, "csat")
        XCTAssertEqual(VisitorCommand.sendMessage(text: "x", clientId: "k").type, "message.send")
    }

    func testRefusals() {
        assertError("{", .badRequest, "frame is not valid JSON")
        assertError(#"{"type":"hello"}"#, .badRequest, "missing field 'channel'")
        assertError(#"{"type":"hello","channel":"web","email":"not an email"}"#, .badRequest,
                    "field 'email' is not an email address: 'not an email'")
        assertError(#"{"type":"hello","channel":"web","email":"a@b"}"#, .badRequest, "field 'email' is not an email address: 'a@b'")
        assertError(#"{"type":"hello","channel":"web","name":"\#(String(repeating: "名", count: 101))"}"#, .badRequest,
                    "field 'name' must be at most 100 characters, found 101")
        assertError(#"{"type":"message.send","text":"hi"}"#, .badRequest, "missing field 'clientId'")
        assertError(#"{"type":"message.send","clientId":"k"}"#, .badRequest, "missing field 'text'")
        assertError(#"{"type":"message.send","clientId":"k","text":"   "}"#, .badRequest, "field 'text' must not be blank")
        assertError(#"{"type":"message.send","clientId":"k","text":"\#(String(repeating: "x", count: 4001))"}"#, .badRequest,
                    "field 'text' must be at most 4000 characters, found 4001")
        assertError(#"{"type":"csat"}"#, .badRequest, "missing field 'rating'")
        assertError(#"{"type":"csat","rating":0}"#, .badRequest, "field 'rating' must be between 1 and 5, found 0")
        assertError(#"{"type":"csat","rating":6}"#, .badRequest, "field 'rating' must be between 1 and 5, found 6")
        assertError(#"{"type":"csat","rating":"5"}"#, .badRequest, "field 'rating' must be a whole number, found a string")
        assertError(#"{"type":"csat","rating":4.5}"#, .badRequest, "field 'rating' must be a whole number, found 4.5")
        assertError(#"{"type":"csat","rating":4,"conversationId":7}"#, .badRequest, "field 'conversationId' must be a string, found a number")
        assertError(#"{"type":"offer.accept","ref":3,"offerId":"o"}"#, .unknownType, "unknown type 'offer.accept'", ref: .integer(3),
                    "agent commands are not visitor commands")
    }

    func testEmailPlausibility() {
        XCTAssertTrue(VisitorCommand.isPlausibleEmail("zhang.san+hotline@mail.example.cn"))
        for bad in ["@x.cn", "a@", "a@.cn", "a@cn.", "a b@x.cn", "a@b@x.cn"] {
            XCTAssertFalse(VisitorCommand.isPlausibleEmail(bad), bad)
        }
    }

    private func parse(_ text: String) throws(ProtocolError) -> ClientFrame<VisitorCommand> {
        try VisitorCommand.parse(Array(text.utf8))
    }

    private func assertError(_ text: String, _ code: ProtocolError.Code, _ message: String, ref: WireRef? = nil, _ note: String = "",
                             file: StaticString = #filePath, line: UInt = #line) {
        do {
            let frame = try parse(text)
            XCTFail("expected \(code.rawValue), parsed \(frame) \(note)", file: file, line: line)
        } catch {
            XCTAssertEqual(error, ProtocolError(code: code, message: message, ref: ref), note, file: file, line: line)
        }
    }
}
