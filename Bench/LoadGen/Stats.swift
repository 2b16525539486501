import Foundation
import Glibc
import Histogram
import SwitchboardRedis

/// Process figures from /proc (the broker's CPU and RSS).
enum ProcStats {
    /// utime + stime of `pid` in seconds (/proc/<pid>/stat fields 14 and 15).
    static func cpuSeconds(pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state); utime is field 14 -> index 11, stime 15 -> 12
        guard fields.count > 12, let u = Double(fields[11]), let s = Double(fields[12]) else { return nil }
        return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// VmRSS of `pid` in bytes (/proc/<pid>/status).
    static func rssBytes(pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let digits = line.filter { $0.isNumber }
            return Int(digits).map { $0 * 1024 }
        }
        return nil
    }

    static func fdLimit() -> (soft: Int, hard: Int) {
        var r = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &r)
        return (Int(r.rlim_cur), Int(r.rlim_max))
    }

    /// Raises the soft RLIMIT_NOFILE to the hard limit; returns the new soft limit.
    @discardableResult
    static func raiseFdLimit() -> Int {
        var r = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &r)
        r.rlim_cur = r.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &r)
        return fdLimit().soft
    }
}

/// `INFO commandstats` of a Redis server: calls per command.
struct CommandStats {
    var calls: [String: Int] = [:]
    /// used_cpu_user + used_cpu_sys of the Redis server (INFO cpu).
    var cpuSeconds = 0.0

    static func read(host: String, port: Int) -> CommandStats? {
        guard let c = try? RedisBlockingConnection(host: host, port: port),
              case .success(let reply) = c.command(["INFO", "commandstats"]), let text = reply.string else { return nil }
        var out = CommandStats()
        if case .success(let cpu) = c.command(["INFO", "cpu"]), let cpuText = cpu.string {
            for line in cpuText.split(whereSeparator: { $0.isNewline }) {
                let kv = line.split(separator: ":", maxSplits: 1)
                if kv.count == 2, kv[0] == "used_cpu_user" || kv[0] == "used_cpu_sys" { out.cpuSeconds += Double(kv[1]) ?? 0 }
            }
        }
        for line in text.split(whereSeparator: { $0.isNewline }) where line.hasPrefix("cmdstat_") {
            let name = line.dropFirst("cmdstat_".count).prefix { $0 != ":" }
            guard let r = line.range(of: "calls=") else { continue }
            let n = Int(line[r.upperBound...].prefix { $0.isNumber }) ?? 0
            out.calls[String(name)] = n
        }
        return out
    }

    func delta(since before: CommandStats) -> CommandStats {
        var d = CommandStats()
        d.cpuSeconds = cpuSeconds - before.cpuSeconds
        for (k, v) in calls {
            let x = v - (before.calls[k] ?? 0)
            if x > 0 { d.calls[k] = x }
        }
        return d
    }

    var total: Int { calls.values.reduce(0, +) }
    var scripts: Int { (calls["fcall"] ?? 0) + (calls["evalsha"] ?? 0) + (calls["eval"] ?? 0) }
}

/// Latency histogram in nanoseconds (HdrHistogram, 3 significant digits, up to 60 s).
struct Latency {
    var h = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)

    mutating func record(ns: UInt64) {
        _ = h.record(min(ns, 60_000_000_000))
    }

    var count: UInt64 { h.totalCount }
    func ms(_ p: Double) -> Double { Double(h.valueAtPercentile(p)) / 1e6 }
    var maxMs: Double { Double(h.max) / 1e6 }

    var summary: String {
        guard count > 0 else { return "n=0" }
        return String(format: "n=%llu p50=%.2fms p99=%.2fms p99.9=%.2fms max=%.2fms", count, ms(50), ms(99), ms(99.9), maxMs)
    }

    func json(_ name: String) -> [String: Any] {
        guard count > 0 else { return ["\(name)_n": 0] }
        return ["\(name)_n": count, "\(name)_p50_ms": ms(50), "\(name)_p99_ms": ms(99), "\(name)_p999_ms": ms(99.9), "\(name)_max_ms": maxMs]
    }
}

/// One result: printed as a human line and as `RESULT {json}` for Bench/run.sh.
func emitResult(_ fields: [String: Any], human: String) {
    print(human)
    if let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]),
       let s = String(data: data, encoding: .utf8) {
        print("RESULT " + s)
    }
    fflush(nil)
}
