import Foundation
import SwitchboardCrypto

/// The Lua scripts shipped in `Scripts/`, as one Redis Functions library (DESIGN §7: every routing
/// decision is one script; docs/architecture.md: Functions instead of EVALSHA).
///
/// The library's chunk declares `KEYS`, `ARGV`, `P`, `NOW` and `CALL` as upvalues, then the key
/// builders `K` generated from the key registry (`RedisKey`, RedisKeys.swift), then every
/// `Scripts/_*.lua` helper file (in name order), then each `Scripts/<name>.lua` as the body of a
/// local function, registered as `<name>_<version>`. Redis runs the chunk once, at `FUNCTION LOAD`;
/// an `FCALL` only sets the five upvalues and runs one script body. Before this, every EVALSHA ran
/// the helper definitions again, which was most of Redis's cost per call (measured with callgrind
/// on redis-server: 229k instructions per `ingest`, see Bench/README.md).
///
/// `version` is a digest of the library text, so nodes of different builds sharing one Redis each
/// call their own functions (a rolling upgrade never runs a script against helpers it was not
/// written with). Old libraries stay loaded until an operator deletes them (`FUNCTION DELETE`).
public struct ScriptLibrary: Sendable {
    /// `switchboard_<version>`.
    public let name: String
    /// The `FUNCTION LOAD` text, starting with its `#!lua name=` shebang.
    public let source: String
    /// Script name (file name without `.lua`) → registered function name.
    public let functions: [String: String]

    /// Loads the bundled scripts. Throws when the resource bundle is missing (a broken install).
    public static func bundled() throws -> ScriptLibrary {
        guard let dir = Bundle.module.url(forResource: "Scripts", withExtension: nil) else {
            throw RedisError.protocolViolation("Lua scripts missing from the SwitchboardRedis resource bundle")
        }
        return try load(directory: dir.path)
    }

    /// Builds the library from `*.lua` in a directory: `_*.lua` are helpers, the rest are scripts.
    public static func load(directory: String) throws -> ScriptLibrary {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".lua") }.sorted()
        func read(_ file: String) throws -> String { try String(contentsOfFile: directory + "/" + file, encoding: .utf8) }
        // CALL is the per-call memo of _a_base.lua: a fresh table on every call, so nothing read
        // from Redis in one call is trusted in the next (another node may have written in between).
        var body = "-- Set by `enter` before every script: the calling convention of _a_base.lua.\n"
            + "local KEYS, ARGV, P, NOW, CALL\n"
            + RedisKey.luaDefinitions
        for file in files where file.hasPrefix("_") {
            body += "-- ==== \(file) ====\n" + (try read(file)) + "\n"
        }
        let scripts = files.filter { !$0.hasPrefix("_") }.map { String($0.dropLast(4)) }
        for name in scripts {
            // A function per script keeps each body's locals and early `return`s its own.
            body += "-- ==== \(name).lua ====\nlocal function script_\(name)()\n" + (try read(name + ".lua")) + "\nend\n"
        }
        let version = String(Digest.sha1Hex(Array(body.utf8)).prefix(12))
        body += """
            local function enter(script)
              return function(keys, args)
                KEYS, ARGV, P, NOW, CALL = keys, args, keys[1], tonumber(args[1]), {}
                return script()
              end
            end

            """
        var functions: [String: String] = [:]
        for name in scripts {
            functions[name] = "\(name)_\(version)"
            body += "redis.register_function('\(name)_\(version)', enter(script_\(name)))\n"
        }
        let name = "switchboard_\(version)"
        return ScriptLibrary(name: name, source: "#!lua name=\(name)\n" + body, functions: functions)
    }
}

/// Runs library scripts with FCALL, loading the library first when Redis does not have it (a new
/// Redis, a `FUNCTION FLUSH`, a failover to a replica that never saw `FUNCTION LOAD`).
///
/// Loop thread only (it holds the connection, which is loop-bound).
public final class ScriptRunner {
    public let redis: RedisCommanding
    public let library: ScriptLibrary

    public init(redis: RedisCommanding, library: ScriptLibrary) {
        self.redis = redis
        self.library = library
    }

    /// `FUNCTION LOAD REPLACE`s the library: called after each (re)connect so the first FCALL hits.
    /// REPLACE because the name carries the content's digest: a library of this name that is
    /// already loaded (by another node of the same build) is this very text.
    public func preload(completion: @escaping (Result<Void, RedisError>) -> Void = { _ in }) {
        redis.send(["FUNCTION", "LOAD", "REPLACE", library.source]) { result in
            completion(Self.unwrap(result).map { _ in () })
        }
    }

    /// Runs `name` with KEYS and ARGV. An error reply from the script comes back as `.server`.
    public func eval(_ name: String, keys: [String], args: [String],
                     completion: @escaping (Result<RedisReply, RedisError>) -> Void) {
        guard let function = library.functions[name] else {
            completion(.failure(.protocolViolation("no such script: \(name)")))
            return
        }
        let call = ["FCALL", function, String(keys.count)] + keys + args
        redis.send(call) { [self] result in
            // Redis 7.0 answers "ERR Function not found" for an unknown FCALL name.
            guard case .success(.error(let message)) = result, message.hasPrefix("ERR Function not found") else {
                completion(Self.unwrap(result))
                return
            }
            preload { [redis] loaded in
                if case .failure(let error) = loaded { completion(.failure(error)); return }
                redis.send(call) { completion(Self.unwrap($0)) }
            }
        }
    }

    static func unwrap(_ result: Result<RedisReply, RedisError>) -> Result<RedisReply, RedisError> {
        if case .success(.error(let message)) = result { return .failure(.server(message)) }
        return result
    }
}
