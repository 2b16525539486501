import Foundation
import SwitchboardTestSupport
import XCTest
import SwitchboardCore
@testable import SwitchboardRedis

/// Shared fixture for the routing-script tests (DESIGN §13 tier 2): a real `redis-server` per test,
/// the bundled scripts, a `Router` over a blocking connection (completions run before the call
/// returns), and a fake clock. Conversations are written straight into their hashes, as the Store's
/// ingest would.
class RouterTestCase: XCTestCase {
    /// The fake clock's origin; tests pass `T0 + offset` as `now`.
    let T0: Int64 = 1_700_000_000_000
    static let library = Result { try ScriptLibrary.bundled() }

    var server: RedisTestServer!
    var redis: RedisBlockingConnection!
    var router: Router!
    /// Key names, from the registry the scripts use (prefix `sb:`, as `makeRouter` passes).
    let keys = RedisKeys(prefix: "sb:")

    /// Offer 20 s, 2 misses → away, grace 30 s, wrap-up 10 s, 60 s of waiting per priority step.
    var settings: RoutingSettings {
        RoutingSettings(offerTimeout: 20, offerMissedLimit: 2, reconnectGrace: 30, wrapupSeconds: 10,
                        strategy: .longestIdle, agingSecondsPerPriority: 60)
    }

    override func setUpWithError() throws {
        try super.setUpWithError()
        server = try RedisTestServer()
        redis = try server.connect()
        router = try makeRouter(settings)
    }

    override func tearDown() {
        router = nil
        redis = nil
        server?.stop()
        server = nil
        super.tearDown()
    }

    func makeRouter(_ settings: RoutingSettings) throws -> Router {
        Router(runner: ScriptRunner(redis: redis, library: try Self.library.get()), prefix: keys.prefix, settings: settings)
    }

    // MARK: Calling the router synchronously

    /// Runs a router call and returns its result; the blocking connection completes inline.
    func call<T>(_ body: (@escaping (Result<T, StoreError>) -> Void) -> Void,
                 file: StaticString = #filePath, line: UInt = #line) -> Result<T, StoreError> {
        var out: Result<T, StoreError>?
        body { out = $0 }
        guard let result = out else {
            XCTFail("completion was not called", file: file, line: line)
            return .failure(.internal("no completion"))
        }
        return result
    }

    func must<T>(_ body: (@escaping (Result<T, StoreError>) -> Void) -> Void,
                 file: StaticString = #filePath, line: UInt = #line) throws -> T {
        try call(body, file: file, line: line).get()
    }

    /// The error code a call failed with, or nil when it succeeded.
    func errorCode<T>(_ body: (@escaping (Result<T, StoreError>) -> Void) -> Void,
                      file: StaticString = #filePath, line: UInt = #line) -> String? {
        if case .failure(let e) = call(body, file: file, line: line) { return e.code }
        return nil
    }

    // MARK: Fixtures

    func agentConfig(_ id: String, skills: [String: Int], capacity: [ChannelKind: Int] = [.webchat: 2]) -> AgentConfig {
        AgentConfig(id: id, name: "Agent \(id)", tokenSHA256: "", skills: skills, capacity: capacity)
    }

    func sync(_ agents: [AgentConfig], at offset: Int64 = 0) throws {
        _ = try must { router.syncAgents(agents, now: T0 + offset, completion: $0) }
    }

    /// Connects the agent on node `n1` and makes it available at `T0 + offset` (its idleSince).
    func online(_ id: String, at offset: Int64) throws {
        _ = try must { router.connect(agentId: id, node: "n1", now: T0 + offset, completion: $0) }
        _ = try must { router.setPresence(agentId: id, status: .available, reason: nil, now: T0 + offset, completion: $0) }
    }

    /// Agents a1 and a2 with skill sales and `webchat` room for `capacity`, available at T0 + 1 and
    /// T0 + 2 (a1 is the longest idle).
    func twoAgents(capacity: Int = 1) throws {
        try sync([agentConfig("a1", skills: ["sales": 1], capacity: [.webchat: capacity]),
                  agentConfig("a2", skills: ["sales": 1], capacity: [.webchat: capacity])])
        try online("a1", at: 1)
        try online("a2", at: 2)
    }

    /// Writes a conversation hash as ingest does: status queued, queuedAt `T0 + queuedAt`.
    func conversation(_ id: String, kind: ChannelKind = .webchat, skill: String = "sales", priority: Int = 0,
                      minLevel: Int? = nil, queuedAt: Int64 = 0, contact: String = "k1", channel: String = "web-main") {
        var args = ["HSET", convKey(id), "id", id, "channel", channel, "kind", kind.rawValue, "skill", skill,
                    "priority", String(priority), "status", "queued", "contact", contact, "contactName", "Visitor",
                    "address", "v-\(contact)", "createdAt", String(T0 + queuedAt), "queuedAt", String(T0 + queuedAt)]
        if let minLevel { args += ["minLevel", String(minLevel)] }
        _ = redis.command(args)
    }

    @discardableResult
    func enqueue(_ id: String, front: Bool = false, at offset: Int64 = 0) throws -> EnqueueOutcome {
        try must { router.enqueue(conversationId: id, front: front, now: T0 + offset, completion: $0) }
    }

    /// The pending offer id of a conversation (its `offer` field).
    func offerId(_ conv: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try XCTUnwrap(hget(convKey(conv), "offer"), "no offer for \(conv)", file: file, line: line)
    }

    /// The agent a conversation is currently offered to, or nil.
    func offeredTo(_ conv: String) -> String? {
        guard hget(convKey(conv), "status") == "offered", let oid = hget(convKey(conv), "offer") else { return nil }
        return hget(keys(.offer, oid), "agent")
    }

    func accept(_ agent: String, _ conv: String, at offset: Int64) throws {
        let oid = try offerId(conv)
        _ = try must { router.accept(agentId: agent, offerId: oid, now: T0 + offset, completion: $0) }
    }

    func reject(_ agent: String, _ conv: String, at offset: Int64) throws {
        let oid = try offerId(conv)
        try must { router.reject(agentId: agent, offerId: oid, reason: nil, now: T0 + offset, completion: $0) }
    }

    func sweep(at offset: Int64) throws -> SweepOutcome {
        try must { router.sweep(now: T0 + offset, completion: $0) }
    }

    // MARK: Reading Redis

    func convKey(_ id: String) -> String { keys(.conv, id) }
    func agentKey(_ id: String) -> String { keys(.agent, id) }
    func queueKey(_ skill: String) -> String { keys(.queue, skill) }
    func availKey(_ skill: String) -> String { keys(.avail, skill) }

    func hget(_ key: String, _ field: String) -> String? {
        redis.run("HGET", key, field).string
    }

    func status(_ conv: String) -> String? { hget(convKey(conv), "status") }

    func load(_ agent: String, _ kind: ChannelKind = .webchat) -> Int {
        Int(hget(agentKey(agent), "load:\(kind.rawValue)") ?? "") ?? -1
    }

    /// Members of a sorted set, lowest score first.
    func zrange(_ key: String) -> [String] {
        (redis.run("ZRANGE", key, "0", "-1").array ?? []).compactMap(\.string)
    }

    func zscore(_ key: String, _ member: String) -> Double? {
        redis.run("ZSCORE", key, member).string.flatMap(Double.init)
    }

    func smembers(_ key: String) -> Set<String> {
        Set((redis.run("SMEMBERS", key).array ?? []).compactMap(\.string))
    }

    /// The agent's event stream (DESIGN §8 `sb:agent:<id>:events`), each event decoded.
    func events(_ agent: String) -> [[String: Any]] {
        let entries = redis.run("XRANGE", keys(.events, agent), "-", "+").array ?? []
        return entries.compactMap { entry -> [String: Any]? in
            guard let fields = entry.array?.last?.array, fields.count == 2, let json = fields[1].string,
                  let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
            else { return nil }
            return object
        }
    }

    func eventTypes(_ agent: String) -> [String] {
        events(agent).compactMap { $0["type"] as? String }
    }

    func counter(_ name: String) -> Int {
        Int(hget(keys(.stats), name) ?? "0") ?? -1
    }
}

/// Checks of the fixture and of the routing-script calling convention itself.
final class RouterHarnessTests: RouterTestCase {
    func testScriptsRefuseMissingSettings() throws {
        let runner = ScriptRunner(redis: redis, library: try Self.library.get())
        var result: Result<RedisReply, RedisError>?
        runner.eval("enqueue", keys: ["sb:"], args: [String(T0), "c1"]) { result = $0 }
        guard case .failure(let error) = try XCTUnwrap(result) else { return XCTFail("accepted a call without settings") }
        XCTAssertEqual(StoreError(error).code, "bad_request")
    }

    func testSettingsAreSentInMilliseconds() {
        XCTAssertEqual(Router.milliseconds(20), "20000")
        XCTAssertEqual(Router.milliseconds(0.25), "250")
    }

    func testEventsCarryIncreasingSeq() throws {
        try sync([agentConfig("a1", skills: ["sales": 1])])
        try online("a1", at: 1)
        conversation("c1")
        try enqueue("c1", at: 2)
        let seqs = events("a1").compactMap { ($0["seq"] as? NSNumber)?.intValue }
        XCTAssertEqual(seqs, [1, 2])
        XCTAssertEqual(eventTypes("a1"), ["presence", "offer"])
    }
}
