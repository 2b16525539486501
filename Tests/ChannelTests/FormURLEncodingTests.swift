import XCTest
import SMSChannel
import SwitchboardCore

/// `application/x-www-form-urlencoded` decoding edge cases (WHATWG URL Standard §5).
final class FormURLEncodingTests: XCTestCase {
    private func decode(_ text: String) throws -> [[String]] {
        try FormURLEncoding.decode(Array(text.utf8)).map { [$0.0, $0.1] }
    }

    func testSegmentsAndEquals() throws {
        XCTAssertEqual(try decode(""), [])
        XCTAssertEqual(try decode("&"), [])
        XCTAssertEqual(try decode("a=1&&b=2"), [["a", "1"], ["b", "2"]])   // empty segments skipped
        XCTAssertEqual(try decode("a=1&"), [["a", "1"]])
        XCTAssertEqual(try decode("&a=1"), [["a", "1"]])
        XCTAssertEqual(try decode("a"), [["a", ""]])                        // no `=`: empty value
        XCTAssertEqual(try decode("a="), [["a", ""]])
        XCTAssertEqual(try decode("=v"), [["", "v"]])
        XCTAssertEqual(try decode("a=b=c"), [["a", "b=c"]])                 // only the first `=` splits
        XCTAssertEqual(try decode("x=1&x=2&y=3"), [["x", "1"], ["x", "2"], ["y", "3"]])  // order and repeats kept
    }

    func testEscapes() throws {
        XCTAssertEqual(try decode("%E4%BD%A0+x=%2B8613812345678"), [["你 x", "+8613812345678"]])
        XCTAssertEqual(try decode("Body=%e4%bd%a0%E5%A5%BD"), [["Body", "你好"]])
        XCTAssertEqual(try decode("Body=你好"), [["Body", "你好"]])             // raw UTF-8 is accepted
    }

    func testMalformedInputIsRefused() {
        for bad in ["a=%ZZ", "a=%4", "a=%", "a=%E4", "%FF=1", "a=\u{FFFD}".replacingOccurrences(of: "\u{FFFD}", with: "%C0%AF")] {
            XCTAssertThrowsError(try decode(bad), bad)
        }
        XCTAssertThrowsError(try FormURLEncoding.decode([UInt8(ascii: "a"), UInt8(ascii: "="), 0xFF]))
    }
}
