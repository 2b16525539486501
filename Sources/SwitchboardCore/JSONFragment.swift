/// A value to place in a server-built frame (`ack` extras and the like). `raw` splices JSON that
/// was encoded elsewhere — a conversation from a Lua script, a stored message — without decoding
/// and re-encoding it (DESIGN §12).
public enum JSONFragment: Sendable, Equatable {
    case string(String)
    case integer(Int64)
    case number(Double)
    case bool(Bool)
    case null
    /// Already-encoded JSON text, written as is. The caller vouches that it is valid JSON.
    case raw(String)

    public var json: String {
        switch self {
        case .string(let s): return JSONString.quote(s)
        case .integer(let i): return String(i)
        case .number(let d):
            // JSON has no NaN or infinity; null is what JSON.stringify writes for them too.
            guard d.isFinite else { return "null" }
            if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
            return "\(d)"
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .raw(let text): return text
        }
    }
}
