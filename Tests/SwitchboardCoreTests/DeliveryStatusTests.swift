import XCTest
@testable import SwitchboardCore

final class DeliveryStatusTests: XCTestCase {
    func testStatusesOnlyMoveForward() {
        XCTAssertTrue(DeliveryStatus.pending.canAdvance(to: .sent))
        XCTAssertTrue(DeliveryStatus.pending.canAdvance(to: .read))
        XCTAssertTrue(DeliveryStatus.sent.canAdvance(to: .delivered))
        XCTAssertTrue(DeliveryStatus.delivered.canAdvance(to: .read))
        XCTAssertFalse(DeliveryStatus.delivered.canAdvance(to: .sent), "a late 'sent' callback changes nothing")
        XCTAssertFalse(DeliveryStatus.read.canAdvance(to: .delivered))
        for status in DeliveryStatus.allCases {
            XCTAssertFalse(status.canAdvance(to: status), "equal is not progress: \(status)")
        }
    }

    func testFailure() {
        XCTAssertTrue(DeliveryStatus.pending.canAdvance(to: .failed))
        XCTAssertTrue(DeliveryStatus.sent.canAdvance(to: .failed))
        XCTAssertFalse(DeliveryStatus.delivered.canAdvance(to: .failed), "a delivered message cannot fail afterwards")
        XCTAssertFalse(DeliveryStatus.read.canAdvance(to: .failed))
        for next in DeliveryStatus.allCases {
            XCTAssertFalse(DeliveryStatus.failed.canAdvance(to: next), "failed is terminal: \(next)")
        }
    }
}
