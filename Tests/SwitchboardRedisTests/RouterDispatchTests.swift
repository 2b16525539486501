import Foundation
import XCTest
import SwitchboardCore
@testable import SwitchboardRedis

/// Picking an agent and ranking the queue (DESIGN §7 "Queues", "Picking an agent").
final class RouterDispatchTests: RouterTestCase {
    func testLongestIdleAgentGetsTheOfferAndAcceptingMovesItToTheBack() throws {
        try sync([agentConfig("a1", skills: ["sales": 1]), agentConfig("a2", skills: ["sales": 1])])
        try online("a2", at: 1)
        try online("a1", at: 2)
        conversation("c1")
        XCTAssertEqual(try enqueue("c1", at: 10), .offered(agentId: "a2", offerId: try offerId("c1")))

        try accept("a2", "c1", at: 11)
        XCTAssertEqual(zrange(availKey("sales")), ["a1", "a2"], "accepting resets idleSince")
        conversation("c2")
        try enqueue("c2", at: 12)
        XCTAssertEqual(offeredTo("c2"), "a1")
    }

    func testLeastBusyPrefersTheLowestLoadOverTheLongestIdle() throws {
        router = try makeRouter(RoutingSettings(offerTimeout: 20, strategy: .leastBusy))
        try twoAgents(capacity: 3)
        conversation("c1")
        try enqueue("c1", at: 3)
        XCTAssertEqual(offeredTo("c1"), "a1", "equal load: longest idle")
        conversation("c2")
        try enqueue("c2", at: 4)
        XCTAssertEqual(offeredTo("c2"), "a2", "a1 carries one reserved conversation")
    }

    func testSkillLevelBelowTheConversationsMinimumIsSkipped() throws {
        try sync([agentConfig("junior", skills: ["sales": 3]), agentConfig("senior", skills: ["sales": 6]),
                  agentConfig("other", skills: ["billing": 10])])
        try online("other", at: 1)
        try online("junior", at: 2)
        try online("senior", at: 3)
        conversation("c1", minLevel: 5)
        XCTAssertEqual(try enqueue("c1", at: 10), .offered(agentId: "senior", offerId: try offerId("c1")))
        conversation("c2")
        try enqueue("c2", at: 11)
        XCTAssertEqual(offeredTo("c2"), "junior", "default minimum level is 1")
        conversation("c3", minLevel: 9)
        XCTAssertEqual(try enqueue("c3", at: 12), .queued(position: 0))
    }

    func testCapacityIsPerChannelKind() throws {
        try sync([agentConfig("a1", skills: ["sales": 1], capacity: [.webchat: 1, .sms: 1])])
        try online("a1", at: 1)
        conversation("mail", kind: .email)
        XCTAssertEqual(try enqueue("mail", at: 2), .queued(position: 0), "no email capacity")
        conversation("w1")
        try enqueue("w1", at: 3)
        XCTAssertEqual(offeredTo("w1"), "a1")
        conversation("w2", queuedAt: 4)
        XCTAssertEqual(try enqueue("w2", at: 4), .queued(position: 1), "webchat full; behind the earlier email")
        conversation("s1", kind: .sms, queuedAt: 5)
        try enqueue("s1", at: 5)
        XCTAssertEqual(offeredTo("s1"), "a1", "sms capacity is separate")
        XCTAssertEqual(load("a1", .webchat), 1)
        XCTAssertEqual(load("a1", .sms), 1)
        XCTAssertEqual(zrange(queueKey("sales")), ["mail", "w2"])
    }

    func testPriorityFirstThenWaitWithAging() throws {
        // Aging 60 s per priority step: priority 5 is worth 5 minutes of waiting.
        conversation("old-low", priority: 0, queuedAt: -400_000)
        conversation("low", priority: 0, queuedAt: 0)
        conversation("high", priority: 5, queuedAt: 60_000)
        conversation("later-low", priority: 0, queuedAt: 1_000)
        for id in ["low", "later-low", "high", "old-low"] { try enqueue(id, at: 70_000) }
        XCTAssertEqual(zrange(queueKey("sales")), ["old-low", "high", "low", "later-low"])
        XCTAssertEqual(zscore(queueKey("sales"), "high"), Double(T0 + 60_000 - 5 * 60_000))

        try sync([agentConfig("a1", skills: ["sales": 1], capacity: [.webchat: 2])])
        try online("a1", at: 80_000)
        XCTAssertEqual(offeredTo("old-low"), "a1")
        XCTAssertEqual(offeredTo("high"), "a1")
        XCTAssertEqual(zrange(queueKey("sales")), ["low", "later-low"])
    }

    func testFrontEnqueueGoesAheadOfEveryNormalEntry() throws {
        conversation("urgent", priority: 9, queuedAt: 0)
        conversation("requeued", priority: 0, queuedAt: 5_000)
        try enqueue("urgent", at: 6_000)
        XCTAssertEqual(try enqueue("requeued", front: true, at: 6_000), .queued(position: 0))
        XCTAssertEqual(zrange(queueKey("sales")), ["requeued", "urgent"])
    }

    func testVoiceIsExclusive() throws {
        try sync([agentConfig("a1", skills: ["sales": 1], capacity: [.webchat: 3, .voice: 1])])
        try online("a1", at: 1)
        conversation("chat1")
        try enqueue("chat1", at: 2)
        try accept("a1", "chat1", at: 3)
        conversation("call", kind: .voice, queuedAt: 4)
        try enqueue("call", at: 4)
        XCTAssertEqual(offeredTo("call"), "a1", "a call needs free voice capacity only")
        try accept("a1", "call", at: 5)

        conversation("chat2", queuedAt: 6)
        XCTAssertEqual(try enqueue("chat2", at: 6), .queued(position: 0), "an agent on a call takes nothing else")
        conversation("call2", kind: .voice, queuedAt: 7)
        XCTAssertEqual(try enqueue("call2", at: 7), .queued(position: 1), "voice capacity is 1")

        _ = try must { router.close(agentId: "a1", conversationId: "call", category: nil, disposition: nil, now: T0 + 8, completion: $0) }
        XCTAssertEqual(try sweep(at: 10_008).finishedWrapups, 1)
        XCTAssertEqual(offeredTo("chat2"), "a1", "after the call the queue drains in rank order")
        XCTAssertEqual(offeredTo("call2"), "a1", "the voice slot is free again too")
    }

    func testEnqueueIsIdempotent() throws {
        conversation("c1")
        XCTAssertEqual(try enqueue("c1", at: 1), .queued(position: 0))
        let score = zscore(queueKey("sales"), "c1")
        XCTAssertEqual(try enqueue("c1", front: true, at: 2), .queued(position: 0))
        XCTAssertEqual(zscore(queueKey("sales"), "c1"), score, "a repeat does not move the conversation")

        try sync([agentConfig("a1", skills: ["sales": 1])])
        try online("a1", at: 3)
        let oid = try offerId("c1")
        XCTAssertEqual(try enqueue("c1", at: 4), .offered(agentId: "a1", offerId: oid))
        try accept("a1", "c1", at: 5)
        XCTAssertEqual(try enqueue("c1", at: 6), .assigned(agentId: "a1"))
        XCTAssertEqual(eventTypes("a1"), ["presence", "offer", "assigned"])
        XCTAssertEqual(counter("enqueued"), 1)
        XCTAssertEqual(counter("offers_made"), 1)
        XCTAssertEqual(load("a1"), 1)
    }

    func testEnqueueChecksTheConversation() throws {
        XCTAssertEqual(errorCode { router.enqueue(conversationId: "nope", now: T0, completion: $0) }, "not_found")
        conversation("c1")
        _ = redis.run("HSET", convKey("c1"), "status", "closed")
        XCTAssertEqual(errorCode { router.enqueue(conversationId: "c1", now: T0, completion: $0) }, "conflict")
        XCTAssertNil(zscore(queueKey("sales"), "c1"))
    }

    func testBotHandoffQueuesFromNow() throws {
        conversation("c1")
        _ = redis.run("HSET", convKey("c1"), "status", "bot")
        _ = redis.run("HDEL", convKey("c1"), "queuedAt")
        XCTAssertEqual(try enqueue("c1", at: 9_000), .queued(position: 0))
        XCTAssertEqual(status("c1"), "queued")
        XCTAssertEqual(hget(convKey("c1"), "queuedAt"), String(T0 + 9_000))
    }

    func testAgentsOutsideRoutingGetNothing() throws {
        try sync([agentConfig("away", skills: ["sales": 1]), agentConfig("gone", skills: ["sales": 1]),
                  agentConfig("offline", skills: ["sales": 1])])
        try online("away", at: 1)
        _ = try must { router.setPresence(agentId: "away", status: .away, reason: "break", now: T0 + 2, completion: $0) }
        try online("gone", at: 3)
        XCTAssertTrue(try must { router.disconnect(agentId: "gone", node: "n1", now: T0 + 4, completion: $0) })
        conversation("c1")
        XCTAssertEqual(try enqueue("c1", at: 5), .queued(position: 0),
                       "away, disconnected (even within grace) and offline agents are not offered anything")
        XCTAssertEqual(zrange(availKey("sales")), ["gone"])
    }
}
