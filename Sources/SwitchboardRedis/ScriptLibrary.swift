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

    /// Loads `*.lua` from a directory, prefixing each with the `_*.lua` preludes.
    public static func load(directory: String) throws -> ScriptLibrary {
        let fm = FileManager.default
        let files = try fm.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".lua") }.sorted()
        let common = try files.filter { $0.hasPrefix("_") }.map { file in
            "-- ==== \(file) ====\n" + (try String(contentsOfFile: directory + "/" + file, encoding: .utf8))
        }.joined(separator: "\n")
        var scripts: [String: LuaScript] = [:]
        for file in files where !file.hasPrefix("_") {
            let name = String(file.dropLast(4))
            let body = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
            let source = common.isEmpty ? body : common + "\n-- ==== \(file) ====\n" + body
            scripts[name] = LuaScript(name: name, source: source, sha1: Digest.sha1Hex(Array(source.utf8)))
        }
        return ScriptLibrary(scripts: scripts)
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
