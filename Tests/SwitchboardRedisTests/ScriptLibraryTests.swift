import XCTest
@testable import SwitchboardRedis

final class ScriptLibraryTests: XCTestCase {
    func testBundledScriptsLoadAndRunAfterScriptFlush() throws {
        let server = try RedisTestServer()
        let redis = try server.connect()
        let library = try ScriptLibrary.bundled()
        XCTAssertFalse(library.scripts.isEmpty)
        XCTAssertNil(library.scripts["_a_base"], "preludes are not scripts of their own")
        let runner = ScriptRunner(redis: redis, library: library)
        var loaded: Result<Void, RedisError>?
        runner.preload { loaded = $0 }
        XCTAssertNoThrow(try loaded?.get())
        // Every script compiles: SCRIPT LOAD above would have failed on a syntax error.
        redis.run("SCRIPT", "FLUSH")
        XCTAssertEqual(redis.run("SCRIPT", "EXISTS", library.scripts.values.first!.sha1), .array([.integer(0)]))
    }
}
