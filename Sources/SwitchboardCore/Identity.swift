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
    /// `+8613812345678` → `+86****5678`: at most a quarter shown at the head and a third at the
    /// tail, so a mainland mobile number never shows its middle digits; short addresses keep only
    /// their last two characters.
    public var masked: String {
        let chars = Array(address)
        guard chars.count > 6 else { return String(repeating: "*", count: max(0, chars.count - 2)) + String(chars.suffix(2)) }
        let keepHead = min(4, chars.count / 4)
        let keepTail = min(4, chars.count / 3)
        return String(chars.prefix(keepHead)) + "****" + String(chars.suffix(keepTail))
    }
}
