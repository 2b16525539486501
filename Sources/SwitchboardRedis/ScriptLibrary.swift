import Foundation
import SwitchboardCrypto

/// One routing or store script, ready for EVALSHA.
public struct LuaScript: Sendable {
    public let name: String
    public let source: String
    public let sha1: String
}

/// The Lua scripts shipped in `Scripts/` (DESIGN §7: every routing decision is one script).
///
/// Each `Scripts/<name>.lua` is prefixed with every `Scripts/_*.lua` (in name order), so shared
/// helpers (keys, event emission, dispatch) have one definition while every script stays a single
/// EVALSHA.
public struct ScriptLibrary: Sendable {
    public let scripts: [String: LuaScript]

    public init(scripts: [String: LuaScript]) {
        self.scripts = scripts
    }

    /// Loads the bundled scripts. Throws when the resource bundle is missing (a broken install).
    public static func bundled() throws -> ScriptLibrary {
        guard let dir = Bundle.module.url(forResource: "Scripts", withExtension: nil) else {
            throw RedisError.protocolViolation("Lua scripts missing from the SwitchboardRedis resource bundle")
        }
        return try load(directory: dir.path)
    }

    /// Loads `*.lua` from a directory, prefixing each with the `_*.lua` preludes it uses.
    ///
    /// A prelude whose first line is `--! only-for: X` (the routing helpers fill table `R`, the
    /// store helpers `Store`) is prepended only to scripts that mention `X.`; the others go to
    /// every script. Redis runs the whole chunk on every EVALSHA, prelude included, so defining
    /// helpers a script never calls was most of the Lua cost of the hot path (measured: the full
    /// 29 KB prelude alone, `return 1` after it, took 29 µs a call against 3 µs for `return 1`).
    public static func load(directory: String) throws -> ScriptLibrary {
        let fm = FileManager.default
        let files = try fm.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".lua") }.sorted()
        let preludes: [(owner: String?, text: String)] = try files.filter { $0.hasPrefix("_") }.map { file in
            let text = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
            return (onlyFor(text), "-- ==== \(file) ====\n" + text)
        }
        var scripts: [String: LuaScript] = [:]
        for file in files where !file.hasPrefix("_") {
            let name = String(file.dropLast(4))
            let body = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
            let common = preludes.filter { $0.owner.map { mentions(body, table: $0) } ?? true }.map(\.text).joined(separator: "\n")
            let source = common.isEmpty ? body : common + "\n-- ==== \(file) ====\n" + body
            scripts[name] = LuaScript(name: name, source: source, sha1: Digest.sha1Hex(Array(source.utf8)))
        }
        return ScriptLibrary(scripts: scripts)
    }

    /// `X` from a first line `--! only-for: X`, else nil.
    static func onlyFor(_ prelude: String) -> String? {
        let first = prelude.prefix { $0 != "\n" }
        guard first.hasPrefix("--! only-for:") else { return nil }
        let owner = first.dropFirst("--! only-for:".count).drop { $0 == " " }.prefix { $0 != " " }
        return owner.isEmpty ? nil : String(owner)
    }

    /// Whether `body` uses `table.` as an identifier of its own (not the tail of a longer name).
    static func mentions(_ body: String, table: String) -> Bool {
        let text = Array(body.utf8)
        let needle = Array((table + ".").utf8)
        guard text.count >= needle.count else { return false }
        func isIdentifier(_ c: UInt8) -> Bool {
            (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95
        }
        var i = 0
        while i <= text.count - needle.count {
            if text[i] == needle[0], i == 0 || !isIdentifier(text[i - 1]), Array(text[i..<(i + needle.count)]) == needle { return true }
            i += 1
        }
        return false
    }
}

/// Runs library scripts with EVALSHA, falling back to EVAL on `NOSCRIPT` (after a Redis restart
/// or failover the script cache is empty; EVAL both runs and re-caches the script).
///
/// Loop thread only (it holds the connection, which is loop-bound).
public final class ScriptRunner {
    public let redis: RedisCommanding
    public let library: ScriptLibrary

    public init(redis: RedisCommanding, library: ScriptLibrary) {
        self.redis = redis
        self.library = library
    }

    /// `SCRIPT LOAD`s every script: called after each (re)connect so the first EVALSHA hits.
    public func preload(completion: @escaping (Result<Void, RedisError>) -> Void = { _ in }) {
        let all = Array(library.scripts.values)
        guard !all.isEmpty else { completion(.success(())); return }
        var remaining = all.count
        var firstError: RedisError?
        for script in all {
            redis.send(["SCRIPT", "LOAD", script.source]) { result in
                switch result {
                case .success(let r) where r.isError: firstError = firstError ?? .server(r.errorMessage ?? "")
                case .failure(let e): firstError = firstError ?? e
                default: break
                }
                remaining -= 1
                if remaining == 0 { completion(firstError.map { .failure($0) } ?? .success(())) }
            }
        }
    }

    /// Runs `name` with KEYS and ARGV. An error reply from the script comes back as `.server`.
    public func eval(_ name: String, keys: [String], args: [String],
                     completion: @escaping (Result<RedisReply, RedisError>) -> Void) {
        guard let script = library.scripts[name] else {
            completion(.failure(.protocolViolation("no such script: \(name)")))
            return
        }
        let tail = [String(keys.count)] + keys + args
        redis.send(["EVALSHA", script.sha1] + tail) { [redis] result in
            switch result {
            case .success(.error(let message)) where message.hasPrefix("NOSCRIPT"):
                redis.send(["EVAL", script.source] + tail) { retry in
                    completion(Self.unwrap(retry))
                }
            default:
                completion(Self.unwrap(result))
            }
        }
    }

    static func unwrap(_ result: Result<RedisReply, RedisError>) -> Result<RedisReply, RedisError> {
        if case .success(.error(let message)) = result { return .failure(.server(message)) }
        return result
    }
}
