import Foundation
import XCTest
import SwitchboardCore
@testable import SwitchboardRedis

/// Transfer, abandon, the visitor's queue position and the routing stats (DESIGN §7 "Further
/// rules", §9).
final class RouterTransferTests: RouterTestCase {
    /// a1 (sales and billing) holds c1 assigned; a2 (sales) and b1 (billing) are configured offline.
    private func assignedToA1() throws {
        try sync([agentConfig("a1", skills: ["sales": 1, "billing": 1]), agentConfig("a2", skills: ["sales": 1]),
                  agentConfig("b1", skills: ["billing": 1])])
        try online("a1", at: 1)
        conversation("c1", queuedAt: 0)
        try enqueue("c1", at: 2)
        try accept("a1", "c1", at: 3)
    }

    /// The system messages transfer wrote to the conversation log.
    private func logMessages(_ conv: String) -> [[String: Any]] {
        (redis.run("XRANGE", keys(.log, conv), "-", "+").array ?? []).compactMap { entry in
            guard let json = entry.array?.last?.array?.last?.string else { return nil }
            return try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        }
    }

    func testTransferToSkillRequeuesAtTheFront() throws {
        try assignedToA1()
        conversation("w1", skill: "billing", priority: 9, queuedAt: -600_000)
        XCTAssertEqual(try enqueue("w1", at: 4), .offered(agentId: "a1", offerId: try offerId("w1")))
        try reject("a1", "w1", at: 5)
        XCTAssertEqual(status("w1"), "queued")

        let outcome = try must {
            router.transfer(agentId: "a1", conversationId: "c1", target: .skill("billing"), note: "needs a refund", now: T0 + 6, completion: $0)
        }
        XCTAssertEqual(outcome, .queued(position: 0))
        XCTAssertEqual(zrange(queueKey("billing")), ["c1", "w1"], "ahead of an old priority-9 conversation")
        XCTAssertEqual(hget(convKey("c1"), "skill"), "billing")
        XCTAssertNil(hget(convKey("c1"), "assignee"))
        XCTAssertEqual(load("a1"), 0)
        XCTAssertEqual(smembers(keys(.agentConvs, "a1")), [])
        XCTAssertEqual(zrange(keys(.declined, "c1")), ["a1"], "not offered back to the agent who transferred it while another can take it")
        XCTAssertEqual(zscore(keys(.declined, "c1"), "a1"), Double(T0 + 6), "nor within routing.reoffer_after of the transfer")
        XCTAssertEqual(eventTypes("a1").last, "conversation.updated")
        XCTAssertEqual((events("a1").last?["conversation"] as? [String: Any])?["status"] as? String, "queued")

        let note = try XCTUnwrap(logMessages("c1").last)
        XCTAssertEqual(note["author"] as? String, "system")
        XCTAssertEqual(note["direction"] as? String, "out")
        XCTAssertEqual(note["status"] as? String, "delivered")
        XCTAssertEqual(note["conversationId"] as? String, "c1")
        XCTAssertNil(note["id"])
        XCTAssertEqual((note["createdAt"] as? NSNumber)?.int64Value, T0 + 6)
        let parts = try XCTUnwrap(note["parts"] as? [[String: Any]])
        XCTAssertEqual(parts.first?["text"] as? String, "Transferred to billing: needs a refund")

        try online("b1", at: 7)
        let offered = events("b1").filter { ($0["type"] as? String) == "offer" }
            .compactMap { ($0["conversation"] as? [String: Any])?["id"] as? String }
        XCTAssertEqual(offered, ["c1", "w1"], "the front entry is served first")
        try accept("b1", "c1", at: 8)
        XCTAssertEqual(hget(keys(.stats), "wait_ms:sales"), "3")
        XCTAssertNil(hget(keys(.stats), "wait_ms:billing"), "a second assignment is not a queue wait")
    }

    func testTransferToAgentOffersAndFallsBackToTheFront() throws {
        try assignedToA1()
        try online("a2", at: 4)
        let outcome = try must {
            router.transfer(agentId: "a1", conversationId: "c1", target: .agent("a2"), note: nil, now: T0 + 5, completion: $0)
        }
        let oid = try offerId("c1")
        XCTAssertEqual(outcome, .offered(agentId: "a2", offerId: oid))
        XCTAssertEqual(load("a1"), 0)
        XCTAssertEqual(load("a2"), 1)
        XCTAssertEqual(eventTypes("a2").last, "offer")
        XCTAssertEqual(eventTypes("a1").last, "conversation.updated")
        XCTAssertEqual((logMessages("c1").last?["parts"] as? [[String: Any]])?.first?["text"] as? String, "Transferred to Agent a2")

        // a2 declines: back to the front of sales; a1 (who has room) does not get it back.
        conversation("c9", priority: 9, queuedAt: 1)
        _ = try must { router.reject(agentId: "a2", offerId: oid, reason: nil, now: T0 + 6, completion: $0) }
        XCTAssertEqual(status("c1"), "queued")
        XCTAssertLessThan(try XCTUnwrap(zscore(queueKey("sales"), "c1")), 0, "front rank")
        XCTAssertEqual(eventTypes("a1").filter { $0 == "offer" }.count, 1, "only the original offer")
        try sync([agentConfig("a1", skills: ["sales": 1, "billing": 1]), agentConfig("a2", skills: ["sales": 1]),
                  agentConfig("b1", skills: ["billing": 1]), agentConfig("a3", skills: ["sales": 1], capacity: [.webchat: 1])])
        try enqueue("c9", at: 7)
        XCTAssertEqual(offeredTo("c9"), "a1")
        try online("a3", at: 8)
        XCTAssertEqual(offeredTo("c1"), "a3")
    }

    func testTransferToAnUnavailableAgentChangesNothing() throws {
        try assignedToA1()
        XCTAssertEqual(errorCode {
            router.transfer(agentId: "a1", conversationId: "c1", target: .agent("a2"), note: "x", now: T0 + 5, completion: $0)
        }, "conflict")
        XCTAssertEqual(status("c1"), "assigned")
        XCTAssertEqual(hget(convKey("c1"), "assignee"), "a1")
        XCTAssertEqual(load("a1"), 1)
        XCTAssertEqual(logMessages("c1").count, 0)
        XCTAssertEqual(errorCode {
            router.transfer(agentId: "a2", conversationId: "c1", target: .skill("billing"), note: nil, now: T0 + 5, completion: $0)
        }, "forbidden")
        XCTAssertEqual(errorCode {
            router.transfer(agentId: "a1", conversationId: "c1", target: .agent("nobody"), note: nil, now: T0 + 5, completion: $0)
        }, "not_found")
        XCTAssertEqual(errorCode {
            router.transfer(agentId: "a1", conversationId: "c1", target: .agent("a1"), note: nil, now: T0 + 5, completion: $0)
        }, "bad_request")
        XCTAssertEqual(status("c1"), "assigned")
    }

    func testAbandonWhileQueuedOrOffered() throws {
        try sync([agentConfig("a1", skills: ["sales": 1], capacity: [.webchat: 1])])
        try online("a1", at: 1)
        conversation("c1", queuedAt: 0, contact: "k1")
        conversation("c2", queuedAt: 1, contact: "k2")
        conversation("c3", queuedAt: 2, contact: "k3")
        for id in ["c1", "c2", "c3"] { try enqueue(id, at: 3) }
        _ = redis.run("SET", keys(.open, "k2", "web-main"), "c2")

        XCTAssertTrue(try must { router.abandon(conversationId: "c2", now: T0 + 4, completion: $0) })
        XCTAssertEqual(status("c2"), "abandoned")
        XCTAssertEqual(zrange(queueKey("sales")), ["c3"])
        XCTAssertEqual(redis.run("EXISTS", keys(.open, "k2", "web-main")), .integer(0))

        let oid = try offerId("c1")
        XCTAssertTrue(try must { router.abandon(conversationId: "c1", now: T0 + 5, completion: $0) })
        XCTAssertEqual(status("c1"), "abandoned")
        XCTAssertEqual(hget(convKey("c1"), "closedAt"), String(T0 + 5))
        let rescinded = events("a1").first { ($0["type"] as? String) == "offer.rescinded" }
        XCTAssertEqual(rescinded?["offerId"] as? String, oid)
        XCTAssertEqual(rescinded?["reason"] as? String, "abandoned")
        XCTAssertEqual(offeredTo("c3"), "a1", "the freed capacity drains at once")
        XCTAssertEqual(load("a1"), 1)
        XCTAssertEqual(counter("abandoned"), 2)

        XCTAssertFalse(try must { router.abandon(conversationId: "c1", now: T0 + 6, completion: $0) }, "a repeat is a no-op")
        try accept("a1", "c3", at: 7)
        XCTAssertFalse(try must { router.abandon(conversationId: "c3", now: T0 + 8, completion: $0) })
        XCTAssertEqual(status("c3"), "assigned")
        XCTAssertEqual(counter("abandoned"), 2)
    }

    func testQueuePositionAndEstimatedWait() throws {
        for (i, id) in ["c1", "c2", "c3"].enumerated() {
            conversation(id, queuedAt: Int64(i))
            try enqueue(id, at: 10)
        }
        XCTAssertEqual(try must { router.queuePosition(conversationId: "c2", now: T0 + 10, completion: $0) },
                       QueuePosition(position: 1, estimatedWaitSeconds: 60), "30 s per place without data")

        try sync([agentConfig("a1", skills: ["sales": 1], capacity: [.webchat: 1])])
        try online("a1", at: 10_000)
        try accept("a1", "c1", at: 25_000)  // waited 25 s
        XCTAssertEqual(try must { router.queuePosition(conversationId: "c3", now: T0 + 25_001, completion: $0) },
                       QueuePosition(position: 1, estimatedWaitSeconds: 50))
        XCTAssertNil(try must { router.queuePosition(conversationId: "c1", now: T0 + 25_001, completion: $0) })
        XCTAssertEqual(errorCode { router.queuePosition(conversationId: "nope", now: T0, completion: $0) }, "not_found")
    }

    func testStats() throws {
        try sync([agentConfig("a1", skills: ["sales": 1], capacity: [.webchat: 1, .voice: 1]),
                  agentConfig("a2", skills: ["billing": 1])])
        try online("a1", at: 1)
        conversation("c1", queuedAt: 0)
        conversation("c2", queuedAt: 1)
        try enqueue("c1", at: 2)
        try enqueue("c2", at: 2)
        try accept("a1", "c1", at: 2_002)

        let stats = try must { router.stats(skills: ["complaints"], now: T0 + 3_000, completion: $0) }
        XCTAssertEqual(stats.queueDepths, ["sales": 1, "billing": 0, "complaints": 0])
        XCTAssertEqual(stats.presence, [.available: 1, .away: 0, .offline: 1])
        XCTAssertEqual(stats.agents.map(\.id), ["a1", "a2"])
        XCTAssertEqual(stats.agents[0], AgentRoutingState(
            id: "a1", name: "Agent a1", status: .available, reason: "", connected: true,
            load: [.webchat: 1, .sms: 0, .wechat: 0, .email: 0, .voice: 0, .mailbox: 0]))
        XCTAssertFalse(stats.agents[1].connected)
        XCTAssertEqual(stats.counters["offers_made"], 1)
        XCTAssertEqual(stats.counters["offers_accepted"], 1)
        XCTAssertEqual(stats.counters["enqueued"], 2)
        XCTAssertNil(stats.counters["wait_ms"], "averages are not counters")
        XCTAssertEqual(stats.averageWaitMilliseconds, ["sales": 2_002, "*": 2_002])
    }
}
