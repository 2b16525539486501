import Foundation
import XCTest
import SwitchboardCore
@testable import SwitchboardRedis

/// Presence, draining, wrap-up, disconnects and configuration sync (DESIGN §7 "Draining",
/// "Disconnects and dead nodes", "Wrap-up").
final class RouterLifecycleTests: RouterTestCase {
    /// a1 (webchat capacity 1) holds c1 assigned; c2 waits.
    private func busyAgentWithWaitingConversation() throws {
        try sync([agentConfig("a1", skills: ["sales": 1], capacity: [.webchat: 1])])
        try online("a1", at: 1)
        conversation("c1", queuedAt: 0)
        try enqueue("c1", at: 2)
        try accept("a1", "c1", at: 3)
        conversation("c2", queuedAt: 4)
        XCTAssertEqual(try enqueue("c2", at: 4), .queued(position: 0))
    }

    func testCloseStartsWrapUpAndTheAgentDrainsWhenItEnds() throws {
        try busyAgentWithWaitingConversation()
        _ = redis.run("SET", keys(.open, "k1", "web-main"), "c1")
        let json = try must { router.close(agentId: "a1", conversationId: "c1", category: "业务咨询", disposition: "answered",
                                           now: T0 + 1_000, completion: $0) }
        XCTAssertTrue(json.contains("\"status\":\"wrapup\""))
        XCTAssertEqual(status("c1"), "wrapup")
        XCTAssertEqual(hget(convKey("c1"), "closedAt"), String(T0 + 1_000))
        XCTAssertEqual(hget(convKey("c1"), "category"), "业务咨询")
        XCTAssertEqual(hget(convKey("c1"), "disposition"), "answered")
        XCTAssertEqual(hget(convKey("c1"), "wrapupUntil"), String(T0 + 11_000))
        XCTAssertEqual(redis.run("EXISTS", keys(.open, "k1", "web-main")), .integer(0), "the next message opens a new conversation")
        XCTAssertEqual(eventTypes("a1").last, "conversation.updated")
        XCTAssertEqual(load("a1"), 1, "wrap-up keeps the capacity")
        XCTAssertEqual(status("c2"), "queued")

        XCTAssertEqual(try sweep(at: 10_999).finishedWrapups, 0)
        XCTAssertEqual(status("c1"), "wrapup")
        XCTAssertEqual(try sweep(at: 11_000).finishedWrapups, 1)
        XCTAssertEqual(status("c1"), "closed")
        XCTAssertEqual(smembers(keys(.agentConvs, "a1")), [])
        XCTAssertEqual(offeredTo("c2"), "a1", "drained as soon as the wrap-up ended")
        XCTAssertEqual(load("a1"), 1)
        XCTAssertEqual(try sweep(at: 11_000).finishedWrapups, 0, "a repeat sweep finds nothing")
        XCTAssertEqual(counter("closed"), 1)

        // A retried close answers the conversation unchanged.
        let again = try must { router.close(agentId: "a1", conversationId: "c1", category: nil, disposition: nil,
                                            now: T0 + 12_000, completion: $0) }
        XCTAssertTrue(again.contains("\"status\":\"closed\""))
    }

    func testCloseWithoutWrapUpDrainsAtOnceAndKeepsAnotherOpenPointer() throws {
        router = try makeRouter(RoutingSettings(wrapupSeconds: 0))
        try busyAgentWithWaitingConversation()
        _ = redis.run("SET", keys(.open, "k1", "web-main"), "c-newer")
        let before = events("a1").count
        _ = try must { router.close(agentId: "a1", conversationId: "c1", category: nil, disposition: nil, now: T0 + 5, completion: $0) }
        XCTAssertEqual(status("c1"), "closed")
        // One conversation.updated (closed) for c1, then the offer of c2: the agent is not told twice.
        let told = events("a1").dropFirst(before)
        XCTAssertEqual(told.map { $0["type"] as? String }, ["conversation.updated", "offer"])
        XCTAssertEqual((told.first?["conversation"] as? [String: Any])?["status"] as? String, "closed")
        XCTAssertNil(hget(convKey("c1"), "wrapupUntil"))
        XCTAssertEqual(zrange(keys(.wrapups)), [])
        XCTAssertEqual(offeredTo("c2"), "a1")
        XCTAssertEqual(redis.run("GET", keys(.open, "k1", "web-main")).string, "c-newer")
    }

    func testOnlyTheAssigneeCloses() throws {
        try busyAgentWithWaitingConversation()
        try sync([agentConfig("a1", skills: ["sales": 1], capacity: [.webchat: 1]), agentConfig("a2", skills: ["sales": 1])])
        XCTAssertEqual(errorCode { router.close(agentId: "a2", conversationId: "c1", category: nil, disposition: nil, now: T0 + 5, completion: $0) },
                       "forbidden")
        XCTAssertEqual(errorCode { router.close(agentId: "a1", conversationId: "c2", category: nil, disposition: nil, now: T0 + 5, completion: $0) },
                       "forbidden")
        XCTAssertEqual(errorCode { router.close(agentId: "a1", conversationId: "nope", category: nil, disposition: nil, now: T0 + 5, completion: $0) },
                       "not_found")
        XCTAssertEqual(status("c1"), "assigned")
    }

    func testGoingAvailableDrainsUpToCapacity() throws {
        for (i, id) in ["c1", "c2", "c3"].enumerated() {
            conversation(id, queuedAt: Int64(i))
            try enqueue(id, at: 10)
        }
        try sync([agentConfig("a1", skills: ["sales": 1], capacity: [.webchat: 2])])
        _ = try must { router.connect(agentId: "a1", node: "n1", now: T0 + 20, completion: $0) }
        XCTAssertEqual(status("c1"), "queued", "connected but not available: nothing yet")
        let made = try must { router.setPresence(agentId: "a1", status: .available, reason: nil, now: T0 + 21, completion: $0) }
        XCTAssertEqual(made, 2)
        XCTAssertEqual(offeredTo("c1"), "a1")
        XCTAssertEqual(offeredTo("c2"), "a1")
        XCTAssertEqual(zrange(queueKey("sales")), ["c3"])
        XCTAssertEqual(eventTypes("a1"), ["presence", "offer", "offer"])
        XCTAssertEqual(hget(agentKey("a1"), "idleSince"), String(T0 + 21))
    }

    func testGoingAwayRescindsOffersToOthers() throws {
        try sync([agentConfig("a1", skills: ["sales": 1]), agentConfig("a2", skills: ["sales": 1])])
        try online("a1", at: 1)
        conversation("c1")
        try enqueue("c1", at: 2)
        let oid = try offerId("c1")
        try online("a2", at: 3)
        _ = try must { router.setPresence(agentId: "a1", status: .away, reason: "lunch", now: T0 + 4, completion: $0) }
        XCTAssertEqual(hget(agentKey("a1"), "status"), "away")
        XCTAssertEqual(hget(agentKey("a1"), "reason"), "lunch")
        XCTAssertEqual(zrange(availKey("sales")), ["a2"])
        XCTAssertEqual(offeredTo("c1"), "a2")
        XCTAssertEqual(load("a1"), 0)
        let tail = events("a1").suffix(2)
        XCTAssertEqual(tail.first?["type"] as? String, "presence")
        XCTAssertEqual(tail.first?["reason"] as? String, "lunch")
        XCTAssertEqual(tail.last?["type"] as? String, "offer.rescinded")
        XCTAssertEqual(tail.last?["offerId"] as? String, oid)
        XCTAssertEqual(zrange(keys(.declined, "c1")), [], "not a decline: it may come back to a1 later")
        XCTAssertEqual(errorCode { router.setPresence(agentId: "a1", status: .away, reason: String(repeating: "x", count: 201),
                                                      now: T0 + 5, completion: $0) }, "bad_request")
        XCTAssertEqual(errorCode { router.setPresence(agentId: "ghost", status: .available, reason: nil, now: T0 + 5, completion: $0) },
                       "not_found")
    }

    func testGraceEndRequeuesAssignedConversationsAtTheFront() throws {
        try sync([agentConfig("a1", skills: ["sales": 1], capacity: [.webchat: 2]),
                  agentConfig("a2", skills: ["sales": 1], capacity: [.webchat: 1])])
        try online("a1", at: 1)
        conversation("c1", priority: 0, queuedAt: 0)
        try enqueue("c1", at: 2)
        try accept("a1", "c1", at: 3)
        conversation("c2", priority: 9, queuedAt: 4)
        try enqueue("c2", at: 4)
        let pending = try offerId("c2")
        conversation("c3", priority: 9, queuedAt: 5)
        XCTAssertEqual(try enqueue("c3", at: 5), .queued(position: 0), "a1 full, a2 offline")

        XCTAssertTrue(try must { router.disconnect(agentId: "a1", node: "n1", now: T0 + 1_000, completion: $0) })
        XCTAssertEqual(hget(agentKey("a1"), "connected"), "0")
        XCTAssertEqual(hget(agentKey("a1"), "node"), "")
        XCTAssertEqual(zscore(keys(.grace), "a1"), Double(T0 + 31_000))
        // Within the grace the pending offer to a1 times out (20 s) and c2 waits again; c1 stays.
        XCTAssertEqual(try sweep(at: 30_999), SweepOutcome(expiredOffers: 1, finishedWrapups: 0, endedGraces: 0))
        XCTAssertEqual(status("c1"), "assigned")
        XCTAssertEqual(status("c2"), "queued")

        let outcome = try sweep(at: 31_000)
        XCTAssertEqual(outcome.endedGraces, 1)
        XCTAssertEqual(hget(agentKey("a1"), "status"), "offline")
        XCTAssertEqual(zrange(availKey("sales")), [])
        XCTAssertEqual(status("c1"), "queued")
        XCTAssertNil(hget(convKey("c1"), "assignee"))
        XCTAssertEqual(smembers(keys(.agentConvs, "a1")), [])
        XCTAssertEqual(load("a1"), 0)
        XCTAssertEqual(redis.run("EXISTS", keys(.offer, pending)), .integer(0))
        XCTAssertEqual(zrange(queueKey("sales")).first, "c1", "ahead of the priority-9 conversations")
        XCTAssertEqual(Set(zrange(queueKey("sales"))), ["c1", "c2", "c3"])
        XCTAssertEqual(try sweep(at: 31_000).endedGraces, 0)

        try online("a2", at: 32_000)
        XCTAssertEqual(offeredTo("c1"), "a2")
        XCTAssertEqual(status("c2"), "queued")
    }

    func testReconnectWithinGraceKeepsEverything() throws {
        try busyAgentWithWaitingConversation()
        XCTAssertTrue(try must { router.disconnect(agentId: "a1", node: "n1", now: T0 + 10, completion: $0) })
        XCTAssertFalse(try must { router.disconnect(agentId: "a1", node: "n2", now: T0 + 11, completion: $0) },
                       "a drop reported by another node is ignored")
        let snap = try must { router.connect(agentId: "a1", node: "n2", now: T0 + 20_000, completion: $0) }
        XCTAssertEqual(snap.presence, .available)
        XCTAssertNil(snap.reason)
        XCTAssertEqual(snap.conversationsJSON.count, 1)
        XCTAssertTrue(snap.conversationsJSON[0].contains("\"id\":\"c1\""))
        XCTAssertEqual(snap.offersJSON, [])
        XCTAssertEqual(snap.lastSeq, Int64(events("a1").count))
        XCTAssertEqual(zrange(keys(.grace)), [])
        XCTAssertEqual(try sweep(at: 40_000).endedGraces, 0)
        XCTAssertEqual(status("c1"), "assigned")
        XCTAssertEqual(hget(agentKey("a1"), "node"), "n2")
    }

    func testConnectSnapshotListsPendingOffersAndDrains() throws {
        try sync([agentConfig("a1", skills: ["sales": 1], capacity: [.webchat: 2])])
        try online("a1", at: 1)
        XCTAssertTrue(try must { router.disconnect(agentId: "a1", node: "n1", now: T0 + 2, completion: $0) })
        conversation("c1")
        XCTAssertEqual(try enqueue("c1", at: 3), .queued(position: 0))
        let snap = try must { router.connect(agentId: "a1", node: "n1", now: T0 + 4, completion: $0) }
        XCTAssertEqual(snap.offersJSON.count, 1, "reconnecting drains, and the snapshot shows the new offer")
        let offer = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(snap.offersJSON[0].utf8)) as? [String: Any])
        XCTAssertEqual(offer["offerId"] as? String, try offerId("c1"))
        XCTAssertEqual((offer["expiresAt"] as? NSNumber)?.int64Value, T0 + 20_004)
        XCTAssertEqual((offer["conversation"] as? [String: Any])?["id"] as? String, "c1")
        XCTAssertEqual(snap.lastSeq, 2)
        XCTAssertEqual(errorCode { router.connect(agentId: "ghost", node: "n1", now: T0, completion: $0) }, "not_found")
    }

    func testNodeLostDisconnectsItsAgents() throws {
        try sync([agentConfig("a1", skills: ["sales": 1]), agentConfig("a2", skills: ["sales": 1])])
        try online("a1", at: 1)
        _ = try must { router.connect(agentId: "a2", node: "n2", now: T0 + 2, completion: $0) }
        XCTAssertEqual(try must { router.nodeLost(node: "n1", now: T0 + 3, completion: $0) }, 1)
        XCTAssertEqual(hget(agentKey("a1"), "connected"), "0")
        XCTAssertEqual(hget(agentKey("a2"), "connected"), "1")
        XCTAssertEqual(zrange(keys(.grace)), ["a1"])
        XCTAssertEqual(try must { router.nodeLost(node: "n1", now: T0 + 4, completion: $0) }, 0)
    }

    func testNodeLostOnlyIfSilentLeavesANodeThatHeartbeatsAgain() throws {
        try sync([agentConfig("a1", skills: ["sales": 1])])
        _ = try must { router.connect(agentId: "a1", node: "n1", now: T0 + 1, completion: $0) }
        _ = redis.run("SET", keys.node("n1"), "1", "PX", "5000")   // n1 is back
        XCTAssertEqual(try must { router.nodeLost(node: "n1", onlyIfSilent: true, now: T0 + 2, completion: $0) }, -1)
        XCTAssertEqual(hget(agentKey("a1"), "connected"), "1")
        XCTAssertEqual(zrange(keys(.grace)), [])
        _ = redis.run("DEL", keys.node("n1"))
        XCTAssertEqual(try must { router.nodeLost(node: "n1", onlyIfSilent: true, now: T0 + 3, completion: $0) }, 1)
        XCTAssertEqual(hget(agentKey("a1"), "connected"), "0")
    }

    func testSyncUpsertsAndKeepsLiveState() throws {
        try sync([agentConfig("a1", skills: ["sales": 1], capacity: [.webchat: 1]), agentConfig("gone", skills: ["sales": 1])])
        XCTAssertEqual(hget(agentKey("a1"), "status"), "offline")
        XCTAssertEqual(hget(agentKey("a1"), "cap:email"), "0")
        try online("a1", at: 1)
        try online("gone", at: 2)
        conversation("c1")
        try enqueue("c1", at: 3)
        try accept("a1", "c1", at: 4)
        conversation("c2", queuedAt: 5)
        conversation("b1", skill: "billing", queuedAt: 6)
        try enqueue("c2", at: 6)
        try enqueue("b1", at: 6)
        XCTAssertEqual(offeredTo("c2"), "gone")
        XCTAssertEqual(status("b1"), "queued")

        let outcome = try must {
            router.syncAgents([agentConfig("a1", skills: ["billing": 2], capacity: [.webchat: 2])], now: T0 + 7, completion: $0)
        }
        XCTAssertEqual(outcome, AgentSyncOutcome(created: 0, updated: 1, removed: 1))
        XCTAssertEqual(hget(agentKey("a1"), "status"), "available")
        XCTAssertEqual(load("a1"), 2, "kept its assignment and drained the new skill's queue")
        XCTAssertEqual(zrange(availKey("sales")), [])
        XCTAssertEqual(zrange(availKey("billing")), ["a1"])
        XCTAssertEqual(offeredTo("b1"), "a1")
        XCTAssertEqual(status("c1"), "assigned")
        XCTAssertEqual(hget(agentKey("gone"), "status"), "offline")
        XCTAssertEqual(status("c2"), "queued", "the removed agent's offer went back to the queue")
        XCTAssertEqual(smembers(keys(.agents)), ["a1"])
        XCTAssertEqual(errorCode { router.syncAgents([agentConfig("bad id", skills: [:])], now: T0, completion: $0) }, "bad_request")
    }
}
