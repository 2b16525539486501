import Foundation
import XCTest
import SwitchboardCore
@testable import SwitchboardRedis

/// Offers: accept, reject, timeout, the missed limit and the sweep (DESIGN §7 "Offers").
final class RouterOfferTests: RouterTestCase {
    func testOfferEventAndReservation() throws {
        try twoAgents()
        conversation("c1")
        try enqueue("c1", at: 10)
        let oid = try offerId("c1")
        let offer = try XCTUnwrap(events("a1").last)
        XCTAssertEqual(offer["type"] as? String, "offer")
        XCTAssertEqual(offer["offerId"] as? String, oid)
        XCTAssertEqual((offer["expiresAt"] as? NSNumber)?.int64Value, T0 + 10 + 20_000)
        let conv = try XCTUnwrap(offer["conversation"] as? [String: Any])
        XCTAssertEqual(conv["id"] as? String, "c1")
        XCTAssertEqual(conv["status"] as? String, "offered")
        XCTAssertEqual(load("a1"), 1)
        XCTAssertEqual(smembers(keys(.agentOffers, "a1")), [oid])
        XCTAssertEqual(zscore(keys(.offers), oid), Double(T0 + 20_010))
        XCTAssertNil(zscore(queueKey("sales"), "c1"))
        XCTAssertEqual(eventTypes("a2"), ["presence"], "only the chosen agent hears of it")
    }

    func testAcceptAssigns() throws {
        try twoAgents()
        conversation("c1", queuedAt: 0)
        try enqueue("c1", at: 10)
        _ = redis.run("HSET", agentKey("a1"), "missed", "1")
        let oid = try offerId("c1")
        let json = try must { router.accept(agentId: "a1", offerId: oid, now: T0 + 4_010, completion: $0) }
        let conv = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        XCTAssertEqual(conv["status"] as? String, "assigned")
        XCTAssertEqual(conv["assignee"] as? String, "a1")
        XCTAssertEqual(status("c1"), "assigned")
        XCTAssertEqual(hget(convKey("c1"), "assignee"), "a1")
        XCTAssertNil(hget(convKey("c1"), "offer"))
        XCTAssertEqual(smembers(keys(.agentConvs, "a1")), ["c1"])
        XCTAssertEqual(smembers(keys(.agentOffers, "a1")), [])
        XCTAssertEqual(redis.run("EXISTS", keys(.offer, oid)), .integer(0))
        XCTAssertEqual(hget(agentKey("a1"), "missed"), "0")
        XCTAssertEqual(hget(agentKey("a1"), "idleSince"), String(T0 + 4_010))
        XCTAssertEqual(load("a1"), 1, "the reservation became the assignment")
        XCTAssertEqual(eventTypes("a1"), ["presence", "offer", "assigned"])
        XCTAssertEqual(counter("offers_accepted"), 1)
        XCTAssertEqual(hget(keys(.stats), "wait_ms:sales"), "4010")
    }

    func testAcceptErrors() throws {
        try twoAgents()
        conversation("c1")
        try enqueue("c1", at: 10)
        let oid = try offerId("c1")
        XCTAssertEqual(errorCode { router.accept(agentId: "a1", offerId: "o-none", now: T0 + 11, completion: $0) }, "not_found")
        XCTAssertEqual(errorCode { router.accept(agentId: "a2", offerId: oid, now: T0 + 11, completion: $0) }, "forbidden")
        XCTAssertEqual(errorCode { router.accept(agentId: "a1", offerId: oid, now: T0 + 20_010, completion: $0) }, "conflict",
                       "expired, even before a sweep ran")
        XCTAssertEqual(status("c1"), "offered", "a failed accept changes nothing")
        XCTAssertEqual(errorCode { router.reject(agentId: "a2", offerId: oid, reason: nil, now: T0 + 11, completion: $0) }, "forbidden")
        XCTAssertEqual(offeredTo("c1"), "a1")
    }

    func testRejectGoesToTheNextAgentNotBack() throws {
        try twoAgents()
        conversation("c1")
        try enqueue("c1", at: 10)
        XCTAssertEqual(offeredTo("c1"), "a1")
        let first = try offerId("c1")
        let score = zscore(queueKey("sales"), "c1")
        XCTAssertNil(score)

        _ = try must { router.reject(agentId: "a1", offerId: first, reason: "busy", now: T0 + 11, completion: $0) }
        XCTAssertEqual(offeredTo("c1"), "a2")
        XCTAssertEqual(load("a1"), 0)
        XCTAssertEqual(zrange(keys(.declined, "c1")), ["a1"])
        XCTAssertEqual(zscore(keys(.declined, "c1"), "a1"), Double(T0 + 11), "the cooldown counts from the reject")
        XCTAssertEqual(hget(convKey("c1"), "declineReason"), "busy")
        XCTAssertEqual(counter("offers_rejected"), 1)

        try reject("a2", "c1", at: 12)
        XCTAssertEqual(status("c1"), "queued", "both declined: it waits for someone new or for the cooldown")
        XCTAssertEqual(zscore(queueKey("sales"), "c1"), Double(T0), "back at its original rank")
        XCTAssertEqual(load("a1"), 0)
        XCTAssertEqual(load("a2"), 0)
        XCTAssertEqual(eventTypes("a1"), ["presence", "offer"], "no second offer of c1 to a1")

        // The rejecting agent drains: another conversation is offered to it at once.
        conversation("c2", queuedAt: 5)
        try enqueue("c2", at: 13)
        XCTAssertEqual(offeredTo("c2"), "a1")
        try sync([agentConfig("a1", skills: ["sales": 1], capacity: [.webchat: 1]),
                  agentConfig("a2", skills: ["sales": 1], capacity: [.webchat: 1]),
                  agentConfig("a3", skills: ["sales": 1], capacity: [.webchat: 1])])
        try online("a3", at: 14)
        XCTAssertEqual(offeredTo("c1"), "a3")
    }

    func testRejectDrainsTheRejectingAgent() throws {
        try sync([agentConfig("a1", skills: ["sales": 1], capacity: [.webchat: 1])])
        try online("a1", at: 1)
        conversation("c1", queuedAt: 0)
        conversation("c2", queuedAt: 1)
        try enqueue("c1", at: 2)
        try enqueue("c2", at: 2)
        XCTAssertEqual(offeredTo("c1"), "a1")
        XCTAssertEqual(status("c2"), "queued")
        try reject("a1", "c1", at: 3)
        XCTAssertEqual(offeredTo("c2"), "a1")
        XCTAssertEqual(status("c1"), "queued")
    }

    func testOfferTimeoutGoesToTheNextAgent() throws {
        try twoAgents()
        conversation("c1")
        try enqueue("c1", at: 10)
        let oid = try offerId("c1")
        XCTAssertEqual(try sweep(at: 20_009), SweepOutcome(expiredOffers: 0, finishedWrapups: 0, endedGraces: 0))
        XCTAssertEqual(offeredTo("c1"), "a1")

        XCTAssertEqual(try sweep(at: 20_010).expiredOffers, 1)
        XCTAssertEqual(offeredTo("c1"), "a2")
        let rescinded = try XCTUnwrap(events("a1").last)
        XCTAssertEqual(rescinded["type"] as? String, "offer.rescinded")
        XCTAssertEqual(rescinded["offerId"] as? String, oid)
        XCTAssertEqual(rescinded["reason"] as? String, "timeout")
        XCTAssertEqual(hget(agentKey("a1"), "missed"), "1")
        XCTAssertEqual(hget(agentKey("a1"), "status"), "available", "one miss is below the limit")
        XCTAssertEqual(load("a1"), 0)
        XCTAssertEqual(counter("offers_timeout"), 1)
    }

    func testMissedLimitSetsTheAgentAway() throws {
        try sync([agentConfig("a1", skills: ["sales": 1], capacity: [.webchat: 2])])
        try online("a1", at: 1)
        conversation("c1", queuedAt: 0)
        try enqueue("c1", at: 10)
        conversation("c2", queuedAt: 1)
        try enqueue("c2", at: 5_000)
        XCTAssertEqual(offeredTo("c2"), "a1")
        let second = try offerId("c2")

        XCTAssertEqual(try sweep(at: 20_010).expiredOffers, 1)
        XCTAssertEqual(hget(agentKey("a1"), "status"), "available")
        XCTAssertEqual(status("c1"), "queued", "declined by its only agent")

        XCTAssertEqual(try sweep(at: 25_000).expiredOffers, 1)
        XCTAssertEqual(hget(agentKey("a1"), "status"), "away")
        XCTAssertEqual(hget(agentKey("a1"), "reason"), "missed")
        XCTAssertEqual(zrange(availKey("sales")), [])
        let tail = events("a1").suffix(2).map { ($0["type"] as? String ?? "", $0["reason"] as? String ?? "") }
        XCTAssertEqual(tail.map(\.0), ["offer.rescinded", "presence"])
        XCTAssertEqual(tail.map(\.1), ["timeout", "missed"])
        XCTAssertEqual(events("a1").last?["status"] as? String, "away")
        XCTAssertNil(hget(convKey("c2"), "offer"))
        XCTAssertEqual(redis.run("EXISTS", keys(.offer, second)), .integer(0))

        // Coming back resets the count and drains what the agent has not declined.
        conversation("c3", queuedAt: 2)
        try enqueue("c3", at: 26_000)
        _ = try must { router.setPresence(agentId: "a1", status: .available, reason: nil, now: T0 + 27_000, completion: $0) }
        XCTAssertEqual(hget(agentKey("a1"), "missed"), "0")
        XCTAssertEqual(offeredTo("c3"), "a1")
        XCTAssertEqual(status("c1"), "queued")
    }

    func testDoubleSweepIsHarmless() throws {
        try twoAgents()
        conversation("c1")
        try enqueue("c1", at: 10)
        let before = try sweep(at: 20_010)
        XCTAssertEqual(before.expiredOffers, 1)
        let snapshot = (eventTypes("a1"), eventTypes("a2"), offeredTo("c1"), load("a1"), load("a2"),
                        counter("offers_timeout"), hget(agentKey("a1"), "missed"))
        XCTAssertEqual(try sweep(at: 20_010), SweepOutcome(expiredOffers: 0, finishedWrapups: 0, endedGraces: 0))
        let again = try RouterOfferTests.sweepTwice(self)
        XCTAssertEqual(again, SweepOutcome(expiredOffers: 0, finishedWrapups: 0, endedGraces: 0))
        XCTAssertEqual(eventTypes("a1"), snapshot.0)
        XCTAssertEqual(eventTypes("a2"), snapshot.1)
        XCTAssertEqual(offeredTo("c1"), snapshot.2)
        XCTAssertEqual(load("a1"), snapshot.3)
        XCTAssertEqual(load("a2"), snapshot.4)
        XCTAssertEqual(counter("offers_timeout"), snapshot.5)
        XCTAssertEqual(hget(agentKey("a1"), "missed"), snapshot.6)
    }

    /// A second router (another node) sweeping the same instant.
    static func sweepTwice(_ t: RouterTestCase) throws -> SweepOutcome {
        let other = try t.makeRouter(t.settings)
        return try t.must { other.sweep(now: t.T0 + 20_010, completion: $0) }
    }
}
