import SwitchboardTestSupport
import XCTest
@testable import SwitchboardRedis

final class ScriptLibraryTests: XCTestCase {
    func testLibraryLoadsAndIsReloadedAfterFunctionFlush() throws {
        let server = try RedisTestServer()
        let redis = try server.connect()
        let library = try ScriptLibrary.bundled()
        XCTAssertNotNil(library.functions["ingest"])
        XCTAssertNil(library.functions["_a_base"], "helper files are not scripts of their own")
        let runner = ScriptRunner(redis: redis, library: library)
        var loaded: Result<Void, RedisError>?
        runner.preload { loaded = $0 }
        // Every script compiles: FUNCTION LOAD fails on a syntax error anywhere in the library.
        XCTAssertNoThrow(try XCTUnwrap(loaded).get())
        XCTAssertEqual(redis.run("FUNCTION", "LIST", "LIBRARYNAME", library.name).array?.count, 1)

        // A Redis that lost its functions (a fresh replica, FUNCTION FLUSH) gets them back on the
        // first call, which then runs.
        redis.run("FUNCTION", "FLUSH")
        var reply: Result<RedisReply, RedisError>?
        runner.eval("queue_position", keys: ["sb:"], args: ["1700000000000", "c-unknown"]) { reply = $0 }
        XCTAssertNotNil(reply)
        if case .failure(.server(let message)) = reply { XCTAssertFalse(message.contains("Function not found"), message) }
        XCTAssertEqual(redis.run("FUNCTION", "LIST", "LIBRARYNAME", library.name).array?.count, 1)
    }

    func testTwoBuildsShareOneRedisWithoutReplacingEachOther() throws {
        let library = try ScriptLibrary.bundled()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sb-lib-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "local function helper() return 'v2' end\n".write(to: dir.appendingPathComponent("_a.lua"), atomically: true, encoding: .utf8)
        try "return helper() .. '|' .. P .. '|' .. NOW\n".write(to: dir.appendingPathComponent("probe.lua"), atomically: true, encoding: .utf8)
        let other = try ScriptLibrary.load(directory: dir.path)
        XCTAssertNotEqual(other.name, library.name)

        let server = try RedisTestServer()
        let redis = try server.connect()
        var results: [Result<Void, RedisError>] = []
        ScriptRunner(redis: redis, library: library).preload { results.append($0) }
        let runner = ScriptRunner(redis: redis, library: other)
        runner.preload { results.append($0) }
        XCTAssertEqual(results.count, 2)
        for result in results { XCTAssertNoThrow(try result.get()) }
        XCTAssertEqual(redis.run("FUNCTION", "LIST").array?.count, 2)
        var reply: Result<RedisReply, RedisError>?
        runner.eval("probe", keys: ["pfx:"], args: ["42"]) { reply = $0 }
        XCTAssertEqual(try XCTUnwrap(reply).get().string, "v2|pfx:|42")
    }
}
