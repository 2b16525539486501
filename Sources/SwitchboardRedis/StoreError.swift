import Foundation

/// What a Store or Router call can fail with, in terms a client error can be built from.
///
/// Scripts raise coded errors (`redis.error_reply("forbidden …")`, see `Scripts/_a_base.lua`);
/// `init(_:)` maps them. Anything uncoded is `.internal`.
public enum StoreError: Error, Sendable, Equatable {
    /// Redis is down or the connection dropped: answer 503 / `error{code:"unavailable"}`.
    case unavailable(String)
    case notFound(String)
    case forbidden(String)
    case conflict(String)
    case badRequest(String)
    case `internal`(String)

    public init(_ error: RedisError) {
        switch error {
        case .unavailable(let m): self = .unavailable(m)
        case .protocolViolation(let m): self = .internal(m)
        case .server(let raw):
            // Script errors arrive as "<code> <message>" possibly wrapped by Redis as
            // "ERR <code> <message> script: …" or with a "user_script:N:" location prefix.
            var text = Substring(raw)
            if text.hasPrefix("ERR ") { text = text.dropFirst(4) }
            // Redis 7 appends the script location ("… script: <sha>, on @user_script:12.");
            // clients get the script's own message only.
            if let r = text.range(of: " script: ") { text = text[..<r.lowerBound] }
            let code = text.prefix { $0 != " " }
            let message = String(text.dropFirst(code.count).drop { $0 == " " })
            switch code {
            case "not_found": self = .notFound(message)
            case "forbidden": self = .forbidden(message)
            case "conflict": self = .conflict(message)
            case "bad_request": self = .badRequest(message)
            default: self = .internal(raw)
            }
        }
    }

    /// The wire error code (DESIGN §9).
    public var code: String {
        switch self {
        case .unavailable: return "unavailable"
        case .notFound: return "not_found"
        case .forbidden: return "forbidden"
        case .conflict: return "conflict"
        case .badRequest: return "bad_request"
        case .internal: return "internal"
        }
    }

    public var message: String {
        switch self {
        case .unavailable(let m), .notFound(let m), .forbidden(let m), .conflict(let m), .badRequest(let m), .internal(let m):
            return m
        }
    }

    public var httpStatus: Int {
        switch self {
        case .unavailable: return 503
        case .notFound: return 404
        case .forbidden: return 403
        case .conflict: return 409
        case .badRequest: return 400
        case .internal: return 500
        }
    }
}
