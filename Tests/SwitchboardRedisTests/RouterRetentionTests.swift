import XCTest
import SwitchboardCore
@testable import SwitchboardRedis

/// Ended conversations expire after the configured retention; live ones never do (DESIGN §1,
/// records kept ≥ 3 months; §8 "trimmed by retention").
final class RouterRetentionTests: RouterTestCase {
    func ttl(_ key: String) -> Int64 {
        redis.run("PTTL", key).int ?? -99
    }

    func testClosedAndAbandonedConversationsExpireAfterTheRetention() throws {
        redis.run("HSET", keys.config, "retention_ms", "7776000000")   // 90 days
        try sync([agentConfig("a1", skills: ["sales": 5])])
        try online("a1", at: 0)
        conversation("c1")
        conversation("c2")
        _ = redis.run("XADD", keys(.log, "c1"), "*", "m", "{}")
        _ = try enqueue("c1")
        try accept("a1", "c1", at: 1)
        XCTAssertEqual(ttl(convKey("c1")), -1, "an open conversation never expires")
        _ = try enqueue("c2", at: 2)
        XCTAssertEqual(try must { router.abandon(conversationId: "c2", now: T0 + 3, completion: $0) }, true)
        XCTAssertGreaterThan(ttl(convKey("c2")), 7_775_000_000, "abandoned: expires with the retention")

        _ = try must { router.close(agentId: "a1", conversationId: "c1", category: nil, disposition: nil, now: T0 + 4, completion: $0) }
        XCTAssertEqual(ttl(convKey("c1")), -1, "wrap-up is not the end yet")
        _ = try sweep(at: 11_000)
        XCTAssertEqual(status("c1"), "closed")
        XCTAssertGreaterThan(ttl(convKey("c1")), 7_775_000_000)
        XCTAssertGreaterThan(ttl(keys(.log, "c1")), 7_775_000_000, "the message log goes with it")
    }

    func testWithoutARetentionNothingExpires() throws {
        try sync([agentConfig("a1", skills: ["sales": 5])])
        conversation("c1")
        _ = try enqueue("c1")
        XCTAssertEqual(try must { router.abandon(conversationId: "c1", now: T0 + 3, completion: $0) }, true)
        XCTAssertEqual(ttl(convKey("c1")), -1)
    }

    func testAgentEventStreamsAreTrimmedToTheBacklog() throws {
        redis.run("HSET", keys.config, "agent_event_backlog", "100")
        try sync([agentConfig("a1", skills: ["sales": 5])])
        for i in 0..<1000 {
            _ = try must { router.setPresence(agentId: "a1", status: i % 2 == 0 ? .available : .away, reason: nil, now: T0 + Int64(i), completion: $0) }
        }
        let length = redis.run("XLEN", keys(.events, "a1")).int ?? 0
        XCTAssertLessThan(length, 300, "approximate trim keeps about the backlog")
        XCTAssertGreaterThanOrEqual(length, 100)
    }
}
