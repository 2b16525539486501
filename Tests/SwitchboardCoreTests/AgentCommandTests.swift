import XCTest
@testable import SwitchboardCore

final class AgentCommandTests: XCTestCase {
    // MARK: Happy paths, one per command

    func testAuth() throws {
        XCTAssertEqual(try parse(#"{"type":"auth","token":"demo-wangfang"}"#), ClientFrame(command: .auth(token: "demo-wangfang", resume: nil)))
        XCTAssertEqual(try parse(#"{"type":"auth","token":"t","resume":42,"ref":"a1"}"#),
                       ClientFrame(ref: .string("a1"), command: .auth(token: "t", resume: 42)))
        XCTAssertEqual(try parse(#"{"type":"auth","token":"t","resume":0}"#).command, .auth(token: "t", resume: 0))
    }

    func testPresence() throws {
        XCTAssertEqual(try parse(#"{"type":"presence.set","status":"available"}"#).command, .setPresence(status: .available, reason: nil))
        XCTAssertEqual(try parse(#"{"type":"presence.set","status":"away","reason":"午休"}"#).command,
                       .setPresence(status: .away, reason: "午休"))
        XCTAssertEqual(try parse(#"{"type":"presence.set","status":"offline","reason":""}"#).command,
                       .setPresence(status: .offline, reason: nil), "an empty reason is no reason")
    }

    func testOffers() throws {
        XCTAssertEqual(try parse(#"{"type":"offer.accept","offerId":"o-1","ref":7}"#),
                       ClientFrame(ref: .integer(7), command: .acceptOffer(offerId: "o-1")))
        XCTAssertEqual(try parse(#"{"type":"offer.reject","offerId":"o-1"}"#).command, .rejectOffer(offerId: "o-1", reason: nil))
        XCTAssertEqual(try parse(#"{"type":"offer.reject","offerId":"o-1","reason":"busy"}"#).command,
                       .rejectOffer(offerId: "o-1", reason: "busy"))
    }

    func testSendText() throws {
        XCTAssertEqual(try parse(#"{"type":"message.send","conversationId":"c1","text":"您好，请问有什么可以帮您？","clientId":"k1"}"#).command,
                       .sendMessage(conversationId: "c1", parts: [.text("您好，请问有什么可以帮您？")], clientId: "k1"))
    }

    func testSendParts() throws {
        let json = #"""
        {"type":"message.send","conversationId":"c1","clientId":"k2","parts":[
          {"type":"text","text":"见附件"},
          {"type":"media","url":"https://x/a.pdf","mime":"application/pdf","name":"a.pdf","size":1234},
          {"type":"location","lat":39.9,"lon":116.4,"label":"北京"}]}
        """#
        XCTAssertEqual(try parse(json).command, .sendMessage(conversationId: "c1", parts: [
            .text("见附件"),
            .media(url: "https://x/a.pdf", mime: "application/pdf", name: "a.pdf", size: 1234),
            .location(lat: 39.9, lon: 116.4, label: "北京"),
        ], clientId: "k2"))
    }

    func testTypingTransferCloseHistoryPing() throws {
        XCTAssertEqual(try parse(#"{"type":"typing","conversationId":"c1"}"#).command, .typing(conversationId: "c1"))
        XCTAssertEqual(try parse(#"{"type":"conversation.transfer","conversationId":"c1","toAgent":"a2","note":"VIP"}"#).command,
                       .transfer(conversationId: "c1", to: .agent("a2"), note: "VIP"))
        XCTAssertEqual(try parse(#"{"type":"conversation.transfer","conversationId":"c1","toSkill":"complaints"}"#).command,
                       .transfer(conversationId: "c1", to: .skill("complaints"), note: nil))
        XCTAssertEqual(try parse(#"{"type":"conversation.transfer","conversationId":"c1","toSkill":"complaints","toAgent":null}"#).command,
                       .transfer(conversationId: "c1", to: .skill("complaints"), note: nil), "null is absent")
        XCTAssertEqual(try parse(#"{"type":"conversation.close","conversationId":"c1"}"#).command,
                       .close(conversationId: "c1", category: nil, disposition: nil))
        XCTAssertEqual(try parse(#"{"type":"conversation.close","conversationId":"c1","category":"投诉申告","disposition":"已转办"}"#).command,
                       .close(conversationId: "c1", category: .complaint, disposition: "已转办"))
        XCTAssertEqual(try parse(#"{"type":"callback.outcome","conversationId":"c1","outcome":"wrong_number","note":"空号"}"#).command,
                       .callbackOutcome(conversationId: "c1", outcome: .wrongNumber, note: "空号"))
        XCTAssertThrowsError(try parse(#"{"type":"callback.outcome","conversationId":"c1","outcome":"maybe"}"#))
        XCTAssertThrowsError(try parse(#"{"type":"callback.outcome","conversationId":"c1"}"#))
        XCTAssertEqual(try parse(#"{"type":"contact.history","conversationId":"c1"}"#).command, .contactHistory(conversationId: "c1"))
        XCTAssertEqual(try parse(#"{"type":"conversation.note","conversationId":"c1","text":"住幸福路"}"#).command,
                       .note(conversationId: "c1", text: "住幸福路"))
        XCTAssertThrowsError(try parse(#"{"type":"conversation.note","conversationId":"c1","text":"  "}"#), "a blank note")
        XCTAssertThrowsError(try parse(#"{"type":"contact.history"}"#))
        XCTAssertEqual(try parse(#"{"type":"history","conversationId":"c1"}"#).command,
                       .history(conversationId: "c1", before: nil, limit: 50))
        XCTAssertEqual(try parse(#"{"type":"history","conversationId":"c1","before":"1700000000000-3","limit":200}"#).command,
                       .history(conversationId: "c1", before: "1700000000000-3", limit: 200))
        XCTAssertEqual(try parse(#"{"type":"ping","ref":1.5}"#), ClientFrame(ref: .number(1.5), command: .ping))
        XCTAssertEqual(try parse(#"{"type":"ping","extra":{"ignored":true}}"#).command, .ping, "unknown fields are ignored")
    }

    func testTypeNames() throws {
        let frames = [
            #"{"type":"auth","token":"t"}"#, #"{"type":"presence.set","status":"away"}"#,
            #"{"type":"offer.accept","offerId":"o"}"#, #"{"type":"offer.reject","offerId":"o"}"#,
            #"{"type":"message.send","conversationId":"c","text":"x","clientId":"k"}"#, #"{"type":"typing","conversationId":"c"}"#,
            #"{"type":"conversation.transfer","conversationId":"c","toAgent":"a"}"#,
            #"{"type":"conversation.close","conversationId":"c"}"#, #"{"type":"history","conversationId":"c"}"#, #"{"type":"ping"}"#,
        ]
        for frame in frames {
            let type = try XCTUnwrap(frame.split(separator: "\"")[3])
            XCTAssertEqual(try parse(frame).command.type, String(type))
        }
    }

    // MARK: Refusals

    func testGarbageIsBadRequestWithoutRef() {
        assertError("not json", .badRequest, "frame is not valid JSON", ref: nil)
        assertError("", .badRequest, "frame is not valid JSON", ref: nil)
        assertError(#"{"type":"ping""#, .badRequest, "frame is not valid JSON", ref: nil)
        assertError(#"["ping"]"#, .badRequest, "frame must be a JSON object, found an array", ref: nil)
        assertError(#""ping""#, .badRequest, "frame must be a JSON object, found a string", ref: nil)
        XCTAssertThrowsError(try AgentCommand.parse([0xFF, 0xFE, 0x7B, 0x7D]), "invalid UTF-8")
    }

    func testTypeAndRefProblems() {
        assertError(#"{"ref":"r1"}"#, .badRequest, "missing field 'type'", ref: .string("r1"))
        assertError(#"{"type":5,"ref":2}"#, .badRequest, "field 'type' must be a string, found a number", ref: .integer(2))
        assertError(#"{"type":"ping","ref":true}"#, .badRequest, "field 'ref' must be a string or a number, found a boolean", ref: nil)
        assertError(#"{"type":"ping","ref":{"a":1}}"#, .badRequest, "field 'ref' must be a string or a number, found an object", ref: nil)
    }

    func testUnknownTypeEchoesRef() {
        assertError(#"{"type":"conversation.delete","ref":"x-9","conversationId":"c1"}"#, .unknownType,
                    "unknown type 'conversation.delete'", ref: .string("x-9"))
        assertError(#"{"type":"PING","ref":12}"#, .unknownType, "unknown type 'PING'", ref: .integer(12))
    }

    func testMissingAndInvalidFields() {
        assertError(#"{"type":"auth","ref":1}"#, .badRequest, "missing field 'token'", ref: .integer(1))
        assertError(#"{"type":"auth","token":""}"#, .badRequest, "field 'token' must not be empty")
        assertError(#"{"type":"auth","token":42}"#, .badRequest, "field 'token' must be a string, found a number")
        assertError(#"{"type":"auth","token":"t","resume":"7"}"#, .badRequest, "field 'resume' must be a whole number, found a string")
        assertError(#"{"type":"auth","token":"t","resume":-1}"#, .badRequest, "field 'resume' must be at least 0, found -1")
        assertError(#"{"type":"auth","token":"t","resume":2.5}"#, .badRequest, "field 'resume' must be a whole number, found 2.5")
        assertError(#"{"type":"presence.set"}"#, .badRequest, "missing field 'status'")
        assertError(#"{"type":"presence.set","status":"busy"}"#, .badRequest,
                    "field 'status' must be one of available|away|offline, found 'busy'")
        assertError(#"{"type":"offer.accept","ref":"r"}"#, .badRequest, "missing field 'offerId'", ref: .string("r"))
        assertError(#"{"type":"offer.reject","offerId":["o"]}"#, .badRequest, "field 'offerId' must be a string, found an array")
        assertError(#"{"type":"typing"}"#, .badRequest, "missing field 'conversationId'")
        assertError(#"{"type":"conversation.transfer","conversationId":"c"}"#, .badRequest, "missing field 'toAgent' or 'toSkill'")
        assertError(#"{"type":"conversation.transfer","conversationId":"c","toAgent":"a","toSkill":"s"}"#, .badRequest,
                    "give either 'toAgent' or 'toSkill', not both")
        assertError(#"{"type":"conversation.close","conversationId":"c","category":"other"}"#, .badRequest,
                    "field 'category' must be one of 业务咨询|系统操作|需求建议|投诉申告|应急处理, found 'other'")
        assertError(#"{"type":"history","conversationId":"c","limit":0}"#, .badRequest, "field 'limit' must be between 1 and 200, found 0")
        assertError(#"{"type":"history","conversationId":"c","limit":201}"#, .badRequest, "field 'limit' must be between 1 and 200, found 201")
        assertError(#"{"type":"history","conversationId":"c","before":"yesterday"}"#, .badRequest,
                    "field 'before' must be a message id such as 1700000000000-0, found 'yesterday'")
        // Each part of a stream id is a UInt64: past it Redis answered with an error (issue 9).
        assertError(#"{"type":"history","conversationId":"c","before":"18446744073709551616-0"}"#, .badRequest,
                    "field 'before' must be a message id such as 1700000000000-0, found '18446744073709551616-0'")
        XCTAssertTrue(AgentCommand.isStreamId("18446744073709551615-18446744073709551615"))
        XCTAssertFalse(AgentCommand.isStreamId("1-18446744073709551616"))
        XCTAssertFalse(AgentCommand.isStreamId("+1-0"))
    }

    func testMessageSendRules() {
        let base = #""type":"message.send","conversationId":"c1""#
        assertError("{\(base),\"text\":\"hi\"}", .badRequest, "missing field 'clientId'")
        assertError("{\(base),\"clientId\":\"k\"}", .badRequest, "missing field 'text' or 'parts'")
        assertError("{\(base),\"clientId\":\"k\",\"text\":\" \\n\\t \"}", .badRequest, "field 'text' must not be blank")
        assertError("{\(base),\"clientId\":\"k\",\"text\":\"\"}", .badRequest, "field 'text' must not be blank")
        assertError("{\(base),\"clientId\":\"k\",\"text\":\"x\",\"parts\":[]}", .badRequest, "give either 'text' or 'parts', not both")
        assertError("{\(base),\"clientId\":\"k\",\"parts\":[]}", .badRequest, "field 'parts' must not be empty")
        assertError("{\(base),\"clientId\":\"k\",\"parts\":\"x\"}", .badRequest, "field 'parts' must be an array, found a string")
        assertError("{\(base),\"clientId\":\"k\",\"parts\":[{\"type\":\"text\",\"text\":\"  \"}]}", .badRequest,
                    "field 'parts[0].text' must not be blank")
        // Hostile-input tier (issue 9): a media part's URL is fetched later, so only http(s) enters.
        assertError("{\(base),\"clientId\":\"k\",\"parts\":[{\"type\":\"media\",\"url\":\"file:///etc/passwd\",\"mime\":\"image/png\"}]}",
                    .badRequest, "field 'parts[0]' names 'file:///etc/passwd' where an http:// or https:// URL belongs")
        let long = String(repeating: "字", count: 4001)
        assertError("{\(base),\"clientId\":\"k\",\"text\":\"\(long)\"}", .badRequest, "field 'text' must be at most 4000 characters, found 4001")
        XCTAssertNoThrow(try parse("{\(base),\"clientId\":\"k\",\"text\":\"\(String(long.dropFirst()))\"}"), "4000 is allowed")
        let half = String(repeating: "a", count: 2001)
        assertError("{\(base),\"clientId\":\"k\",\"parts\":[{\"type\":\"text\",\"text\":\"\(half)\"},{\"type\":\"text\",\"text\":\"\(half)\"}]}",
                    .badRequest, "the text parts must be at most 4000 characters together, found 4002")
        let clientId = String(repeating: "k", count: 129)
        assertError("{\(base),\"clientId\":\"\(clientId)\",\"text\":\"x\"}", .badRequest,
                    "field 'clientId' must be at most 128 characters, found 129")
        XCTAssertNoThrow(try parse("{\(base),\"clientId\":\"\(clientId.dropFirst())\",\"text\":\"x\"}"))
    }

    func testBadPartNamesThePart() throws {
        let frame = #"{"type":"message.send","conversationId":"c","clientId":"k","ref":"p","parts":[{"type":"text","text":"x"},{"type":"media","url":"u"}]}"#
        do {
            _ = try parse(frame)
            XCTFail("accepted a media part without mime")
        } catch {
            XCTAssertEqual(error.code, .badRequest)
            XCTAssertEqual(error.ref, .string("p"))
            XCTAssertTrue(error.message.hasPrefix("field 'parts[1]' is not a valid message part: missing field 'mime'"), error.message)
        }
        do {
            _ = try parse(#"{"type":"message.send","conversationId":"c","clientId":"k","parts":[{"type":"hologram"}]}"#)
            XCTFail("accepted an unknown part type")
        } catch {
            XCTAssertTrue(error.message.contains("unknown part type 'hologram'"), error.message)
        }
    }

    func testErrorFrameIsWhatTheServerSends() {
        do {
            _ = try parse(#"{"type":"nope","ref":"r\"1"}"#)
            XCTFail("accepted an unknown type")
        } catch {
            XCTAssertEqual(error.frame, #"{"type":"error","ref":"r\"1","code":"unknown_type","message":"unknown type 'nope'"}"#)
        }
    }

    // MARK: Helpers

    private func parse(_ text: String) throws(ProtocolError) -> ClientFrame<AgentCommand> {
        try AgentCommand.parse(Array(text.utf8))
    }

    private func assertError(_ text: String, _ code: ProtocolError.Code, _ message: String, ref: WireRef? = nil,
                             file: StaticString = #filePath, line: UInt = #line) {
        do {
            let frame = try parse(text)
            XCTFail("expected \(code.rawValue), parsed \(frame)", file: file, line: line)
        } catch {
            XCTAssertEqual(error, ProtocolError(code: code, message: message, ref: ref), file: file, line: line)
        }
    }
}
