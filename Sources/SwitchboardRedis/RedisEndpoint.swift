import Foundation

/// Where a Redis server listens: parsed from `redis.url` (`redis://host:port[/db]`,
/// `unix:///path/to.sock`) or the managed child's unix socket.
public enum RedisEndpoint: Sendable, Equatable, CustomStringConvertible {
    case tcp(host: String, port: Int, db: Int)
    case unix(path: String, db: Int)

    public init?(url: String) {
        if url.hasPrefix("unix://") {
            let rest = String(url.dropFirst("unix://".count))
            let (path, db) = Self.splitDB(rest, separator: "?db=")
            guard path.hasPrefix("/") else { return nil }
            self = .unix(path: path, db: db ?? 0)
            return
        }
        guard url.hasPrefix("redis://") else { return nil }
        var rest = Substring(url.dropFirst("redis://".count))
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }  // credentials: not supported by hiredis 0.14 connect; AUTH is not configured
        var db = 0
        if let slash = rest.firstIndex(of: "/") {
            db = Int(rest[rest.index(after: slash)...]) ?? 0
            rest = rest[..<slash]
        }
        var host = String(rest)
        var port = 6379
        if rest.hasPrefix("[") , let close = rest.firstIndex(of: "]") {
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { guard let p = Int(after.dropFirst()) else { return nil }; port = p }
        } else if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            guard let p = Int(rest[rest.index(after: colon)...]) else { return nil }
            port = p
        }
        guard !host.isEmpty, (1...65535).contains(port) else { return nil }
        self = .tcp(host: host, port: port, db: db)
    }

    private static func splitDB(_ s: String, separator: String) -> (String, Int?) {
        guard let r = s.range(of: separator) else { return (s, nil) }
        return (String(s[..<r.lowerBound]), Int(s[r.upperBound...]))
    }

    public var db: Int {
        switch self {
        case .tcp(_, _, let db), .unix(_, let db): return db
        }
    }

    public var description: String {
        switch self {
        case .tcp(let h, let p, let db): return "redis://\(h):\(p)/\(db)"
        case .unix(let path, let db): return "unix://\(path)?db=\(db)"
        }
    }
}
