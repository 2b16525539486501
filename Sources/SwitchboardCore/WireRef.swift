/// The client's correlation id on an agent or visitor frame: a string or a number, echoed back
/// unchanged in the `ack` or `error` that answers the frame (DESIGN §9).
public enum WireRef: Sendable, Hashable {
    case string(String)
    case integer(Int64)
    /// A non-integral number, which some clients use for refs (`Date.now() + Math.random()`).
    case number(Double)

    /// The ref as JSON, ready to splice into a frame.
    public var json: String {
        switch self {
        case .string(let s): return JSONString.quote(s)
        case .integer(let i): return String(i)
        case .number(let d): return JSONFragment.number(d).json
        }
    }
}
