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
