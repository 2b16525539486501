import Foundation
import XCTest
@testable import SwitchboardCore

final class WireEventTests: XCTestCase {
    // MARK: The escaper

    func testEscapesWhatJSONRequires() {
        XCTAssertEqual(JSONString.quote(""), #""""#)
        XCTAssertEqual(JSONString.quote(#"say "hi" \ bye"#), #""say \"hi\" \\ bye""#)
        XCTAssertEqual(JSONString.quote("a\nb\rc\td\u{8}e\u{C}f"), #""a\nb\rc\td\be\ff""#)
        XCTAssertEqual(JSONString.quote("\u{0}\u{1}\u{1F}\u{7F}"), "\"\\u0000\\u0001\\u001f\u{7F}\"")
        XCTAssertEqual(JSONString.quote("line\u{2028}para\u{2029}"), #""line\u2028para\u2029""#)
        XCTAssertEqual(JSONString.quote("王芳 😀 é"), "\"王芳 😀 é\"", "non-ASCII stays UTF-8")
        XCTAssertEqual(JSONString.quote("</script>"), #""</script>""#)
    }

    func testEscapedStringsRoundTripThroughAJSONParser() throws {
        var everyControl = ""
        for v in 0..<0x20 { everyControl.unicodeScalars.append(Unicode.Scalar(UInt8(v))) }
        let samples = [everyControl, "\"\\/", "市长信箱：投诉申告\n第二行", "emoji 👩‍💻 and \u{2028}", "e\u{301}", String(repeating: "\\\"", count: 50)]
        for sample in samples {
            let json = "[" + JSONString.quote(sample) + "]"
            let decoded = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String]
            XCTAssertEqual(decoded, [sample], json)
        }
    }

    // MARK: Agent frames

    func testWelcomeSplicesPreEncodedJSON() throws {
        let agent = AgentConfig(id: "a1", name: "王芳", role: .agent, tokenSHA256: String(repeating: "a", count: 64),
                                skills: ["general": 5, "complaints": 2], capacity: [.sms: 3, .webchat: 4])
        let conv = #"{"id":"c1","status":"assigned","contact":{"name":"刘"}}"#
        let offer = #"{"offerId":"o1","expiresAt":1700000020000}"#
        let frame = WireEvent.welcome(agent: agent, presence: .away, presenceReason: "missed",
                                      conversations: [conv, conv], offers: [offer], lastSeq: 41)
        XCTAssertEqual(frame, #"{"type":"welcome","agent":{"id":"a1","name":"王芳","role":"agent","skills":{"complaints":2,"general":5},"#
                       + #""capacity":{"webchat":4,"sms":3}},"presence":{"status":"away","reason":"missed"},"#
                       + #""conversations":[\#(conv),\#(conv)],"offers":[\#(offer)],"lastSeq":41}"#)
        XCTAssertFalse(frame.contains("aaaa"), "the token hash never leaves the server")
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(frame.utf8)) as? [String: Any])
        XCTAssertEqual((object["conversations"] as? [Any])?.count, 2)

        let empty = WireEvent.welcome(agent: AgentConfig(id: "s", name: "张敏", role: .supervisor, tokenSHA256: "", skills: [:], capacity: [:]),
                                      presence: .offline, conversations: [], offers: [], lastSeq: 0)
        XCTAssertEqual(empty, #"{"type":"welcome","agent":{"id":"s","name":"张敏","role":"supervisor","skills":{},"capacity":{}},"#
                       + #""presence":{"status":"offline"},"conversations":[],"offers":[],"lastSeq":0}"#)
    }

    func testAck() {
        XCTAssertEqual(WireEvent.ack(ref: .string("r1")), #"{"type":"ack","ref":"r1"}"#)
        XCTAssertEqual(WireEvent.ack(ref: .integer(7), ["messageId": .string("1700-0"), "duplicate": .bool(false),
                                                        "conversation": .raw(#"{"id":"c1"}"#), "n": .integer(-3),
                                                        "score": .number(0.5), "none": .null]),
                       #"{"type":"ack","ref":7,"messageId":"1700-0","duplicate":false,"conversation":{"id":"c1"},"n":-3,"score":0.5,"none":null}"#)
        XCTAssertEqual(WireEvent.ack(ref: nil), #"{"type":"ack"}"#)
        XCTAssertEqual(WireEvent.ack(ref: .number(2.25)), #"{"type":"ack","ref":2.25}"#)
        XCTAssertEqual(WireEvent.ack(ref: .string("x"), ["k\"ey": .string("v\n")]), #"{"type":"ack","ref":"x","k\"ey":"v\n"}"#)
    }

    func testErrorAndPong() {
        XCTAssertEqual(WireEvent.error(ref: .integer(3), code: "not_found", message: "no such offer 'o\"1'"),
                       #"{"type":"error","ref":3,"code":"not_found","message":"no such offer 'o\"1'"}"#)
        XCTAssertEqual(WireEvent.error(code: "bad_request", message: "frame is not valid JSON"),
                       #"{"type":"error","code":"bad_request","message":"frame is not valid JSON"}"#)
        XCTAssertEqual(WireEvent.pong(), #"{"type":"pong"}"#)
        XCTAssertEqual(WireEvent.pong(ref: .string("p")), #"{"type":"pong","ref":"p"}"#)
        XCTAssertEqual(ProtocolError(code: .badRequest, message: "missing field 'type'", ref: .integer(1)).frame,
                       #"{"type":"error","ref":1,"code":"bad_request","message":"missing field 'type'"}"#)
    }

    func testRefEchoesAsGiven() throws {
        for ref in [#""abc""#, "42", "-7", "1.5", #""中文""#] {
            let frame = try AgentCommand.parse(Array(#"{"type":"ping","ref":\#(ref)}"#.utf8))
            XCTAssertEqual(WireEvent.pong(ref: frame.ref), #"{"type":"pong","ref":\#(ref)}"#)
        }
    }

    // MARK: Visitor frames

    func testReadyAndQueue() throws {
        let message = #"{"id":"1700-0","direction":"out","parts":[{"type":"text","text":"您好"}]}"#
        XCTAssertEqual(WireEvent.ready(visitorToken: "v1.sig", conversationId: "c9", history: [message]),
                       #"{"type":"ready","visitorToken":"v1.sig","conversationId":"c9","history":[\#(message)]}"#)
        XCTAssertEqual(WireEvent.ready(visitorToken: "v2", conversationId: nil, history: []),
                       #"{"type":"ready","visitorToken":"v2","history":[]}"#)
        XCTAssertEqual(WireEvent.queue(position: 3, estimatedWaitSeconds: 90), #"{"type":"queue","position":3,"estimatedWaitSeconds":90}"#)
        XCTAssertEqual(WireEvent.queue(position: 1, estimatedWaitSeconds: nil), #"{"type":"queue","position":1}"#)
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(WireEvent.ready(visitorToken: "t", conversationId: "c",
                                                                                      history: [message, message]).utf8)))
    }

    func testFragments() {
        XCTAssertEqual(JSONFragment.number(3).json, "3")
        XCTAssertEqual(JSONFragment.number(-0.125).json, "-0.125")
        XCTAssertEqual(JSONFragment.number(.nan).json, "null")
        XCTAssertEqual(JSONFragment.number(.infinity).json, "null")
        XCTAssertEqual(JSONFragment.string("a\"b").json, #""a\"b""#)
    }
}
