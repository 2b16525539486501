/// The six ways a citizen reaches a centre (DESIGN §1, §6). The raw value is the wire and Redis spelling.
public enum ChannelKind: String, Codable, Sendable, CaseIterable, Hashable {
    case webchat, sms, wechat, email, voice, mailbox
}
