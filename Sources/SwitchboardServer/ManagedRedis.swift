import Foundation
import Synchronization
import SwitchboardRedis

/// The embedded default (DESIGN §2): with no `redis.url`, `switchboard serve` starts and owns a
/// `redis-server` child on a unix socket under `data_dir`, with AOF on and `appendfsync always`
/// (DESIGN §11: nothing acknowledged is lost), and stops it on shutdown.
///
/// If the child dies (OOM killer, `kill -9`), the broker restarts it from its AOF: see
/// `Broker.superviseManagedRedis`. `start` blocks (up to 10 s), so after the loop is running it is
/// called on a worker thread; the current process handle is guarded by a lock, hence
/// `@unchecked Sendable`.
public final class ManagedRedis: @unchecked Sendable {
    public let dataDir: String
    public let socketPath: String
    private let current = Mutex<Process?>(nil)
    private let executable: String
    private let appendfsync: String

    public init(dataDir: String, executable: String, appendfsync: String) {
        let absolute = URL(fileURLWithPath: dataDir).standardizedFileURL.path
        self.dataDir = absolute + "/redis"
        // sun_path is limited to 108 bytes; fall back to a short path if data_dir is deep.
        let candidate = self.dataDir + "/redis.sock"
        self.socketPath = candidate.utf8.count < 100 ? candidate : "/tmp/switchboard-\(getpid())-redis.sock"
        self.executable = executable
        self.appendfsync = appendfsync
    }

    public var endpoint: RedisEndpoint { .unix(path: socketPath, db: 0) }

    /// Starts redis-server and waits (up to 10 s) until it answers PING.
    public func start() throws {
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        shutDownLeftover()
        try? FileManager.default.removeItem(atPath: socketPath)
        let process = Process()
        current.withLock { $0 = process }
        process.executableURL = URL(fileURLWithPath: Self.resolve(executable))
        process.arguments = [
            "--port", "0",                         // no TCP listener: only the unix socket
            "--unixsocket", socketPath, "--unixsocketperm", "700",
            "--dir", dataDir,
            "--appendonly", "yes", "--appendfsync", appendfsync,
            "--save", "",                          // AOF is the persistence; no RDB snapshots
            "--daemonize", "no", "--loglevel", "warning",
            "--logfile", dataDir + "/redis.log",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw ServerError.startFailed("could not start \(executable): \(error.localizedDescription) — install redis-server or set redis.url")
        }
        for _ in 0..<1000 {
            if !process.isRunning {
                throw ServerError.startFailed("redis-server exited with status \(process.terminationStatus); see \(dataDir)/redis.log")
            }
            if let c = try? RedisBlockingConnection(unixSocket: socketPath), case .success(.status("PONG")) = c.command(["PING"]) {
                return
            }
            usleep(10_000)
        }
        stop()
        throw ServerError.startFailed("redis-server did not answer within 10 s; see \(dataDir)/redis.log")
    }

    public var pid: Int32 { current.withLock { $0?.processIdentifier ?? 0 } }

    /// Whether the child is alive; false before `start` and after it exited.
    public var isRunning: Bool { current.withLock { $0?.isRunning ?? false } }

    /// The exit status of a child that has exited.
    public var terminationStatus: Int32? {
        current.withLock { p in p.flatMap { $0.isRunning ? nil : $0.terminationStatus } }
    }

    /// A broker killed with SIGKILL leaves its redis-server running. Two servers appending to the
    /// same AOF would corrupt it, so a leftover that still answers on our socket is asked to
    /// SHUTDOWN (which fsyncs the AOF) before a new one starts.
    private func shutDownLeftover() {
        guard let leftover = try? RedisBlockingConnection(unixSocket: socketPath),
              case .success(.status("PONG")) = leftover.command(["PING"]) else { return }
        _ = leftover.command(["SHUTDOWN"])
        for _ in 0..<500 {
            if (try? RedisBlockingConnection(unixSocket: socketPath)) == nil { return }
            usleep(10_000)
        }
    }

    /// SIGTERM and wait: redis-server flushes the AOF on a clean shutdown.
    public func stop() {
        guard let process = current.withLock({ $0 }), process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    static func resolve(_ name: String) -> String {
        if name.contains("/") { return name }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") + ["/usr/sbin", "/usr/bin"] {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return "/usr/bin/\(name)"
    }
}
