/// One way to reach a contact: a phone number in E.164, a WeChat openid, an email address,
/// a web visitor id or a mailbox submitter (DESIGN §6). `(kind, address)` is the identity index key.
public struct Identity: Codable, Sendable, Hashable {
    public var kind: ChannelKind
    public var address: String

    public init(kind: ChannelKind, address: String) {
        self.kind = kind
        self.address = address
    }

    /// The address with the middle masked, for logs (DESIGN §11: never a full phone number in a log).
    /// `+8613812345678` → `+861****5678`; short addresses keep only their last two characters.
    public var masked: String {
        let chars = Array(address)
        guard chars.count > 6 else { return String(repeating: "*", count: max(0, chars.count - 2)) + String(chars.suffix(2)) }
        let keepHead = min(4, chars.count / 3)
        let keepTail = 4
        return String(chars.prefix(keepHead)) + "****" + String(chars.suffix(keepTail))
    }
}
