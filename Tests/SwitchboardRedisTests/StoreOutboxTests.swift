import Foundation
import XCTest
import SwitchboardCore
@testable import SwitchboardRedis

/// Outbound delivery through `sb:outbox` (DESIGN §11) and provider status callbacks (DESIGN §10).
final class StoreOutboxTests: XCTestCase {
    /// A fixture with the consumer group, an SMS conversation assigned to a1 and one agent reply.
    private func replied(text: String = "您好") throws -> (StoreFixture, conv: String, send: SendOutcome) {
        let fx = try StoreFixture()
        try fx.call { fx.store.ensureOutboxGroup(completion: $0) }
        let conv = try fx.ingest(fx.sms(text: "hello")).conversationId
        fx.assign(conv, to: "a1")
        let request = SendRequest(conversationId: conv, author: .agent, authorId: "a1", parts: [.text(text)],
                                  requiredAssignee: "a1", mode: .outbox)
        let out = try fx.call { fx.store.send(request, now: fx.now, completion: $0) }
        return (fx, conv, out)
    }

    private func read(_ fx: StoreFixture, consumer: String = "node-a") throws -> [OutboxEntry] {
        try fx.call { fx.store.outboxRead(consumer: consumer, count: 10, completion: $0) }
    }

    private func complete(_ fx: StoreFixture, _ entry: OutboxEntry, _ outcome: DeliveryOutcome,
                          maxAttempts: Int = 3, backoffMs: Int64 = 1000) throws -> OutboxCompletion {
        try fx.call {
            fx.store.completeDelivery(entry: entry, outcome: outcome, maxAttempts: maxAttempts, backoffMs: backoffMs,
                                      now: fx.now, completion: $0)
        }
    }

    private func deliveryEvents(_ fx: StoreFixture) throws -> [[String: Any]] {
        try fx.events("a1").filter { $0["type"] as? String == "delivery" }
    }

    private func pendingCount(_ fx: StoreFixture) -> Int64? {
        fx.redis.run("XPENDING", fx.keys.outbox, "delivery").array?.first?.int
    }

    func testSentDeliveryIsAcknowledgedAndRecorded() throws {
        let (fx, conv, sent) = try replied()
        let entries = try read(fx)
        XCTAssertEqual(entries.count, 1)
        let entry = entries[0]
        XCTAssertEqual(entry.messageId, sent.messageId)
        XCTAssertEqual(entry.attempt, 1)
        XCTAssertEqual(try entry.outboundMessage(),
                       OutboundMessage(conversationId: conv, messageId: sent.messageId, to: "+8613812345678",
                                       parts: [.text("您好")], idempotencyKey: "\(conv):\(sent.messageId)"))
        XCTAssertEqual(try read(fx), [], "an entry is handed out once")
        XCTAssertEqual(pendingCount(fx), 1)

        fx.now += 400
        let done = try complete(fx, entry, .sent(providerId: "SM900"))
        XCTAssertEqual(done, OutboxCompletion(result: .sent, messageStatus: .sent, retryAt: nil))
        XCTAssertEqual(fx.xlen(fx.keys.outbox), 0)
        XCTAssertEqual(pendingCount(fx), 0)
        XCTAssertEqual(fx.hget(fx.keys(.msgStatus, conv), sent.messageId), "sent")
        XCTAssertEqual(fx.redis.run("GET", fx.keys(.pmid, "sms-main", "SM900")).string, "\(conv) \(sent.messageId)")
        let ttl = fx.redis.run("TTL", fx.keys(.pmid, "sms-main", "SM900")).int ?? -1
        XCTAssertTrue(ttl > 6 * 86_400 && ttl <= 7 * 86_400, "provider ids are kept 7 days (ttl \(ttl))")
        let events = try deliveryEvents(fx)
        XCTAssertEqual(events.count, 1)
        XCTAssertEqual(events[0]["conversationId"] as? String, conv)
        XCTAssertEqual(events[0]["messageId"] as? String, sent.messageId)
        XCTAssertEqual(events[0]["status"] as? String, "sent")
        XCTAssertEqual(fx.redis.run("HGET", fx.keys(.stats), "deliveries:sent").int, 1)

        let history = try fx.call { fx.store.history(conversationId: conv, before: nil, limit: 10, completion: $0) }
        XCTAssertEqual(try fx.decodeMessage(history[1]).status, .sent)

        // Completing again (a node that claimed it late) changes nothing.
        XCTAssertEqual(try complete(fx, entry, .sent(providerId: "SM901")).result, .missing)
        XCTAssertEqual(fx.redis.run("HGET", fx.keys(.stats), "deliveries:sent").int, 1)
        XCTAssertEqual(fx.redis.run("EXISTS", fx.keys(.pmid, "sms-main", "SM901")), .integer(0))
        XCTAssertEqual(try deliveryEvents(fx).count, 1)
    }

    func testRetriesWaitTheirBackoffThenDeadLetterAfterMaxAttempts() throws {
        let (fx, conv, sent) = try replied()
        var entry = try XCTUnwrap(try read(fx).first)

        for attempt in 1...2 {
            XCTAssertEqual(entry.attempt, attempt)
            let retried = try complete(fx, entry, .retry(reason: "HTTP 503"), maxAttempts: 3, backoffMs: 1000)
            XCTAssertEqual(retried, OutboxCompletion(result: .retry, messageStatus: .pending, retryAt: fx.now + 1000))
            XCTAssertEqual(fx.xlen(fx.keys.outbox), 0)
            XCTAssertEqual(pendingCount(fx), 0)
            XCTAssertEqual(fx.redis.run("ZCARD", fx.keys(.outboxDelayed)), .integer(1))

            fx.now += 999
            XCTAssertEqual(try fx.call { fx.store.promoteDelayed(now: fx.now, completion: $0) }, 0, "not due yet")
            XCTAssertEqual(try read(fx), [])
            fx.now += 1
            XCTAssertEqual(try fx.call { fx.store.promoteDelayed(now: fx.now, completion: $0) }, 1)
            XCTAssertEqual(fx.redis.run("ZCARD", fx.keys(.outboxDelayed)), .integer(0))

            let next = try XCTUnwrap(try read(fx).first)
            XCTAssertNotEqual(next.id, entry.id, "a retry is a new stream entry")
            XCTAssertEqual(next.attempt, attempt + 1)
            XCTAssertEqual(next.idempotencyKey, entry.idempotencyKey, "stable across retries")
            XCTAssertEqual(next.messageJSON, entry.messageJSON)
            XCTAssertEqual(next.enqueuedAt, fx.now)
            entry = next
        }

        // The third attempt was the last: a retry now dead-letters.
        let final = try complete(fx, entry, .retry(reason: "HTTP 503"), maxAttempts: 3, backoffMs: 1000)
        XCTAssertEqual(final, OutboxCompletion(result: .failed, messageStatus: .failed, retryAt: nil))
        XCTAssertEqual(fx.xlen(fx.keys.outbox), 0)
        XCTAssertEqual(pendingCount(fx), 0)
        XCTAssertEqual(fx.redis.run("ZCARD", fx.keys(.outboxDelayed)), .integer(0))
        let dead = try XCTUnwrap(fx.redis.run("XRANGE", fx.keys(.deadletter), "-", "+").array)
        XCTAssertEqual(dead.count, 1)
        let deadEntry = try XCTUnwrap(Store.outboxEntry(dead[0]))
        XCTAssertEqual(deadEntry.messageId, sent.messageId)
        XCTAssertEqual(deadEntry.attempt, 3)
        let deadFields = dead[0].array?[1].strings ?? []
        XCTAssertTrue(deadFields.contains("HTTP 503"), "\(deadFields)")

        XCTAssertEqual(fx.hget(fx.keys(.msgStatus, conv), sent.messageId), "failed")
        let events = try deliveryEvents(fx)
        XCTAssertEqual(events.count, 1, "retries tell nobody; the failure does")
        XCTAssertEqual(events[0]["status"] as? String, "failed")
        XCTAssertEqual(events[0]["error"] as? String, "HTTP 503")
        let history = try fx.call { fx.store.history(conversationId: conv, before: nil, limit: 10, completion: $0) }
        let failed = try fx.object(history[1])
        XCTAssertEqual(failed["status"] as? String, "failed")
        XCTAssertEqual(failed["error"] as? String, "HTTP 503")
        XCTAssertEqual(try fx.decodeMessage(history[1]).status, .failed)
        XCTAssertEqual(fx.redis.run("HGET", fx.keys(.stats), "deliveries:retry").int, 2)
        XCTAssertEqual(fx.redis.run("HGET", fx.keys(.stats), "deliveries:failed").int, 1)
    }

    func testAPermanentFailureGoesStraightToTheDeadLetterStream() throws {
        let (fx, conv, sent) = try replied()
        let entry = try XCTUnwrap(try read(fx).first)
        let done = try complete(fx, entry, .failed(reason: "HTTP 400 invalid number"), maxAttempts: 6)
        XCTAssertEqual(done.result, .failed)
        XCTAssertEqual(fx.xlen(fx.keys(.deadletter)), 1)
        XCTAssertEqual(fx.xlen(fx.keys.outbox), 0)
        XCTAssertEqual(fx.hget(fx.keys(.msgStatus, conv), sent.messageId), "failed")
        XCTAssertEqual(fx.hget(fx.keys(.msgStatus, conv), "\(sent.messageId):error"), "HTTP 400 invalid number")
    }

    func testAnotherNodeClaimsTheEntriesOfADeadOne() throws {
        let (fx, _, sent) = try replied()
        let taken = try read(fx, consumer: "node-dead")
        XCTAssertEqual(taken.count, 1)
        // Not idle long enough: a live node may still be delivering it.
        let tooSoon = try fx.call { fx.store.outboxClaim(consumer: "node-b", minIdleMs: 3_600_000, count: 10, completion: $0) }
        XCTAssertEqual(tooSoon, [])
        let claimed = try fx.call { fx.store.outboxClaim(consumer: "node-b", minIdleMs: 0, count: 10, completion: $0) }
        XCTAssertEqual(claimed, taken)
        XCTAssertEqual(claimed.first?.messageId, sent.messageId)
        let consumers = fx.redis.run("XPENDING", fx.keys.outbox, "delivery", "-", "+", "10").array ?? []
        XCTAssertEqual(consumers.first?.array?[1].string, "node-b")

        XCTAssertEqual(try complete(fx, claimed[0], .sent(providerId: nil)).result, .sent)
        XCTAssertEqual(pendingCount(fx), 0)
        let none = try fx.call { fx.store.outboxClaim(consumer: "node-c", minIdleMs: 0, count: 10, completion: $0) }
        XCTAssertEqual(none, [])
    }

    func testEntriesWrittenBeforeTheGroupExistsAreDelivered() throws {
        let fx = try StoreFixture()
        let conv = try fx.ingest(fx.sms(text: "hello")).conversationId
        let api = SendRequest(conversationId: conv, author: .system, parts: [.text("已受理")], mode: .outbox)
        let early = try fx.call { fx.store.send(api, now: fx.now, completion: $0) }
        try fx.call { fx.store.ensureOutboxGroup(completion: $0) }
        try fx.call { fx.store.ensureOutboxGroup(completion: $0) }
        XCTAssertEqual(try read(fx).map(\.messageId), [early.messageId])
    }

    func testProviderStatusOnlyMovesForward() throws {
        let (fx, conv, sent) = try replied()
        let entry = try XCTUnwrap(try read(fx).first)
        _ = try complete(fx, entry, .sent(providerId: "SM1"))

        func report(_ status: DeliveryStatus, _ id: String = "SM1", error: String? = nil) throws -> ProviderStatusOutcome {
            try fx.call {
                fx.store.providerStatus(channelId: "sms-main", providerId: id, status: status, error: error, now: fx.now,
                                        completion: $0)
            }
        }
        XCTAssertEqual(try report(.delivered),
                       ProviderStatusOutcome(found: true, changed: true, status: .delivered, conversationId: conv,
                                             messageId: sent.messageId))
        XCTAssertEqual(try report(.sent).changed, false, "a late sent after delivered")
        XCTAssertEqual(try report(.failed, error: "30008").changed, false, "no failure after delivery")
        XCTAssertEqual(try report(.delivered).changed, false, "equal is not progress")
        XCTAssertEqual(try report(.read), ProviderStatusOutcome(found: true, changed: true, status: .read,
                                                                conversationId: conv, messageId: sent.messageId))
        XCTAssertEqual(fx.hget(fx.keys(.msgStatus, conv), sent.messageId), "read")
        XCTAssertEqual(try deliveryEvents(fx).map { $0["status"] as? String }, ["sent", "delivered", "read"])
        let history = try fx.call { fx.store.history(conversationId: conv, before: nil, limit: 10, completion: $0) }
        XCTAssertEqual(try fx.decodeMessage(history[1]).status, .read)

        XCTAssertEqual(try report(.delivered, "SM-unknown"),
                       ProviderStatusOutcome(found: false, changed: false, status: nil, conversationId: nil, messageId: nil))
        XCTAssertEqual(fx.failure {
            fx.store.providerStatus(channelId: "sms-main", providerId: "", status: .sent, error: nil, now: fx.now, completion: $0)
        }?.code, "bad_request")
    }

    func testProviderFailureAfterSentIsRecordedWithItsReason() throws {
        let (fx, conv, sent) = try replied()
        let entry = try XCTUnwrap(try read(fx).first)
        _ = try complete(fx, entry, .sent(providerId: "SM2"))
        let failed = try fx.call {
            fx.store.providerStatus(channelId: "sms-main", providerId: "SM2", status: .failed, error: "30003 unreachable",
                                    now: fx.now, completion: $0)
        }
        XCTAssertTrue(failed.changed)
        XCTAssertEqual(failed.status, .failed)
        let last = try XCTUnwrap(try deliveryEvents(fx).last)
        XCTAssertEqual(last["status"] as? String, "failed")
        XCTAssertEqual(last["error"] as? String, "30003 unreachable")
        // failed is terminal.
        let late = try fx.call {
            fx.store.providerStatus(channelId: "sms-main", providerId: "SM2", status: .delivered, error: nil, now: fx.now,
                                    completion: $0)
        }
        XCTAssertFalse(late.changed)
        XCTAssertEqual(late.status, .failed)
        XCTAssertEqual(fx.hget(fx.keys(.msgStatus, conv), "\(sent.messageId):error"), "30003 unreachable")
    }

    func testBackoffIsExponentialWithACap() {
        let settings = OutboxSettings(maxAttempts: 6, initialBackoff: 1, maxBackoff: 300)
        XCTAssertEqual((1...10).map { OutboxBackoff.delayMs(afterAttempt: $0, settings: settings) },
                       [1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000])
        XCTAssertEqual(OutboxBackoff.delayMs(afterAttempt: 10_000, settings: settings), 300_000)
        XCTAssertEqual(OutboxBackoff.delayMs(afterAttempt: 0, settings: settings), 1000)
        XCTAssertEqual(OutboxBackoff.delayMs(afterAttempt: 2, settings: OutboxSettings(initialBackoff: 0.25, maxBackoff: 1)), 500)
    }

    func testSettingsOverloadUsesTheBackoffForTheAttempt() throws {
        let (fx, _, _) = try replied()
        let entry = try XCTUnwrap(try read(fx).first)
        let settings = OutboxSettings(maxAttempts: 6, initialBackoff: 2, maxBackoff: 300)
        let done = try fx.call {
            fx.store.completeDelivery(entry: entry, outcome: .retry(reason: "timeout"), settings: settings, now: fx.now,
                                      completion: $0)
        }
        XCTAssertEqual(done.retryAt, fx.now + 2000)
    }

    func testACorruptEntryFailsToRenderSoItCanBeDeadLettered() {
        let entry = OutboxEntry(id: "1-0", conversationId: "c", messageId: "m", channelId: "sms-main", to: "+1",
                                attempt: 1, idempotencyKey: "c:m", enqueuedAt: 0, messageJSON: "")
        XCTAssertThrowsError(try entry.outboundMessage()) { XCTAssertEqual(($0 as? StoreError)?.code, "internal") }
    }
}
