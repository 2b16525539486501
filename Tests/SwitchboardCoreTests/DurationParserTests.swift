import XCTest
@testable import SwitchboardCore

final class DurationParserTests: XCTestCase {
    func testUnits() {
        XCTAssertEqual(DurationParser.seconds(from: "250ms"), 0.25)
        XCTAssertEqual(DurationParser.seconds(from: "20s"), 20)
        XCTAssertEqual(DurationParser.seconds(from: "5m"), 300)
        XCTAssertEqual(DurationParser.seconds(from: "2h"), 7200)
        XCTAssertEqual(DurationParser.seconds(from: "90d"), 90 * 86_400)
        XCTAssertEqual(DurationParser.seconds(from: "1.5s"), 1.5)
        XCTAssertEqual(DurationParser.seconds(from: "0s"), 0)
    }

    func testBareNumbersAreSeconds() {
        XCTAssertEqual(DurationParser.seconds(from: "20"), 20)
        XCTAssertEqual(DurationParser.seconds(from: "0.25"), 0.25)
        XCTAssertEqual(DurationParser.seconds(from: " 7 "), 7)
        XCTAssertEqual(DurationParser.seconds(from: "20 s"), 20)
    }

    func testRejectsWhatNoOneMeans() {
        for bad in ["", "s", "ms", "-5s", "+5s", "1e3", "nan", "inf", "5 minutes", "1h30m", "5S", "1..5s", ".", "5x", "0x10"] {
            XCTAssertNil(DurationParser.seconds(from: bad), bad)
        }
    }

    func testSizes() {
        XCTAssertEqual(ByteSizeParser.bytes(from: "1MiB"), 1_048_576)
        XCTAssertEqual(ByteSizeParser.bytes(from: "64KiB"), 65_536)
        XCTAssertEqual(ByteSizeParser.bytes(from: "512KB"), 512_000)
        XCTAssertEqual(ByteSizeParser.bytes(from: "2GB"), 2_000_000_000)
        XCTAssertEqual(ByteSizeParser.bytes(from: "1GiB"), 1 << 30)
        XCTAssertEqual(ByteSizeParser.bytes(from: "3MB"), 3_000_000)
        XCTAssertEqual(ByteSizeParser.bytes(from: "100B"), 100)
        XCTAssertEqual(ByteSizeParser.bytes(from: "4096"), 4096)
        XCTAssertEqual(ByteSizeParser.bytes(from: "1mib"), 1_048_576, "units are case-insensitive")
        XCTAssertEqual(ByteSizeParser.bytes(from: " 8 KiB "), 8192)
    }

    func testRejectsBadSizes() {
        for bad in ["", "MiB", "1.5MiB", "-1KiB", "1k", "1m", "1TB", "ten", "99999999999999999999GiB", "1 000"] {
            XCTAssertNil(ByteSizeParser.bytes(from: bad), bad)
        }
        XCTAssertNil(ByteSizeParser.bytes(from: "9223372036854775807KiB"), "overflow is refused, not wrapped")
    }
}
