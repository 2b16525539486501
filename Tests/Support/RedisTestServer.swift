import Foundation
import XCTest
import SwitchboardRedis

/// A throwaway `redis-server` on a free loopback port for one test case (DESIGN §13, tier 2).
/// Persistence is off: these tests check script semantics, not durability.
public final class RedisTestServer {
    public let port: Int
    private let process: Process

    public init() throws {
        port = try Self.freePort()
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.redisServerPath())
        process.arguments = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--daemonize", "no", "--loglevel", "warning"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Poll until it answers PING: readiness, not timing (at most ~5 s, then fail loudly).
        for _ in 0..<500 {
            if let c = try? RedisBlockingConnection(host: "127.0.0.1", port: port),
               case .success(.status("PONG")) = c.command(["PING"]) {
                return
            }
            usleep(10_000)
        }
        process.terminate()
        throw RedisError.unavailable("redis-server did not start on port \(port)")
    }

    deinit { stop() }

    public func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    public func connect() throws -> RedisBlockingConnection {
        try RedisBlockingConnection(host: "127.0.0.1", port: port)
    }

    public static func redisServerPath() -> String {
        for p in ["/usr/bin/redis-server", "/usr/local/bin/redis-server"] where FileManager.default.isExecutableFile(atPath: p) {
            return p
        }
        return "redis-server"
    }

    /// Binds port 0 and reads back the port the kernel chose.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RedisError.unavailable("socket() failed") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sp in
                bind(fd, sp, len) == 0 && getsockname(fd, sp, &len) == 0
            }
        }
        guard ok else { throw RedisError.unavailable("bind() failed") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
