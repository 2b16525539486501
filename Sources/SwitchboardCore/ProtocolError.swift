/// A client frame the server could not accept. The connection stays open: the server answers
/// `error{ref,code,message}` and waits for the next frame (DESIGN §9, §11: bad input gets a
/// clear error and changes nothing).
public struct ProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// Not JSON, not an object, or a field missing or invalid.
        case badRequest = "bad_request"
        /// A well-formed frame whose `type` this protocol does not have.
        case unknownType = "unknown_type"
    }

    public var code: Code
    /// Names the field and what was wrong with it: `missing field 'offerId'`.
    public var message: String
    /// The frame's `ref`, when it had a usable one, to echo in the error.
    public var ref: WireRef?

    public init(code: Code, message: String, ref: WireRef? = nil) {
        self.code = code
        self.message = message
        self.ref = ref
    }

    /// The `error` frame that answers the bad frame.
    public var frame: String {
        WireEvent.error(ref: ref, code: code.rawValue, message: message)
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
