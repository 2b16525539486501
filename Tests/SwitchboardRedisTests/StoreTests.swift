import Foundation
import SwitchboardTestSupport
import XCTest
import SwitchboardCore
@testable import SwitchboardRedis

/// A connection that records every command it sends, so a test can prove how many round trips a
/// Store call costs (DESIGN §8: one per inbound message).
final class CountingRedis: RedisCommanding {
    let inner: RedisBlockingConnection
    private(set) var sent: [[String]] = []

    init(_ inner: RedisBlockingConnection) { self.inner = inner }

    func send(_ args: [String], completion: @escaping (Result<RedisReply, RedisError>) -> Void) {
        sent.append(args)
        inner.send(args, completion: completion)
    }

    func send(bytes args: [[UInt8]], completion: @escaping (Result<RedisReply, RedisError>) -> Void) {
        sent.append(args.map { String(decoding: $0, as: UTF8.self) })
        inner.send(bytes: args, completion: completion)
    }

    func reset() { sent = [] }
}

/// A Store on a fresh redis-server, with a fake clock and a second connection for inspection.
final class StoreFixture {
    let server: RedisTestServer
    /// For looking at keys directly; the Store has its own connection.
    let redis: RedisBlockingConnection
    let counter: CountingRedis
    let store: Store
    var now: Int64 = 1_700_000_000_000
    let prefix = "sb:"
    var keys: RedisKeys { store.keys }

    init() throws {
        server = try RedisTestServer()
        redis = try server.connect()
        counter = CountingRedis(try server.connect())
        let runner = ScriptRunner(redis: counter, library: try ScriptLibrary.bundled())
        var loaded: Result<Void, RedisError>?
        runner.preload { loaded = $0 }
        try loaded?.get()
        store = Store(runner: runner, prefix: prefix)
    }

    /// Runs a callback-based Store call; the blocking connection completes before returning.
    func call<T>(_ body: (@escaping (Result<T, StoreError>) -> Void) -> Void,
                 file: StaticString = #filePath, line: UInt = #line) throws -> T {
        var result: Result<T, StoreError>?
        body { result = $0 }
        guard let result else {
            XCTFail("completion not called", file: file, line: line)
            throw StoreError.internal("completion not called")
        }
        return try result.get()
    }

    /// The error a call fails with, or nil if it succeeded.
    func failure<T>(_ body: (@escaping (Result<T, StoreError>) -> Void) -> Void) -> StoreError? {
        var result: Result<T, StoreError>?
        body { result = $0 }
        if case .failure(let e)? = result { return e }
        return nil
    }

    func sms(from number: String = "+8613812345678", text: String, externalId: String? = nil,
             channel: String = "sms-main", name: String? = nil) -> IngestRequest {
        IngestRequest(channelId: channel, channelKind: .sms, skill: "general", priority: 3,
                      from: Identity(kind: .sms, address: number), displayName: name, externalId: externalId,
                      parts: [.text(text)])
    }

    func ingest(_ request: IngestRequest) throws -> IngestOutcome {
        try call { store.ingest(request, now: now, completion: $0) }
    }

    /// Stands in for the Router's accept: the conversation is assigned to `agent`.
    func assign(_ conv: String, to agent: String) {
        redis.run("HSET", keys(.conv, conv), "status", "assigned", "assignee", agent)
    }

    func hget(_ key: String, _ field: String) -> String? {
        redis.run("HGET", key, field).string
    }

    func xlen(_ key: String) -> Int64 {
        redis.run("XLEN", key).int ?? -1
    }

    /// The agent's stored events, decoded.
    func events(_ agent: String) throws -> [[String: Any]] {
        let entries = redis.run("XRANGE", keys(.events, agent), "-", "+").array ?? []
        return try entries.map { entry in
            let fields = entry.array?[1].array ?? []
            let json = fields.count == 2 ? fields[1].string ?? "" : ""
            return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        }
    }

    func decodeMessage(_ json: String) throws -> Message {
        try JSONDecoder().decode(Message.self, from: Data(json.utf8))
    }

    func object(_ json: String) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }
}

/// Reads: conversation, history, replay, open conversation, visitor node, typing.
final class StoreTests: XCTestCase {
    func testConversationJSONCarriesTheModelFields() throws {
        let fx = try StoreFixture()
        let first = try fx.ingest(fx.sms(text: "你好", name: "王女士"))
        let json = try fx.call { fx.store.conversation(id: first.conversationId, completion: $0) }
        let conv = try fx.object(json)
        XCTAssertEqual(conv["id"] as? String, first.conversationId)
        XCTAssertEqual(conv["channel"] as? String, "sms-main")
        XCTAssertEqual(conv["kind"] as? String, "sms")
        XCTAssertEqual(conv["skill"] as? String, "general")
        XCTAssertEqual(conv["priority"] as? Int, 3)
        XCTAssertEqual(conv["status"] as? String, "queued")
        XCTAssertEqual((conv["createdAt"] as? NSNumber)?.int64Value, fx.now)
        let contact = try XCTUnwrap(conv["contact"] as? [String: Any])
        XCTAssertEqual(contact["id"] as? String, first.contactId)
        XCTAssertEqual(contact["name"] as? String, "王女士")
        XCTAssertEqual(contact["address"] as? String, "+8613812345678")

        XCTAssertEqual(fx.failure { fx.store.conversation(id: "nope", completion: $0) }?.code, "not_found")
    }

    func testHistoryIsOldestFirstAndPagesBackwards() throws {
        let fx = try StoreFixture()
        var ids: [String] = []
        var conv = ""
        for i in 1...5 {
            fx.now += 1000
            let out = try fx.ingest(fx.sms(text: "m\(i)"))
            ids.append(out.messageId)
            conv = out.conversationId
        }
        let newest = try fx.call { fx.store.history(conversationId: conv, before: nil, limit: 2, completion: $0) }
        XCTAssertEqual(try newest.map { try fx.decodeMessage($0).plainText }, ["m4", "m5"])
        XCTAssertEqual(try newest.map { try fx.decodeMessage($0).id }, [ids[3], ids[4]])

        let older = try fx.call { fx.store.history(conversationId: conv, before: ids[3], limit: 2, completion: $0) }
        XCTAssertEqual(try older.map { try fx.decodeMessage($0).plainText }, ["m2", "m3"])
        let oldest = try fx.call { fx.store.history(conversationId: conv, before: ids[1], limit: 2, completion: $0) }
        XCTAssertEqual(try oldest.map { try fx.decodeMessage($0).plainText }, ["m1"])
        let none = try fx.call { fx.store.history(conversationId: conv, before: ids[0], limit: 2, completion: $0) }
        XCTAssertEqual(none, [])

        let all = try fx.call { fx.store.history(conversationId: conv, before: nil, limit: 50, completion: $0) }
        let messages = try all.map(fx.decodeMessage)
        XCTAssertEqual(messages.map(\.id), ids)
        XCTAssertEqual(messages.map(\.createdAt), (1...5).map { 1_700_000_000_000 + Int64($0) * 1000 })
        XCTAssertTrue(messages.allSatisfy { $0.conversationId == conv && $0.direction == .in && $0.author == .contact })

        XCTAssertEqual(fx.failure { fx.store.history(conversationId: "nope", before: nil, limit: 5, completion: $0) }?.code,
                       "not_found")
        XCTAssertEqual(fx.failure { fx.store.history(conversationId: conv, before: nil, limit: 0, completion: $0) }?.code,
                       "bad_request")
        XCTAssertEqual(fx.failure { fx.store.history(conversationId: conv, before: "x", limit: 5, completion: $0) }?.code,
                       "bad_request")
    }

    func testReplayReturnsEventsAfterTheSeqInOrder() throws {
        let fx = try StoreFixture()
        let first = try fx.ingest(fx.sms(text: "m0"))
        fx.assign(first.conversationId, to: "a1")
        var messageIds: [String] = []
        for i in 1...4 { messageIds.append(try fx.ingest(fx.sms(text: "m\(i)")).messageId) }

        let after2 = try fx.call { fx.store.replay(agentId: "a1", afterSeq: 2, limit: 100, completion: $0) }
        let events = try after2.map(fx.object)
        XCTAssertEqual(events.map { $0["seq"] as? Int }, [3, 4])
        XCTAssertEqual(events.map { ($0["message"] as? [String: Any])?["id"] as? String }, Array(messageIds[2...]))

        let fromStart = try fx.call { fx.store.replay(agentId: "a1", afterSeq: 0, limit: 3, completion: $0) }
        XCTAssertEqual(try fromStart.map { try fx.object($0)["seq"] as? Int }, [1, 2, 3])
        let caughtUp = try fx.call { fx.store.replay(agentId: "a1", afterSeq: 4, limit: 100, completion: $0) }
        XCTAssertEqual(caughtUp, [])
        let stranger = try fx.call { fx.store.replay(agentId: "a9", afterSeq: 0, limit: 100, completion: $0) }
        XCTAssertEqual(stranger, [])
        XCTAssertEqual(fx.failure { fx.store.replay(agentId: "a1", afterSeq: -1, limit: 10, completion: $0) }?.code,
                       "bad_request")
    }

    func testOpenConversationFindsAReturningVisitorsChat() throws {
        let fx = try StoreFixture()
        let visitor = Identity(kind: .webchat, address: "v-42")
        let missing = try fx.call { fx.store.openConversation(identity: visitor, channelId: "web", completion: $0) }
        XCTAssertNil(missing)

        let request = IngestRequest(channelId: "web", channelKind: .webchat, skill: "general", from: visitor,
                                    parts: [.text("hi")], visitorNode: "node-1")
        let first = try fx.ingest(request)
        let found = try fx.call { fx.store.openConversation(identity: visitor, channelId: "web", completion: $0) }
        XCTAssertEqual(found?.contactId, first.contactId)
        XCTAssertEqual(found?.conversationId, first.conversationId)
        XCTAssertEqual(try fx.object(try XCTUnwrap(found?.conversationJSON))["id"] as? String, first.conversationId)
        XCTAssertEqual(fx.hget(fx.keys(.conv, first.conversationId), "vnode"), "node-1")

        let elsewhere = try fx.call { fx.store.openConversation(identity: visitor, channelId: "web-2", completion: $0) }
        XCTAssertNil(elsewhere)

        fx.redis.run("HSET", fx.keys(.conv, first.conversationId), "status", "closed")
        let afterClose = try fx.call { fx.store.openConversation(identity: visitor, channelId: "web", completion: $0) }
        XCTAssertNil(afterClose)
    }

    func testVisitorDetachOnlyClearsItsOwnNode() throws {
        let fx = try StoreFixture()
        let conv = try fx.ingest(fx.sms(text: "hi")).conversationId
        try fx.call { fx.store.attachVisitor(conversationId: conv, node: "node-1", now: fx.now, completion: $0) }
        XCTAssertEqual(fx.hget(fx.keys(.conv, conv), "vnode"), "node-1")
        // The visitor reconnected through node-2; node-1's late detach must not cut it off.
        try fx.call { fx.store.attachVisitor(conversationId: conv, node: "node-2", now: fx.now, completion: $0) }
        XCTAssertFalse(try fx.call { fx.store.detachVisitor(conversationId: conv, node: "node-1", now: fx.now, completion: $0) })
        XCTAssertEqual(fx.hget(fx.keys(.conv, conv), "vnode"), "node-2")
        XCTAssertTrue(try fx.call { fx.store.detachVisitor(conversationId: conv, node: "node-2", now: fx.now, completion: $0) })
        XCTAssertNil(fx.hget(fx.keys(.conv, conv), "vnode"))

        XCTAssertEqual(fx.failure { fx.store.attachVisitor(conversationId: "nope", node: "n", now: fx.now, completion: $0) }?.code,
                       "not_found")
        XCTAssertEqual(fx.redis.run("EXISTS", fx.keys(.conv, "nope")), .integer(0))
    }

    func testTypingReachesTheOtherSideOnly() throws {
        let fx = try StoreFixture()
        let conv = try fx.ingest(fx.sms(text: "hi")).conversationId
        // Nobody assigned yet: the visitor's typing tells no one, and no agent may type.
        XCTAssertFalse(try fx.call { fx.store.typing(conversationId: conv, from: .visitor, now: fx.now, completion: $0) })
        XCTAssertEqual(fx.failure { fx.store.typing(conversationId: conv, from: .agent("a1"), now: fx.now, completion: $0) }?.code,
                       "forbidden")

        fx.assign(conv, to: "a1")
        XCTAssertTrue(try fx.call { fx.store.typing(conversationId: conv, from: .visitor, now: fx.now, completion: $0) })
        let events = try fx.events("a1")
        XCTAssertEqual(events.count, 1)
        XCTAssertEqual(events.first?["type"] as? String, "typing")
        XCTAssertEqual(events.first?["conversationId"] as? String, conv)
        XCTAssertEqual(events.first?["seq"] as? Int, 1)

        // The agent's typing goes to the visitor's node only when a visitor socket is attached.
        XCTAssertFalse(try fx.call { fx.store.typing(conversationId: conv, from: .agent("a1"), now: fx.now, completion: $0) })
        try fx.call { fx.store.attachVisitor(conversationId: conv, node: "node-1", now: fx.now, completion: $0) }
        XCTAssertTrue(try fx.call { fx.store.typing(conversationId: conv, from: .agent("a1"), now: fx.now, completion: $0) })
        XCTAssertEqual(fx.failure { fx.store.typing(conversationId: conv, from: .agent("a2"), now: fx.now, completion: $0) }?.code,
                       "forbidden")
        XCTAssertEqual(try fx.events("a1").count, 1, "agent typing is not echoed to the agent")
        XCTAssertEqual(fx.failure { fx.store.typing(conversationId: "nope", from: .visitor, now: fx.now, completion: $0) }?.code,
                       "not_found")
    }
}
