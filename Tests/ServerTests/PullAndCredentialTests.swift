import Logging
import SwitchboardCore
import SwitchboardRedis
import SwitchboardTestSupport
import XCTest
@testable import SwitchboardServer

/// The pull loop and the shared token cache against a real redis-server (DESIGN §10.1, §10.3):
/// the cursor advances only after a page is stored, one node pulls a source at a time, and nodes
/// share one access token, refreshed once. The provider is a scripted transport; the blocking
/// Redis client completes every call before it returns, so each flow runs to its end inside
/// the call that starts it (nothing is timed).
final class PullAndCredentialTests: XCTestCase {
    private var server: RedisTestServer!
    private var inspect: RedisBlockingConnection!

    override func setUpWithError() throws {
        server = try RedisTestServer()
        inspect = try server.connect()
    }

    override func tearDown() {
        server.stop()
    }

    /// One broker node's parts on the test Redis.
    private final class Node {
        let store: Store
        let ingest: IngestPipeline
        let credentials: CredentialCache
        let pulls: PullRunner
        let transport: ScriptedTransport

        init(_ server: RedisTestServer, id: String, transport: ScriptedTransport, adapter: FakePullAdapter) throws {
            let runner = ScriptRunner(redis: try server.connect(), library: try ScriptLibrary.bundled())
            var loaded: Result<Void, RedisError>?
            runner.preload { loaded = $0 }
            try loaded?.get()
            store = Store(runner: runner, prefix: "sb:")
            let router = Router(runner: runner, prefix: "sb:", settings: RoutingSettings())
            var synced: Result<Void, StoreError>?
            router.syncAgents([], now: 1_700_000_000_000) { synced = $0.map { _ in () } }
            try synced?.get()
            ingest = IngestPipeline(store: store, router: router, metrics: BrokerMetrics(),
                                    calls: CallService(router: router, metrics: BrokerMetrics(), agents: [], logger: Logger(label: "test"), clock: { 1_700_000_000_000 }),
                                    clock: { 1_700_000_000_000 })
            credentials = CredentialCache(store: store, http: transport, nodeId: id, schedule: { _, action in action() })
            pulls = PullRunner(store: store, http: transport, credentials: credentials, ingest: ingest,
                               adapters: [adapter.channelId: adapter], nodeId: id, logger: Logger(label: "test"))
            ingest.onPullTrigger = { [pulls] channel, trigger in pulls.triggered(channel, trigger) }
            self.transport = transport
        }

        /// A webhook's `fetch` event, stored and handed to the pull runner as the server does.
        func trigger(_ channel: ChannelConfig, token: String) throws {
            var stored: Result<[EventOutcome], StoreError>?
            ingest.store([.fetch(PullTrigger(source: "kf1", token: token))], channel: channel) { stored = $0 }
            _ = try XCTUnwrap(stored).get()
        }
    }

    private let channel = ChannelConfig(id: "kf", kind: .wechat, provider: "fake", skill: "general")
    private let keys = RedisKeys(prefix: "sb:")

    private func get(_ key: String) -> String? {
        guard case .success(.bulk(let b)) = inspect.command(["GET", key]) else { return nil }
        return String(decoding: b, as: UTF8.self)
    }

    private func logLength(of conversation: String) -> Int64? {
        guard case .success(.integer(let n)) = inspect.command(["XLEN", keys(.log, conversation)]) else { return nil }
        return n
    }

    private func conversations() -> [String] {
        // Every conversation hash: `keys(.conv, "*")` as a pattern, the id read back between the braces.
        guard case .success(.array(let names)) = inspect.command(["KEYS", keys(.conv, "*")]) else { return [] }
        return names.compactMap(\.string).compactMap { name in
            guard let open = name.firstIndex(of: "{"), let close = name.lastIndex(of: "}") else { return nil }
            return String(name[name.index(after: open)..<close])
        }
    }

    func testTheCursorAdvancesOnlyAfterThePageIsStored() throws {
        let transport = ScriptedTransport()
        let node = try Node(server, id: "a", transport: transport, adapter: FakePullAdapter())
        transport.pages = [["m1", "m2"], ["m3"]]
        // Storing page 2 fails: Redis refuses writes (maxmemory reached, noeviction) just as the
        // provider answers it.
        transport.beforeAnswering = { [inspect] request in
            if request.body == Array("cursor=1".utf8) {
                _ = inspect!.command(["CONFIG", "SET", "maxmemory-policy", "noeviction"])
                _ = inspect!.command(["CONFIG", "SET", "maxmemory", "1"])
            }
        }
        try node.trigger(channel, token: "T1")
        XCTAssertEqual(get(keys.pullCursor(channel: "kf", source: "kf1")), "1", "page 1 was stored, so the cursor moved past it, and no further")
        let stored = conversations()
        XCTAssertEqual(stored.count, 1)
        XCTAssertEqual(logLength(of: stored[0]), 2, "m1 and m2 stored; m3 not")
        // Letting go failed too (Redis refuses the script while it refuses writes): the lock is
        // this node's until it expires, and this node takes it back at the next trigger.
        XCTAssertEqual(get(keys.pullLock(channel: "kf", source: "kf1")), "a")

        // Redis takes writes again; the next trigger resumes at page 2, and only page 2.
        _ = inspect.command(["CONFIG", "SET", "maxmemory", "0"])
        transport.beforeAnswering = nil
        let before = transport.pageRequests.count
        try node.trigger(channel, token: "T2")
        XCTAssertEqual(transport.pageRequests[before].body, Array("cursor=1".utf8))
        XCTAssertEqual(get(keys.pullCursor(channel: "kf", source: "kf1")), "2")
        XCTAssertEqual(logLength(of: stored[0]), 3)
        XCTAssertNil(get(keys.pullLock(channel: "kf", source: "kf1")), "a finished pull lets go of the source")
    }

    func testOneNodePullsASourceAtATimeAndATriggerWhileItPullsIsNotLost() throws {
        let transport = ScriptedTransport()
        transport.pages = [["m1"], ["m2"], ["m3"]]
        let a = try Node(server, id: "a", transport: transport, adapter: FakePullAdapter())
        let b = try Node(server, id: "b", transport: transport, adapter: FakePullAdapter())
        // Node a's first page stays unanswered while node b gets a trigger of its own.
        transport.hold = true
        try a.trigger(channel, token: "T1")
        XCTAssertEqual(transport.pageRequests.count, 1)
        XCTAssertEqual(get(keys.pullLock(channel: "kf", source: "kf1")), "a")
        try b.trigger(channel, token: "T2")
        XCTAssertEqual(transport.pageRequests.count, 1, "node b saw the lock and made no request")
        XCTAssertEqual(get(keys.pullPending(channel: "kf", source: "kf1")), "T2", "b's trigger waits for whoever holds the source")

        transport.hold = false
        transport.releaseHeld()
        // a pulled every page with its own trigger's token, then took b's trigger (T2) and pulled
        // once more from the stored cursor before letting go.
        XCTAssertEqual(transport.pageRequests.map { String(decoding: $0.body, as: UTF8.self) },
                       ["cursor=", "cursor=1", "cursor=2", "cursor=3"])
        XCTAssertEqual(transport.pageRequests.map { $0.headers["x-token"] ?? "" }, ["T1", "T1", "T1", "T2"])
        XCTAssertNil(get(keys.pullLock(channel: "kf", source: "kf1")))
        XCTAssertNil(get(keys.pullPending(channel: "kf", source: "kf1")))
        XCTAssertEqual(conversations().map { logLength(of: $0) ?? 0 }.reduce(0, +), 3, "every message stored once")
    }

    func testNodesShareOneTokenAndARefusedTokenIsRefreshedOnce() throws {
        let transport = ScriptedTransport()
        let a = try Node(server, id: "a", transport: transport, adapter: FakePullAdapter())
        let b = try Node(server, id: "b", transport: transport, adapter: FakePullAdapter())
        let source = FakePullAdapter().credentialSource

        func token(_ node: Node) throws -> String {
            var got: Result<String, CredentialError>?
            node.credentials.token(for: source) { got = $0 }
            return try XCTUnwrap(got).get()
        }
        func replace(_ node: Node, _ refused: String) throws -> String {
            var got: Result<String, CredentialError>?
            node.credentials.replace(refused, for: source) { got = $0 }
            return try XCTUnwrap(got).get()
        }

        XCTAssertEqual(try token(a), "TOKEN-1")
        XCTAssertEqual(try token(b), "TOKEN-1", "node b uses the token node a fetched")
        XCTAssertEqual(transport.tokenRequests.count, 1)

        // Both nodes see TOKEN-1 refused: one refresh, and both end with TOKEN-2.
        XCTAssertEqual(try replace(a, "TOKEN-1"), "TOKEN-2")
        XCTAssertEqual(try replace(b, "TOKEN-1"), "TOKEN-2")
        XCTAssertEqual(transport.tokenRequests.count, 2)
        XCTAssertEqual(transport.tokenRequests.last?.headers["x-force"], "1", "a refused token is replaced by force")

        // Five minutes before expiry the token is refreshed (without force), once.
        _ = inspect.command(["PEXPIRE", keys.credential("fake:acct"), "200000"])
        XCTAssertEqual(try token(b), "TOKEN-3")
        XCTAssertEqual(try token(a), "TOKEN-3")
        XCTAssertEqual(transport.tokenRequests.count, 3)
        XCTAssertEqual(transport.tokenRequests.last?.headers["x-force"], "0")
    }
}

/// A provider whose pages are lists of message ids: the request body is `cursor=<n>`, the trigger's
/// token travels in `x-token`, and a page's next cursor is its index + 1.
private final class ScriptedTransport: HTTPTransport {
    var pages: [[String]] = []
    var hold = false
    var beforeAnswering: ((OutboundHTTPRequest) -> Void)?
    private(set) var pageRequests: [OutboundHTTPRequest] = []
    private(set) var tokenRequests: [OutboundHTTPRequest] = []
    private var held: [() -> Void] = []

    func perform(_ request: OutboundHTTPRequest, maxResponseBytes: Int, completion: @escaping (TransportResponse) -> Void) {
        if request.url.hasSuffix("/token") {
            tokenRequests.append(request)
            return completion(TransportResponse(status: 200, body: Array("TOKEN-\(tokenRequests.count)".utf8)))
        }
        pageRequests.append(request)
        let answer = { [self] in
            beforeAnswering?(request)
            let index = Int(String(decoding: request.body.dropFirst("cursor=".count), as: UTF8.self)) ?? 0
            let ids = index < pages.count ? pages[index] : []
            let more = index + 1 < pages.count
            completion(TransportResponse(status: 200, body: Array("\(index + 1)|\(more ? 1 : 0)|\(ids.joined(separator: ","))".utf8)))
        }
        if hold { held.append(answer) } else { answer() }
    }

    func releaseHeld() {
        let pending = held
        held = []
        pending.forEach { $0() }
    }
}

private struct FakeCredentialSource: CredentialSource {
    var cacheKey: String { "fake:acct" }
    func tokenRequest(force: Bool) -> OutboundHTTPRequest {
        OutboundHTTPRequest(url: "http://127.0.0.1/token", headers: ["x-force": force ? "1" : "0"], body: [])
    }
    func parseToken(_ response: TransportResponse) -> Result<IssuedCredential, CredentialError> {
        .success(IssuedCredential(token: String(decoding: response.body, as: UTF8.self), expiresInSeconds: 7200))
    }
}

private struct FakePuller: ChannelPuller {
    func pageRequest(trigger: PullTrigger, cursor: String?, credential: String?) -> OutboundHTTPRequest {
        OutboundHTTPRequest(url: "http://127.0.0.1/pull", headers: ["x-token": trigger.token ?? "", "x-credential": credential ?? ""],
                            body: Array("cursor=\(cursor ?? "")".utf8))
    }
    func parsePage(_ response: TransportResponse, trigger: PullTrigger) -> PullPageResult {
        let fields = String(decoding: response.body, as: UTF8.self).split(separator: "|", omittingEmptySubsequences: false)
        let ids = fields[2].split(separator: ",").map(String.init)
        let events = ids.map { id in
            InboundEvent.message(InboundMessage(from: Identity(kind: .wechat, address: "customer"), externalId: id,
                                                parts: [.text("message \(id)")], to: trigger.source))
        }
        return .page(events: events, nextCursor: String(fields[0]), hasMore: fields[1] == "1")
    }
}

private struct FakePullAdapter: ChannelAdapter {
    var channelId: String { "kf" }
    var kind: ChannelKind { .wechat }
    var routes: [ChannelRoute] { [] }
    var credentialSource: FakeCredentialSource { FakeCredentialSource() }
    var credentials: (any CredentialSource)? { credentialSource }
    var puller: (any ChannelPuller)? { FakePuller() }
    func receive(_ request: HTTPRequest) throws(ChannelError) -> InboundBatch { throw .unknownRoute("none") }
    func render(_ outbound: OutboundMessage, credential: String?) throws(ChannelError) -> Delivery { .socket }
    func interpret(_ response: TransportResponse, to request: OutboundHTTPRequest, for outbound: OutboundMessage,
                   credential: String?) -> DeliveryOutcome { .sent(providerId: nil) }
}
