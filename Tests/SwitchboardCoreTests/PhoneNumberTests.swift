import XCTest
import SwitchboardCore

/// E.164 normalization of the numbers providers send (PhoneNumber's doc comment lists the forms).
final class PhoneNumberTests: XCTestCase {
    func testAcceptedForms() {
        XCTAssertEqual(PhoneNumber.e164("+8613812345678"), "+8613812345678")
        XCTAssertEqual(PhoneNumber.e164("008613812345678"), "+8613812345678")
        XCTAssertEqual(PhoneNumber.e164("13812345678"), "+8613812345678")          // mainland mobile
        XCTAssertEqual(PhoneNumber.e164("8613812345678"), "+8613812345678")
        XCTAssertEqual(PhoneNumber.e164("85200001234"), "+85200001234")            // country code included
        XCTAssertEqual(PhoneNumber.e164("+1 415-555-0100"), "+14155550100")        // spaces, hyphens
        XCTAssertEqual(PhoneNumber.e164(" +86 138-1234-5678"), "+8613812345678")
        XCTAssertEqual(PhoneNumber.e164("+12345678901"), "+12345678901")          // 11 digits after + stay
        XCTAssertEqual(PhoneNumber.e164("1234567"), "+1234567")                    // 7 digits
        XCTAssertEqual(PhoneNumber.e164("+123456789012345"), "+123456789012345")  // 15 digits
    }

    func testRejectedForms() {
        for raw in ["", "+", "00", "+0086138", "0013812345678x", "13812345678a", "+86 138 1234 5678 9999",
                    "123456", "+1234567890123456", "0138123456", "++8613812345678", "86+13812345678",
                    "１３８１２３４５６７８", "(415) 555-0100"] {
            XCTAssertNil(PhoneNumber.e164(raw), raw)
        }
    }
}
