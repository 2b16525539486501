import Foundation
import XCTest
import SwitchboardCore
@testable import SwitchboardRedis

/// Satisfaction ratings (Scripts/csat.lua, DESIGN §16): a rating lands on the conversation it was
/// asked for, which must be the rater's and closed, once; never on the conversation now open.
final class StoreCSATTests: XCTestCase {
    private var f: StoreFixture!
    private var router: Router!

    override func setUpWithError() throws {
        try super.setUpWithError()
        f = try StoreFixture()
        router = Router(runner: ScriptRunner(redis: f.redis, library: try ScriptLibrary.bundled()), prefix: f.prefix,
                        settings: RoutingSettings())
    }

    override func tearDown() {
        router = nil
        f?.server.stop()
        f = nil
        super.tearDown()
    }

    private func say(_ visitor: String, _ text: String) throws -> String {
        try f.ingest(IngestRequest(channelId: "web", channelKind: .webchat, skill: "general",
                                   from: Identity(kind: .webchat, address: visitor), parts: [.text(text)])).conversationId
    }

    /// An agent served the conversation and closed it (it is in wrap-up afterwards).
    private func close(_ conv: String) throws {
        f.assign(conv, to: "a1")
        _ = try f.call { router.close(agentId: "a1", conversationId: conv, category: nil, disposition: nil, now: f.now, completion: $0) }
    }

    private func rate(_ visitor: String, _ conv: String?, _ rating: Int) -> Result<String, StoreError> {
        var out: Result<String, StoreError> = .failure(.internal("no completion"))
        f.store.rateConversation(identity: Identity(kind: .webchat, address: visitor), channelId: "web", conversationId: conv,
                                 rating: rating, comment: "ok", now: f.now) { out = $0 }
        return out
    }

    private func code(_ r: Result<String, StoreError>) -> String? {
        if case .failure(let e) = r { return e.code }
        return nil
    }

    private func csat(_ conv: String) -> String? { f.hget(f.keys(.conv, conv), "csat") }

    func testARatingLandsOnTheClosedConversationNeverTheOpenOne() throws {
        let first = try say("v1", "我的快递丢了")
        try close(first)
        XCTAssertEqual(f.hget(f.keys(.conv, first), "status"), "wrapup")
        let second = try say("v1", "还有一个问题")
        XCTAssertNotEqual(second, first, "the close ended the first conversation")

        XCTAssertEqual(try rate("v1", first, 4).get(), first)
        XCTAssertEqual(csat(first), "4")
        XCTAssertEqual(f.hget(f.keys(.conv, first), "csatComment"), "ok")
        XCTAssertEqual(f.hget(f.keys(.conv, first), "csatAt"), String(f.now))
        XCTAssertNil(csat(second), "the open conversation is not rated")

        // Once per conversation: a second rating is refused and changes nothing.
        XCTAssertEqual(code(rate("v1", first, 1)), "conflict")
        XCTAssertEqual(code(rate("v1", nil, 1)), "conflict", "without an id: the most recently closed, already rated")
        XCTAssertEqual(csat(first), "4")
        // An open conversation is never rated, even when named.
        XCTAssertEqual(code(rate("v1", second, 5)), "conflict")
        XCTAssertNil(csat(second))
    }

    func testWithoutAnIdTheMostRecentlyClosedIsRated() throws {
        let first = try say("v1", "第一次")
        try close(first)
        f.now += 60_000
        let second = try say("v1", "第二次")
        try close(second)
        f.now += 60_000
        let third = try say("v1", "第三次")   // open
        XCTAssertEqual(try rate("v1", nil, 5).get(), second)
        XCTAssertEqual(csat(second), "5")
        XCTAssertNil(csat(first))
        XCTAssertNil(csat(third))
        XCTAssertEqual(code(rate("v1", nil, 5)), "conflict")
    }

    func testSomeoneElsesConversationIsRefused() throws {
        let first = try say("v1", "你好")
        try close(first)
        _ = try say("v2", "我也有问题")
        XCTAssertEqual(code(rate("v2", first, 1)), "not_found", "v2 may not rate v1's conversation")
        XCTAssertEqual(code(rate("v2", nil, 1)), "not_found", "v2 has nothing closed to rate")
        XCTAssertEqual(code(rate("v9", first, 1)), "not_found", "an unknown visitor")
        XCTAssertEqual(code(rate("v1", "c-none", 1)), "not_found")
        XCTAssertNil(csat(first))
        XCTAssertEqual(code(rate("v1", first, 6)), "bad_request")
        XCTAssertEqual(try rate("v1", first, 2).get(), first)
    }
}
