/// A decoded Redis reply (RESP2, as hiredis 0.14 delivers it). Copied out of hiredis' reply
/// object before the callback returns, because hiredis frees the reply afterwards.
public enum RedisReply: Sendable, Equatable {
    case status(String)
    case error(String)
    case integer(Int64)
    case bulk([UInt8])
    case null
    case array([RedisReply])

    /// Bulk or status text as a String (invalid UTF-8 is repaired), nil otherwise.
    public var string: String? {
        switch self {
        case .bulk(let b): return String(decoding: b, as: UTF8.self)
        case .status(let s): return s
        default: return nil
        }
    }

    public var int: Int64? {
        switch self {
        case .integer(let i): return i
        case .bulk, .status: return string.flatMap { Int64($0) }
        default: return nil
        }
    }

    public var array: [RedisReply]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var isError: Bool {
        if case .error = self { return true }
        return false
    }

    public var errorMessage: String? {
        if case .error(let e) = self { return e }
        return nil
    }
}

/// Why a Redis command produced no usable reply.
public enum RedisError: Error, Sendable, Equatable {
    /// Not connected, or the connection dropped before the reply came: the caller answers 503.
    case unavailable(String)
    /// Redis answered with an error reply (including script errors raised with `redis.error_reply`).
    case server(String)
    /// The reply had a shape the caller did not expect.
    case protocolViolation(String)

    public var message: String {
        switch self {
        case .unavailable(let m), .server(let m), .protocolViolation(let m): return m
        }
    }
}
