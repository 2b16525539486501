import Foundation

/// `--name value` options (and bare `--flag`s).
struct Options {
    private var values: [String: String] = [:]
    let command: String

    init(_ args: [String]) {
        command = args.first ?? "help"
        var i = 1
        while i < args.count {
            let a = args[i]
            guard a.hasPrefix("--") else { i += 1; continue }
            let key = String(a.dropFirst(2))
            if i + 1 < args.count, !args[i + 1].hasPrefix("--") {
                values[key] = args[i + 1]
                i += 2
            } else {
                values[key] = "true"
                i += 1
            }
        }
    }

    func string(_ k: String, _ d: String) -> String { values[k] ?? d }
    func optional(_ k: String) -> String? { values[k] }
    func int(_ k: String, _ d: Int) -> Int { values[k].flatMap { Int($0) } ?? d }
    func double(_ k: String, _ d: Double) -> Double { values[k].flatMap { Double($0) } ?? d }
    func flag(_ k: String) -> Bool { values[k] == "true" }

    /// `host:port` pair.
    func endpoint(_ k: String, _ d: String) -> (String, Int) {
        let s = string(k, d)
        let host = String(s.prefix { $0 != ":" })
        let port = Int(s.split(separator: ":").last ?? "") ?? 0
        return (host, port)
    }
}

/// Source addresses for client sockets: 127.0.0.2, 127.0.0.3, … (each gets its own ephemeral
/// port range towards the one server address, which is how a single host opens more than ~28k
/// connections to one ip:port). nil when `count` is 0: the kernel picks 127.0.0.1.
func sourceAddress(_ i: Int, count: Int) -> String? {
    guard count > 0 else { return nil }
    let n = 2 + i % count
    return "127.0.\(n / 256).\(n % 256 == 0 ? 1 : n % 256)"
}
