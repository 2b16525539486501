import SwitchboardCore

/// The fields of a Twilio webhook's form body (SMS and Voice alike), looked up one name at a time.
/// A repeated field is refused: Twilio never repeats the ones Switchboard reads, so a repeat means a
/// forged or broken body, and picking one of the values would be a guess.
public struct TwilioForm: Sendable {
    public let pairs: [(String, String)]

    public init(_ pairs: [(String, String)]) { self.pairs = pairs }

    /// The field's value, nil when absent.
    public func single(_ name: String) throws(ChannelError) -> String? {
        var found: String?
        for (key, value) in pairs where key == name {
            if found != nil { throw .malformed("field '\(name)' is repeated") }
            found = value
        }
        return found
    }

    /// The field's value; absent or empty is `missing field`.
    public func required(_ name: String) throws(ChannelError) -> String {
        guard let value = try single(name), !value.isEmpty else { throw .malformed("missing field '\(name)'") }
        return value
    }
}
