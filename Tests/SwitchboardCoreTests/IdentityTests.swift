import XCTest
@testable import SwitchboardCore

final class IdentityTests: XCTestCase {
    func testPhoneNumbersKeepOnlyPrefixAndLastDigits() {
        let masked = Identity(kind: .sms, address: "+8613812345678").masked
        XCTAssertEqual(masked, "+86****5678")
        XCTAssertFalse(masked.contains("1234"), "the middle digits never reach a log")
    }

    func testOtherAddresses() {
        XCTAssertEqual(Identity(kind: .email, address: "zhangsan@example.cn").masked, "zhan****e.cn")
        XCTAssertEqual(Identity(kind: .wechat, address: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o").masked, "oUpF****eS6o")
        XCTAssertEqual(Identity(kind: .sms, address: "1234567").masked, "1****67")
    }

    func testShortAddressesShowOnlyTheirTail() {
        XCTAssertEqual(Identity(kind: .voice, address: "123456").masked, "****56")
        XCTAssertEqual(Identity(kind: .voice, address: "12").masked, "12")
        XCTAssertEqual(Identity(kind: .voice, address: "").masked, "")
    }
}
