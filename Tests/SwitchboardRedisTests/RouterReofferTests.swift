import Foundation
import XCTest
import SwitchboardCore
@testable import SwitchboardRedis

/// DESIGN §7 "Re-offer": a conversation is not offered again to an agent who rejected or missed it
/// while another eligible agent exists, nor within `routing.reoffer_after` (30 s here, the default)
/// of that decline; after that it returns to them, by the sweep, without waiting for new traffic.
/// The agent who missed it is told the truth about where it went.
final class RouterReofferTests: RouterTestCase {
    private func rescinded(_ agent: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let event = try XCTUnwrap(events(agent).last(where: { $0["type"] as? String == "offer.rescinded" }),
                                  "\(agent) was told nothing", file: file, line: line)
        XCTAssertEqual(event["reason"] as? String, "timeout", file: file, line: line)
        return event
    }

    /// c1 waits through a sweep 1 ms before `offset` (the cooldown's end) and is offered to `agent`
    /// by the sweep at `offset`.
    private func assertReoffered(at offset: Int64, to agent: String, file: StaticString = #filePath, line: UInt = #line) throws {
        _ = try sweep(at: offset - 1)
        XCTAssertEqual(status("c1"), "queued", "not within routing.reoffer_after of the decline", file: file, line: line)
        _ = try sweep(at: offset)
        XCTAssertEqual(offeredTo("c1"), agent, "the cooldown is over and \(agent) is the only eligible agent", file: file, line: line)
    }

    /// a1 alone (capacity 1) is offered c1 at T0 + 10.
    private func oneAgentOffered() throws {
        try sync([agentConfig("a1", skills: ["sales": 1], capacity: [.webchat: 1])])
        try online("a1", at: 1)
        conversation("c1")
        try enqueue("c1", at: 10)
    }

    /// The reported defect: one eligible agent misses the offer, and the conversation waited in the
    /// queue for good while she sat idle with free capacity.
    func testAMissedOfferReturnsToTheOnlyAgentAfterTheCooldown() throws {
        try oneAgentOffered()
        let first = try offerId("c1")

        XCTAssertEqual(try sweep(at: 20_010).expiredOffers, 1)
        XCTAssertEqual(status("c1"), "queued")
        let told = try rescinded("a1")
        XCTAssertEqual(told["offerId"] as? String, first)
        XCTAssertEqual(told["next"] as? String, "queue", "nobody else took it: back in the queue, not 'another agent'")
        XCTAssertEqual(hget(agentKey("a1"), "status"), "available", "one miss is below the missed limit")

        // Within the cooldown neither the sweep nor the agent's own drain offers it back.
        _ = try must { router.setPresence(agentId: "a1", status: .available, reason: nil, now: T0 + 30_000, completion: $0) }
        XCTAssertEqual(status("c1"), "queued")
        try assertReoffered(at: 50_010, to: "a1")
        XCTAssertNotEqual(try offerId("c1"), first)
        XCTAssertEqual(eventTypes("a1").filter { $0 == "offer" }.count, 2)
        XCTAssertEqual(zrange(keys(.reoffer)), [], "the sweep took its entry")
    }

    func testARejectedOfferReturnsToTheOnlyAgentAfterTheCooldown() throws {
        try oneAgentOffered()
        try reject("a1", "c1", at: 11)
        XCTAssertEqual(status("c1"), "queued")
        try assertReoffered(at: 30_011, to: "a1")
    }

    func testWithTwoAgentsTheOtherGetsAMissedOfferFirst() throws {
        try twoAgents()
        conversation("c1")
        try enqueue("c1", at: 10)
        XCTAssertEqual(offeredTo("c1"), "a1", "longest idle")

        _ = try sweep(at: 20_010)
        XCTAssertEqual(offeredTo("c1"), "a2")
        XCTAssertEqual(try rescinded("a1")["next"] as? String, "agent", "it really was passed to another agent")

        // a2 misses it too while a1's decline still cools: it waits in the queue.
        _ = try sweep(at: 40_010)
        XCTAssertEqual(status("c1"), "queued")
        XCTAssertEqual(try rescinded("a2")["next"] as? String, "queue")
        // a1's cooldown ends first (a2's runs to 70 010): back to a1, the only eligible agent now.
        try assertReoffered(at: 50_010, to: "a1")
    }

    /// An agent whose decline has cooled is only the fallback: anyone who never declined comes first,
    /// even when the decliner has been idle longer.
    func testACooledDeclineYieldsToAnAgentWhoNeverDeclined() throws {
        try twoAgents()
        conversation("c1")
        conversation("c2")
        _ = redis.run("ZADD", keys(.declined, "c1"), String(T0), "a1")
        _ = redis.run("ZADD", keys(.declined, "c2"), String(T0), "a1")
        try enqueue("c1", at: 100_000)
        XCTAssertEqual(offeredTo("c1"), "a2", "a1 declined it, a2 never did")
        // a2 is full now: a1, whose decline has long cooled, is the only one left.
        try enqueue("c2", at: 100_001)
        XCTAssertEqual(offeredTo("c2"), "a1")
    }

    func testLeastBusyAlsoPrefersAnAgentWhoNeverDeclined() throws {
        router = try makeRouter(RoutingSettings(offerTimeout: 20, offerMissedLimit: 2, reconnectGrace: 30, wrapupSeconds: 10,
                                                strategy: .leastBusy, agingSecondsPerPriority: 60))
        try twoAgents(capacity: 3)
        conversation("c0")
        try enqueue("c0", at: 3)
        XCTAssertEqual(offeredTo("c0"), "a1")
        conversation("c1")
        _ = redis.run("ZADD", keys(.declined, "c1"), String(T0), "a2")
        try enqueue("c1", at: 100_000)
        XCTAssertEqual(offeredTo("c1"), "a1", "a2 is less busy but declined it")
    }
}
