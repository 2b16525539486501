import Foundation
import XCTest
import SwitchboardCore
@testable import SwitchboardRedis

/// Replies from agents, bots and the API (DESIGN §9 message.send, REST messages).
final class StoreSendTests: XCTestCase {
    /// An SMS conversation assigned to a1.
    private func assignedConversation(_ fx: StoreFixture) throws -> String {
        let conv = try fx.ingest(fx.sms(text: "hello")).conversationId
        fx.assign(conv, to: "a1")
        return conv
    }

    private func reply(_ conv: String, agent: String = "a1", text: String = "您好", clientId: String? = nil,
                       mode: DeliveryMode? = .outbox) -> SendRequest {
        SendRequest(conversationId: conv, author: .agent, authorId: agent, authorName: "小李", parts: [.text(text)],
                    clientId: clientId, requiredAssignee: agent, mode: mode)
    }

    func testAgentReplyIsStoredPendingAndQueuedInTheOutbox() throws {
        let fx = try StoreFixture()
        let conv = try assignedConversation(fx)
        fx.now += 30_000
        let out = try fx.call { fx.store.send(reply(conv, clientId: "c-1"), now: fx.now, completion: $0) }
        XCTAssertFalse(out.duplicate)
        let entryId = try XCTUnwrap(out.outboxEntryId)

        let message = try fx.decodeMessage(out.messageJSON)
        XCTAssertEqual(message, Message(id: out.messageId, conversationId: conv, direction: .out, author: .agent,
                                        authorId: "a1", authorName: "小李", parts: [.text("您好")], clientId: "c-1",
                                        status: .pending, createdAt: fx.now))
        XCTAssertEqual(fx.hget(fx.keys(.msgStatus, conv), out.messageId), "pending")
        XCTAssertEqual(fx.hget(fx.keys(.conv, conv), "firstResponseAt"), String(fx.now))

        let raw = try XCTUnwrap(fx.redis.run("XRANGE", fx.keys.outbox, entryId, entryId).array?.first)
        let entry = try XCTUnwrap(Store.outboxEntry(raw))
        XCTAssertEqual(entry, OutboxEntry(id: entryId, conversationId: conv, messageId: out.messageId, channelId: "sms-main",
                                          to: "+8613812345678", attempt: 1, idempotencyKey: "\(conv):\(out.messageId)",
                                          enqueuedAt: fx.now, messageJSON: out.messageJSON, kind: "sms"),
                       "the entry carries its delivery context: the conversation's kind")

        // The assignee's consoles see the reply too.
        let events = try fx.events("a1")
        XCTAssertEqual(events.count, 1)
        XCTAssertEqual(events[0]["type"] as? String, "message")
        XCTAssertEqual((events[0]["message"] as? [String: Any])?["id"] as? String, out.messageId)
        XCTAssertEqual(fx.redis.run("HGET", fx.keys(.stats), "outbound:sms-main").int, 1)

        // A later reply leaves the first-response time alone.
        let firstResponse = fx.now
        fx.now += 60_000
        _ = try fx.call { fx.store.send(reply(conv, text: "again"), now: fx.now, completion: $0) }
        XCTAssertEqual(fx.hget(fx.keys(.conv, conv), "firstResponseAt"), String(firstResponse))
    }

    func testTheSameClientIdIsSentOnce() throws {
        let fx = try StoreFixture()
        let conv = try assignedConversation(fx)
        let first = try fx.call { fx.store.send(reply(conv, clientId: "c-7"), now: fx.now, completion: $0) }
        fx.now += 2000
        let retry = try fx.call { fx.store.send(reply(conv, text: "resent", clientId: "c-7"), now: fx.now, completion: $0) }
        XCTAssertTrue(retry.duplicate)
        XCTAssertEqual(retry.messageId, first.messageId)
        XCTAssertNil(retry.outboxEntryId)
        XCTAssertEqual(retry.messageJSON, first.messageJSON)
        XCTAssertEqual(fx.xlen(fx.keys(.log, conv)), 2, "the inbound message and one reply")
        XCTAssertEqual(fx.xlen(fx.keys.outbox), 1)
        XCTAssertEqual(try fx.events("a1").count, 1)

        // Another clientId is another message; a clientId is per conversation.
        let other = try fx.call { fx.store.send(reply(conv, clientId: "c-8"), now: fx.now, completion: $0) }
        XCTAssertFalse(other.duplicate)
        XCTAssertNotEqual(other.messageId, first.messageId)
    }

    func testOnlyTheAssigneeMaySendAsAnAgent() throws {
        let fx = try StoreFixture()
        let conv = try fx.ingest(fx.sms(text: "hello")).conversationId
        // Queued: no agent may reply yet.
        XCTAssertEqual(fx.failure { fx.store.send(reply(conv), now: fx.now, completion: $0) }?.code, "forbidden")
        fx.assign(conv, to: "a1")
        XCTAssertEqual(fx.failure { fx.store.send(reply(conv, agent: "a2"), now: fx.now, completion: $0) }?.code, "forbidden")
        XCTAssertEqual(fx.xlen(fx.keys(.log, conv)), 1)
        XCTAssertEqual(fx.xlen(fx.keys.outbox), 0)
        XCTAssertNil(fx.hget(fx.keys(.conv, conv), "firstResponseAt"))

        // A bot or API key sends without an assignee check, e.g. while the conversation is queued.
        fx.redis.run("HSET", fx.keys(.conv, conv), "status", "queued")
        fx.redis.run("HDEL", fx.keys(.conv, conv), "assignee")
        let bot = SendRequest(conversationId: conv, author: .bot, authorId: "faq-bot", parts: [.text("请稍候")], mode: .outbox)
        let out = try fx.call { fx.store.send(bot, now: fx.now, completion: $0) }
        XCTAssertNotNil(out.outboxEntryId)
        XCTAssertEqual(fx.hget(fx.keys(.conv, conv), "firstResponseAt"), String(fx.now), "a bot reply is a first response")
    }

    func testUnknownClosedAndMalformedSendsAreRefused() throws {
        let fx = try StoreFixture()
        let conv = try assignedConversation(fx)
        XCTAssertEqual(fx.failure { fx.store.send(reply("nope"), now: fx.now, completion: $0) }?.code, "not_found")
        var contact = reply(conv)
        contact.author = .contact
        XCTAssertEqual(fx.failure { fx.store.send(contact, now: fx.now, completion: $0) }?.code, "bad_request")
        for status in ["closed", "wrapup", "abandoned"] {
            fx.redis.run("HSET", fx.keys(.conv, conv), "status", status)
            let api = SendRequest(conversationId: conv, author: .system, parts: [.text("x")], mode: .outbox)
            XCTAssertEqual(fx.failure { fx.store.send(api, now: fx.now, completion: $0) }?.code, "conflict", status)
        }
        XCTAssertEqual(fx.xlen(fx.keys(.log, conv)), 1)
        XCTAssertEqual(fx.xlen(fx.keys.outbox), 0)
    }

    func testWebChatReplyIsDeliveredOverTheSocketNotTheOutbox() throws {
        let fx = try StoreFixture()
        let visitor = Identity(kind: .webchat, address: "v-9")
        let conv = try fx.ingest(IngestRequest(channelId: "web", channelKind: .webchat, skill: "general", from: visitor,
                                               parts: [.text("hi")], visitorNode: "node-1")).conversationId
        fx.assign(conv, to: "a1")
        let out = try fx.call { fx.store.send(reply(conv, mode: DeliveryTransport.of(.webchat)), now: fx.now, completion: $0) }
        XCTAssertNil(out.outboxEntryId)
        XCTAssertEqual(fx.redis.run("EXISTS", fx.keys.outbox), .integer(0))
        XCTAssertEqual(try fx.decodeMessage(out.messageJSON).status, .delivered)
        XCTAssertEqual(fx.hget(fx.keys(.msgStatus, conv), out.messageId), "delivered")
        XCTAssertEqual(try fx.events("a1").count, 1)
        XCTAssertEqual(DeliveryTransport.of(.sms), .outbox)
    }

    func testWithoutAModeTheConversationsKindDecides() throws {
        let fx = try StoreFixture()
        let web = try fx.ingest(IngestRequest(channelId: "web", channelKind: .webchat, skill: "general",
                                              from: Identity(kind: .webchat, address: "v-1"), parts: [.text("hi")]))
        let sms = try fx.ingest(fx.sms(text: "hi"))
        fx.assign(web.conversationId, to: "a1")
        fx.assign(sms.conversationId, to: "a1")
        let toWeb = try fx.call { fx.store.send(reply(web.conversationId, mode: nil), now: fx.now, completion: $0) }
        XCTAssertNil(toWeb.outboxEntryId)
        XCTAssertEqual(fx.hget(fx.keys(.msgStatus, web.conversationId), toWeb.messageId), "delivered")
        let toSMS = try fx.call { fx.store.send(reply(sms.conversationId, mode: nil), now: fx.now, completion: $0) }
        XCTAssertNotNil(toSMS.outboxEntryId)
        XCTAssertEqual(fx.hget(fx.keys(.msgStatus, sms.conversationId), toSMS.messageId), "pending")
    }
}
