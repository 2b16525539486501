import XCTest
@testable import SwitchboardCore

/// `JSONValue.parse`, the hand-written parser every client frame goes through.
final class JSONValueParseTests: XCTestCase {
    func testValues() {
        XCTAssertEqual(JSONValue.parse(Array(#" {"a":[1,-2,3.5,1e2,true,false,null,"x"],"b":{}} "#.utf8)),
                       .object(["a": .array([.integer(1), .integer(-2), .number(3.5), .number(100), .bool(true), .bool(false), .null, .string("x")]),
                                "b": .object([:])]))
        XCTAssertEqual(JSONValue.parse(Array("12345678901234567890".utf8)), .number(1.2345678901234567e19))
        XCTAssertEqual(JSONValue.parse(Array(#"{"k":1,"k":2}"#.utf8)), .object(["k": .integer(2)]))
    }

    func testIntegerBoundaries() {
        XCTAssertEqual(JSONValue.parse(Array("9223372036854775807".utf8)), .integer(Int64.max))
        XCTAssertEqual(JSONValue.parse(Array("-9223372036854775808".utf8)), .integer(Int64.min))
        XCTAssertEqual(JSONValue.parse(Array("9223372036854775808".utf8)), .number(9223372036854775808))
        XCTAssertEqual(JSONValue.parse(Array("-0".utf8)), .integer(0))
        XCTAssertEqual(JSONValue.parse(Array("[0,-7,10]".utf8)), .array([.integer(0), .integer(-7), .integer(10)]))
    }

    func testLookupReadsOneStringWithoutTheRest() {
        let offer = Array(#"{"seq":7,"type":"offer","expiresAt":1.7e12,"conversation":{"contact":{"id":"k1","name":"王\"芳"},"tags":[1,{"id":"x"}],"id":"c\u00e9-1"},"offerId":"o1"}"#.utf8)
        XCTAssertEqual(JSONLookup.string(in: offer, at: ["conversation", "id"]), "cé-1")
        XCTAssertEqual(JSONLookup.string(in: offer, at: ["conversation", "contact", "name"]), "王\"芳")
        XCTAssertEqual(JSONLookup.string(in: offer, at: ["offerId"]), "o1")
        XCTAssertEqual(JSONLookup.string(in: offer, at: ["type"]), "offer")
        XCTAssertNil(JSONLookup.string(in: offer, at: ["seq"]), "not a string")
        XCTAssertNil(JSONLookup.string(in: offer, at: ["conversation"]), "an object, not a string")
        XCTAssertNil(JSONLookup.string(in: offer, at: ["missing"]))
        XCTAssertNil(JSONLookup.string(in: offer, at: ["conversation", "missing"]))
        XCTAssertNil(JSONLookup.string(in: offer, at: []))
        XCTAssertNil(JSONLookup.string(in: Array(#"["id"]"#.utf8), at: ["id"]))
        XCTAssertNil(JSONLookup.string(in: Array(#"{"a":tru,"id":"x"}"#.utf8), at: ["id"]), "malformed before the value")
        XCTAssertEqual(JSONLookup.string(in: Array(#" { "id" : "x" } "#.utf8), at: ["id"]), "x")
    }

    func testStringEscapes() {
        XCTAssertEqual(JSONValue.parse(Array(#""a\"b\\c\/d\b\f\n\r\t\u00e9\u4f60\ud83d\ude00""#.utf8)),
                       .string("a\"b\\c/d\u{08}\u{0C}\n\r\t\u{e9}\u{4f60}\u{1F600}"))
        XCTAssertEqual(JSONValue.parse(Array(#""你好""#.utf8)), .string("你好"))
    }

    func testRejects() {
        for bad in ["", " ", "{", "[1,]", "{\"a\":}", "{\"a\" 1}", "01", "1.", "-", ".5", "1e", "tru", "nul", "\"abc",
                    "\"a\u{01}b\"", "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\u12\"", "{} {}", "[1] x", "{'a':1}",
                    "1e999", String(repeating: "[", count: 200) + String(repeating: "]", count: 200)] {
            XCTAssertNil(JSONValue.parse(Array(bad.utf8)), "accepted \(bad.debugDescription)")
        }
        XCTAssertNil(JSONValue.parse([0x22, 0xFF, 0x22]), "invalid UTF-8 in a string")
    }

    func testAgreesWithJSONSerializationOnValidity() {
        let samples = [#"{"type":"offer.accept","offerId":"o1","ref":2}"#, #"{"type":"ping","ref":1.5}"#, #"[]"#, #"{"a":{"b":[{"c":null}]}}"#,
                       #"{"text":"line\nbreak","n":-0}"#, #"{"a":01}"#, #"[1 2]"#]   // (Linux JSONSerialization takes a trailing comma; RFC 8259 and this parser do not)
        for s in samples {
            let ours = JSONValue.parse(Array(s.utf8)) != nil
            let theirs = (try? JSONSerialization.jsonObject(with: Data(s.utf8), options: [.fragmentsAllowed])) != nil
            XCTAssertEqual(ours, theirs, s)
        }
    }
}
