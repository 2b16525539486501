import Foundation
import XCTest
import SwitchboardCore
@testable import SwitchboardRedis

/// The inbound hot path (DESIGN §8): dedup, identity, open-or-new conversation, log, agent event.
final class StoreIngestTests: XCTestCase {
    func testFirstMessageCreatesContactAndQueuedConversation() throws {
        let fx = try StoreFixture()
        let out = try fx.ingest(fx.sms(text: "路灯坏了", externalId: "SM1", name: "王女士"))
        XCTAssertTrue(out.created)
        XCTAssertFalse(out.duplicate)
        XCTAssertEqual(out.status, .queued)
        XCTAssertEqual(fx.redis.run("GET", fx.keys(.ident, "sms", "+8613812345678")).string, out.contactId)
        XCTAssertEqual(fx.hget(fx.keys(.contact, out.contactId), "name"), "王女士")
        XCTAssertEqual(fx.redis.run("GET", fx.keys(.open, out.contactId, "sms-main")).string, out.conversationId)

        let conv = fx.keys(.conv, out.conversationId)
        XCTAssertEqual(fx.hget(conv, "status"), "queued")
        XCTAssertEqual(fx.hget(conv, "channel"), "sms-main")
        XCTAssertEqual(fx.hget(conv, "kind"), "sms")
        XCTAssertEqual(fx.hget(conv, "skill"), "general")
        XCTAssertEqual(fx.hget(conv, "priority"), "3")
        XCTAssertEqual(fx.hget(conv, "contact"), out.contactId)
        XCTAssertEqual(fx.hget(conv, "contactName"), "王女士")
        XCTAssertEqual(fx.hget(conv, "address"), "+8613812345678")
        XCTAssertEqual(fx.hget(conv, "createdAt"), String(fx.now))
        XCTAssertEqual(fx.hget(conv, "queuedAt"), String(fx.now))

        // The stored message decodes as a Core Message with the store-assigned ids.
        let message = try fx.decodeMessage(out.messageJSON)
        XCTAssertEqual(message, Message(id: out.messageId, conversationId: out.conversationId, direction: .in,
                                        author: .contact, authorName: "王女士", parts: [.text("路灯坏了")],
                                        externalId: "SM1", status: .delivered, createdAt: fx.now))
        let stored = try fx.call { fx.store.history(conversationId: out.conversationId, before: nil, limit: 10, completion: $0) }
        XCTAssertEqual(stored, [out.messageJSON])
        XCTAssertEqual(fx.redis.run("HGET", fx.keys(.stats), "inbound:sms-main").int, 1)
    }

    func testNextMessageJoinsTheOpenConversation() throws {
        let fx = try StoreFixture()
        let first = try fx.ingest(fx.sms(text: "one", externalId: "SM1"))
        fx.now += 5000
        let second = try fx.ingest(fx.sms(text: "two", externalId: "SM2", name: "Wang"))
        XCTAssertFalse(second.created)
        XCTAssertEqual(second.conversationId, first.conversationId)
        XCTAssertEqual(second.contactId, first.contactId)
        XCTAssertNotEqual(second.messageId, first.messageId)
        XCTAssertEqual(fx.xlen(fx.keys(.log, first.conversationId)), 2)
        XCTAssertEqual(fx.hget(fx.keys(.contact, first.contactId), "name"), "Wang", "a given display name updates the contact")

        // Another channel of the same kind is another conversation for the same contact.
        let other = try fx.ingest(fx.sms(text: "three", externalId: "SM3", channel: "sms-2"))
        XCTAssertTrue(other.created)
        XCTAssertEqual(other.contactId, first.contactId)
        XCTAssertNotEqual(other.conversationId, first.conversationId)
        // A different number is a different contact.
        let stranger = try fx.ingest(fx.sms(from: "+8613900000000", text: "hi", externalId: "SM4"))
        XCTAssertNotEqual(stranger.contactId, first.contactId)
        XCTAssertNotEqual(stranger.conversationId, first.conversationId)
    }

    func testSameExternalIdTwiceIsStoredOnce() throws {
        let fx = try StoreFixture()
        let first = try fx.ingest(fx.sms(text: "hello", externalId: "SMdup"))
        fx.now += 1000
        let again = try fx.ingest(fx.sms(text: "hello", externalId: "SMdup"))
        XCTAssertTrue(again.duplicate)
        XCTAssertFalse(again.created)
        XCTAssertEqual(again.conversationId, first.conversationId)
        XCTAssertEqual(again.messageId, first.messageId)
        XCTAssertEqual(again.contactId, first.contactId)
        XCTAssertEqual(again.status, .queued, "the caller re-runs enqueue idempotently from this")
        XCTAssertEqual(again.messageJSON, first.messageJSON)
        XCTAssertEqual(fx.xlen(fx.keys(.log, first.conversationId)), 1)
        XCTAssertEqual(fx.redis.run("HGET", fx.keys(.stats), "inbound:sms-main").int, 1)
        let ttl = fx.redis.run("TTL", fx.keys(.dedup, "sms-main", "SMdup")).int ?? -1
        XCTAssertTrue(ttl > 0 && ttl <= 172_800, "dedup keys expire (ttl \(ttl))")

        // The same provider id on another channel is another message.
        let otherChannel = try fx.ingest(fx.sms(text: "hello", externalId: "SMdup", channel: "sms-2"))
        XCTAssertFalse(otherChannel.duplicate)
        // Without an external id nothing is deduplicated.
        _ = try fx.ingest(fx.sms(text: "same"))
        _ = try fx.ingest(fx.sms(text: "same"))
        XCTAssertEqual(fx.xlen(fx.keys(.log, first.conversationId)), 3)
    }

    func testAClosedConversationsContactOpensANewOne() throws {
        let fx = try StoreFixture()
        let first = try fx.ingest(fx.sms(text: "one"))
        for status in ["wrapup", "closed", "abandoned"] {
            fx.redis.run("HSET", fx.keys(.conv, first.conversationId), "status", status)
            fx.redis.run("SET", fx.keys(.open, first.contactId, "sms-main"), first.conversationId)
            let next = try fx.ingest(fx.sms(text: "after \(status)"))
            XCTAssertTrue(next.created, status)
            XCTAssertNotEqual(next.conversationId, first.conversationId, status)
            XCTAssertEqual(next.contactId, first.contactId, status)
            XCTAssertEqual(fx.redis.run("GET", fx.keys(.open, first.contactId, "sms-main")).string, next.conversationId)
            XCTAssertEqual(fx.xlen(fx.keys(.log, first.conversationId)), 1, "nothing more joins a \(status) conversation")
        }
    }

    func testInboundOnAnAssignedConversationEmitsExactlyOneAgentEvent() throws {
        let fx = try StoreFixture()
        let first = try fx.ingest(fx.sms(text: "one"))
        XCTAssertEqual(fx.redis.run("EXISTS", fx.keys(.events, "a1")), .integer(0), "no assignee, no event")
        fx.assign(first.conversationId, to: "a1")

        let second = try fx.ingest(fx.sms(text: "two"))
        var events = try fx.events("a1")
        XCTAssertEqual(events.count, 1)
        XCTAssertEqual(events[0]["seq"] as? Int, 1)
        XCTAssertEqual(events[0]["type"] as? String, "message")
        XCTAssertEqual(events[0]["conversationId"] as? String, first.conversationId)
        let carried = try XCTUnwrap(events[0]["message"] as? [String: Any])
        XCTAssertEqual(carried["id"] as? String, second.messageId)
        XCTAssertEqual(carried["conversationId"] as? String, first.conversationId)
        // The stream entry id is the seq, so resume is an XRANGE after it (DESIGN §9).
        XCTAssertEqual(fx.redis.run("XRANGE", fx.keys(.events, "a1"), "-", "+").array?.first?.array?.first?.string, "1-0")

        _ = try fx.ingest(fx.sms(text: "three"))
        events = try fx.events("a1")
        XCTAssertEqual(events.map { $0["seq"] as? Int }, [1, 2])
        XCTAssertEqual(try fx.events("a2").count, 0)
    }

    func testIngestIsExactlyOneScriptCall() throws {
        let fx = try StoreFixture()
        let first = try fx.ingest(fx.sms(text: "warm-up"))
        fx.assign(first.conversationId, to: "a1")
        fx.redis.run("CONFIG", "RESETSTAT")
        fx.counter.reset()

        _ = try fx.ingest(fx.sms(text: "hot path", externalId: "SMhot"))

        // Client side: one command left the Store.
        XCTAssertEqual(fx.counter.sent.count, 1)
        XCTAssertEqual(fx.counter.sent.first?.first, "FCALL")
        // Server side: one script ran, and no other client command reached Redis since RESETSTAT
        // (commands inside the script are counted under their own names, hence the script check).
        let stats = fx.redis.run("INFO", "commandstats").string ?? ""
        XCTAssertTrue(stats.contains("cmdstat_fcall:calls=1,"), stats)
        XCTAssertFalse(stats.contains("cmdstat_function"), stats)
        XCTAssertEqual(try fx.events("a1").count, 1)
    }

    func testBotFirstChannelStartsInBotAndVisitorNodeIsKept() throws {
        let fx = try StoreFixture()
        let visitor = Identity(kind: .webchat, address: "v-1")
        var request = IngestRequest(channel: ChannelConfig(id: "web", kind: .webchat, skill: "general", priority: 2),
                                    message: InboundMessage(from: visitor, externalId: "", parts: [.text("hi")]),
                                    visitorNode: "node-1", startWithBot: true)
        let out = try fx.ingest(request)
        XCTAssertEqual(out.status, .bot)
        XCTAssertEqual(fx.hget(fx.keys(.conv, out.conversationId), "status"), "bot")
        XCTAssertNil(fx.hget(fx.keys(.conv, out.conversationId), "queuedAt"), "not queued while the bot answers")
        XCTAssertEqual(fx.hget(fx.keys(.conv, out.conversationId), "priority"), "2")
        XCTAssertEqual(fx.hget(fx.keys(.conv, out.conversationId), "vnode"), "node-1")

        // The visitor reconnected through another node: the next message moves the pointer.
        request.visitorNode = "node-2"
        let next = try fx.ingest(request)
        XCTAssertEqual(next.conversationId, out.conversationId)
        XCTAssertEqual(next.status, .bot)
        XCTAssertEqual(fx.hget(fx.keys(.conv, out.conversationId), "vnode"), "node-2")
    }

    func testEmailSubjectIsKeptOnTheConversation() throws {
        let fx = try StoreFixture()
        let request = IngestRequest(channelId: "mail", channelKind: .email, skill: "general",
                                    from: Identity(kind: .email, address: "li@example.cn"), externalId: "<a@b>",
                                    parts: [.email(subject: "投诉", html: nil), .text("正文")], subject: "投诉")
        let out = try fx.ingest(request)
        let conv = try fx.object(try fx.call { fx.store.conversation(id: out.conversationId, completion: $0) })
        XCTAssertEqual(conv["subject"] as? String, "投诉")
        XCTAssertEqual(try fx.decodeMessage(out.messageJSON).parts, request.parts)
    }

    func testBadInputIsRefusedAndChangesNothing() throws {
        let fx = try StoreFixture()
        let before = fx.redis.run("DBSIZE")
        var bad = fx.sms(text: "x", externalId: "SMbad")
        bad.priority = 12
        XCTAssertEqual(fx.failure { fx.store.ingest(bad, now: fx.now, completion: $0) }?.code, "bad_request")
        bad = fx.sms(text: "x", externalId: "SMbad")
        bad.dedupTTLSeconds = 0
        XCTAssertEqual(fx.failure { fx.store.ingest(bad, now: fx.now, completion: $0) }?.code, "bad_request")
        bad = fx.sms(text: "x")
        bad.from.address = ""
        XCTAssertEqual(fx.failure { fx.store.ingest(bad, now: fx.now, completion: $0) }?.code, "bad_request")
        bad = fx.sms(text: "x")
        bad.parts = [.location(lat: .nan, lon: 0, label: nil)]
        XCTAssertEqual(fx.failure { fx.store.ingest(bad, now: fx.now, completion: $0) }?.code, "bad_request")
        XCTAssertEqual(fx.redis.run("DBSIZE"), before)
    }
}
