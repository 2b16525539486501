import Foundation
import SwitchboardTestSupport
import XCTest
@testable import SwitchboardRedis

/// The key registry (RedisKeys.swift, DESIGN §8): the scripts' `K` and Swift's `RedisKeys` build the
/// same names from it, and nobody else spells a key.
final class RedisKeysTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../..").standardized
    static let scripts = root.appendingPathComponent("Sources/SwitchboardRedis/Scripts")

    /// Returns `K[name](args…)` for each `{name, args}` of the JSON in ARGV[2].
    static let probe = """
    local out = {}
    for i, call in ipairs(cjson.decode(ARGV[2])) do
      local build = K[call[1]]
      if build == nil then out[i] = 'no K.' .. call[1] else out[i] = build(unpack(call[2])) end
    end
    return out
    """

    func testLuaAndSwiftBuildTheSameKeyForEveryEntry() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sb-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for file in try FileManager.default.contentsOfDirectory(atPath: Self.scripts.path) where file.hasSuffix(".lua") {
            try FileManager.default.copyItem(at: Self.scripts.appendingPathComponent(file), to: dir.appendingPathComponent(file))
        }
        try Self.probe.write(to: dir.appendingPathComponent("probe_keys.lua"), atomically: true, encoding: .utf8)
        let library = try ScriptLibrary.load(directory: dir.path)

        // A prefix other than the default, and arguments full of the characters keys are made of.
        let prefix = "t{9}:"
        let calls = RedisKey.allCases.map { key in (key, key.parameters.map { "\($0)-{x}:\(key.rawValue)" }) }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: calls.map { [$0.0.luaName, $0.1] }), as: UTF8.self)

        let server = try RedisTestServer()
        let runner = ScriptRunner(redis: try server.connect(), library: library)
        var reply: Result<RedisReply, RedisError>?
        runner.eval("probe_keys", keys: [prefix], args: ["1700000000000", json]) { reply = $0 }
        let lua = try XCTUnwrap(try XCTUnwrap(reply).get().array).map { $0.string ?? "" }

        let keys = RedisKeys(prefix: prefix)
        XCTAssertEqual(lua.count, calls.count)
        for ((key, args), fromLua) in zip(calls, lua) {
            XCTAssertEqual(fromLua, keys.build(key, args), "K.\(key.luaName) and RedisKeys differ for \(key)")
            XCTAssertTrue(fromLua.hasPrefix(prefix))
        }
        XCTAssertEqual(keys(.log, "c1"), "t{9}:conv:{c1}:log")
        XCTAssertEqual(RedisKeys(prefix: "sb:")(.agentOffers, "a1"), "sb:{r}:agent:a1:offers")
        XCTAssertEqual(RedisKeys(prefix: "sb:").optOut(channel: "wx", identity: .init(kind: .wechat, address: "o1")), "sb:optout:wx:wechat:o1")
    }

    func testEveryEntryIsWellFormed() {
        let luaKeywords: Set = ["and", "break", "do", "else", "elseif", "end", "false", "for", "function", "if", "in",
                                "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
                                "P", "K", "KEYS", "ARGV", "NOW", "CALL"]
        var patterns = Set<String>(), luaNames = Set<String>()
        for key in RedisKey.allCases {
            let pattern = key.definition.pattern
            XCTAssertTrue(patterns.insert(pattern).inserted, "\(pattern) is registered twice")
            XCTAssertTrue(luaNames.insert(key.luaName).inserted, "K.\(key.luaName) is generated twice")
            XCTAssertFalse(key.definition.type.isEmpty || key.definition.owner.isEmpty || key.definition.holds.isEmpty, "\(key)")
            for segment in key.segments {
                switch segment {
                case .literal(let text):
                    // Spliced into a Lua string literal unescaped.
                    XCTAssertNil(text.range(of: #"[^a-z0-9:{}_]"#, options: .regularExpression), "\(pattern): literal \(text)")
                case .parameter(let name):
                    XCTAssertNotNil(name.range(of: #"^[a-z_][a-z0-9_]*$"#, options: .regularExpression), "\(pattern): parameter \(name)")
                    XCTAssertFalse(luaKeywords.contains(name), "\(pattern): parameter \(name) is reserved in the library")
                }
            }
            XCTAssertEqual(Set(key.parameters).count, key.parameters.count, "\(pattern): a parameter named twice")
            XCTAssertFalse(pattern.contains("<>"), pattern)
        }
        XCTAssertEqual(RedisKey.parse("a:<x>:b:<y>"), [.literal("a:"), .parameter("x"), .literal(":b:"), .parameter("y")])
        XCTAssertEqual(RedisKey.log.luaDefinition, "function K.log(conv) return P .. 'conv:{' .. conv .. '}:log' end")
        XCTAssertEqual(RedisKey.outboxDelayed.luaDefinition, "function K.outbox_delayed() return P .. 'outbox:delayed' end")
    }

    /// Scripts name keys only through `K`: no prefix concatenation, no suffix glued onto a `K` key,
    /// no `K` builder defined outside the registry.
    func testNoScriptSpellsAKey() throws {
        let rules = [
            (#"\bP\b"#, "uses the prefix P"),
            (#"\bKEYS\s*\["#, "reads KEYS"),
            (#"\bfunction\s+K\.|\bK\.\w+\s*="#, "defines a K builder"),
            (#"\bK\.\w+\([^()]*\)\s*\.\."#, "appends to a K key"),
        ]
        var problems: [String] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: Self.scripts.path).sorted() where file.hasSuffix(".lua") {
            let text = try String(contentsOf: Self.scripts.appendingPathComponent(file), encoding: .utf8)
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = line.range(of: "--").map { String(line[..<$0.lowerBound]) } ?? String(line)
                for (rule, what) in rules where code.range(of: rule, options: .regularExpression) != nil {
                    problems.append("\(file):\(n + 1) \(what): \(line)")
                }
            }
        }
        XCTAssertEqual(problems, [])
    }

    /// Swift code names keys only through `RedisKeys`: no `prefix + "…"`, no literal with the text
    /// of a registered pattern (with or without `sb:`).
    func testNoSwiftFileSpellsAKey() throws {
        var rules: [(String, String)] = [
            (#"prefix\s*\+\s*""#, "prefix + literal"),
            (#"\\\(\s*(self\.)?prefix\s*\)"#, "prefix interpolated"),
            (#""sb:[^"\s]"#, "a literal key"),
        ]
        for key in RedisKey.allCases {
            guard case .literal(let lead)? = key.segments.first else { continue }
            // A literal such as "outbox" alone is ordinary text; one with a `:` or a tag is a key.
            let optionalPrefix = lead.contains(":") || lead.contains("{") ? "(sb:)?" : "sb:"
            rules.append(("\"" + optionalPrefix + NSRegularExpression.escapedPattern(for: lead) + #"["\\]"#, "spells \(key)"))
        }
        let dirs = ["Sources/SwitchboardRedis", "Sources/SwitchboardServer", "Sources/switchboard", "Bench/LoadGen",
                    "Tests/SwitchboardRedisTests", "Tests/ServerTests"]
        let exempt: Set = ["RedisKeys.swift", "RedisKeysTests.swift"]
        var problems: [String] = []
        var scanned = 0
        for dir in dirs {
            let base = Self.root.appendingPathComponent(dir)
            guard let walker = FileManager.default.enumerator(atPath: base.path) else { continue }
            for case let path as String in walker where path.hasSuffix(".swift") && !exempt.contains((path as NSString).lastPathComponent) {
                scanned += 1
                let text = try String(contentsOf: base.appendingPathComponent(path), encoding: .utf8)
                for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                    let trimmed = line.drop { $0 == " " }
                    if trimmed.hasPrefix("//") { continue }
                    if let (_, what) = rules.first(where: { line.range(of: $0.0, options: .regularExpression) != nil }) {
                        problems.append("\(dir)/\(path):\(n + 1) \(what): \(trimmed)")
                    }
                }
            }
        }
        XCTAssertGreaterThan(scanned, 50, "the scan found the sources")
        XCTAssertEqual(problems, [])
    }

    /// docs/architecture.md §5.5 lists every registered key with its type.
    func testArchitectureListsEveryKey() throws {
        let notes = try String(contentsOf: Self.root.appendingPathComponent("docs/architecture.md"), encoding: .utf8)
        let section = try XCTUnwrap(notes.components(separatedBy: "\n### ").first { $0.hasPrefix("5.5 ") })
        let rows = section.split(separator: "\n").filter { $0.hasPrefix("| `") }
        XCTAssertEqual(rows.count, RedisKey.allCases.count, "one row per key")
        for key in RedisKey.allCases {
            let cell = "| `sb:\(key.definition.pattern)` | \(key.definition.type) |"
            XCTAssertTrue(rows.contains { $0.hasPrefix(cell) }, "no row starting \(cell)")
        }
    }
}
