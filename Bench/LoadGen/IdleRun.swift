import Foundation
import Glibc
import SwitchboardLoop

/// S4: N idle WebSockets held open — web visitors that said `hello` (and got `ready`) plus K
/// authenticated agent consoles — and the broker's RSS per connection:
/// (VmRSS with every socket open − VmRSS before the first) / sockets.
///
/// Connections come from source addresses 127.0.0.2, 127.0.0.3, … (`--source-ips`), each with its
/// own ephemeral port range, so more than ~28k sockets can reach one server port. At most
/// `--inflight` handshakes run at once. The count is capped below both processes' open-file limits
/// (RLIMIT_NOFILE), and the report says when that cap, not the target, decided N.
/// Loop thread only.
final class IdleRun: WSOwner {
    let loop: Loop
    let host: String
    let port: Int
    let label: String
    let target: Int
    let agentsCount: Int
    let sources: Int
    let inflightMax: Int
    let serverPid: Int32?
    private var visitors = 0
    private var clients: [WSClient] = []
    private var started = 0, ready = 0, failures = 0, closedEarly = 0
    private var failureReasons: [String: Int] = [:]
    private var limitNote = ""
    private var done = false
    private var t0 = monoNs()
    private var lastProgress = monoNs()

    init(loop: Loop, options o: Options) {
        self.loop = loop
        (host, port) = o.endpoint("server", "127.0.0.1:8080")
        label = o.string("label", "idle")
        target = o.int("connections", 10_000)
        agentsCount = o.int("agents", 0)
        sources = max(1, o.int("source-ips", 8))
        inflightMax = o.int("inflight", 256)
        serverPid = o.optional("server-pid").flatMap { Int32($0) }
    }

    /// The open-files limit of another process, from /proc/<pid>/limits.
    static func fdLimit(pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("Max open files") {
            let cols = line.split(separator: " ", omittingEmptySubsequences: true)
            if cols.count >= 4 { return Int(cols[3]) }
        }
        return nil
    }

    func run() -> Int32 {
        let own = ProcStats.raiseFdLimit()
        var n = target
        var notes: [String] = []
        if n + 64 > own {
            n = own - 64
            notes.append("LoadGen RLIMIT_NOFILE \(own)")
        }
        if let serverPid, let lim = Self.fdLimit(pid: serverPid), n + 128 > lim {
            n = min(n, lim - 128)
            notes.append("broker RLIMIT_NOFILE \(lim)")
        }
        limitNote = notes.isEmpty ? "" : "capped at \(n) by " + notes.joined(separator: ", ") + " (hard limits; raising them needs CAP_SYS_RESOURCE)"
        let agents = min(agentsCount, n)
        visitors = n - agents
        let rss0 = serverPid.flatMap { ProcStats.rssBytes(pid: $0) }
        for i in 0..<n {
            let c = WSClient(index: i, owner: self)
            c.agent = i < agents ? i : -1
            clients.append(c)
        }
        if !limitNote.isEmpty { log("\(label): \(limitNote)") }
        log("\(label): opening \(visitors) visitor and \(agents) agent sockets from \(sources) source addresses")
        t0 = monoNs()
        lastProgress = t0
        let ticker = RepeatingLoopTimer(context: loop.context, interval: 0.002) { [weak self] in self?.startMore() }
        ticker.start()
        startMore()
        loop.run {
            let now = monoNs()
            if ready + failures + closedEarly >= clients.count { return true }
            if now - lastProgress > 20_000_000_000 { return true }
            return false
        }
        ticker.stop()
        let elapsed = Double(monoNs() - t0) / 1e9
        // Let the broker settle (pending Redis replies, allocator) before reading its RSS.
        let settle = monoNs()
        loop.run { monoNs() - settle > 2_000_000_000 }
        let rss1 = serverPid.flatMap { ProcStats.rssBytes(pid: $0) }
        let still = clients.filter { $0.state == .open }.count
        var fields: [String: Any] = [
            "label": label, "target": target, "attempted": clients.count, "visitors": visitors, "agents": agents,
            "ready": ready, "open": still, "failures": failures, "closed_early": closedEarly, "connect_s": elapsed,
            "limit_note": limitNote, "source_ips": sources,
        ]
        var extra = ""
        if let rss0, let rss1, still > 0 {
            let per = Double(rss1 - rss0) / Double(still)
            fields["rss_before_bytes"] = rss0
            fields["rss_after_bytes"] = rss1
            fields["rss_per_conn_bytes"] = per
            extra = String(format: "; broker RSS %.1f → %.1f MiB = %.2f KB per connection", Double(rss0) / 1048576, Double(rss1) / 1048576, per / 1024)
        }
        if let rssSelf = ProcStats.rssBytes(pid: getpid()) { fields["loadgen_rss_bytes"] = rssSelf }
        let failed = ready == 0 || still < ready
        fields["failed"] = failed
        let reasons = failureReasons.isEmpty ? "" : " failures: \(failureReasons)"
        let human = String(format: "%@: %d of %d sockets open (%d visitors ready, %d agents welcomed) in %.1f s%@%@%@",
                           label, still, target, visitors, agents, elapsed, extra, limitNote.isEmpty ? "" : "; " + limitNote, reasons)
        emitResult(fields, human: human + (failed ? "\n\(label): FAILED" : ""))
        return failed ? 1 : 0
    }

    private func startMore() {
        while started < clients.count && started - ready - failures - closedEarly < inflightMax {
            let c = clients[started]
            started += 1
            let ok = c.connect(loop: loop, host: host, port: port, path: c.agent >= 0 ? "/v1/agent" : "/v1/visitor",
                               protocolName: c.agent >= 0 ? Loop.agentProtocol : Loop.visitorProtocol,
                               sourceAddress: sourceAddress(c.index, count: sources))
            if !ok { failures += 1; failureReasons["connect refused locally", default: 0] += 1 }
        }
    }

    func opened(_ c: WSClient) {
        c.sendGreeting()
    }

    func received(_ c: WSClient, _ frame: UnsafeRawBufferPointer) {
        if Scan.has(frame, Keys.typeReady) || Scan.has(frame, Keys.typeWelcome) {
            ready += 1
            lastProgress = monoNs()
        }
    }

    func failed(_ c: WSClient, _ reason: String) {
        failures += 1
        failureReasons[String(reason.prefix(60)), default: 0] += 1
        lastProgress = monoNs()
    }

    func closed(_ c: WSClient) {
        closedEarly += 1
        failureReasons["closed by server", default: 0] += 1
    }
}
