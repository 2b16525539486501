import SwitchboardCore

/// The names of the Redis keys Swift code writes directly (DESIGN §8), in one place. The scripts'
/// own keys are named by `K` in `Scripts/_a_base.lua`; both take the same prefix.
public struct RedisKeys: Sendable {
    public let prefix: String

    public init(prefix: String) {
        self.prefix = prefix
    }

    /// hash: one conversation (the scripts' `K.conv`).
    public func conversation(_ id: String) -> String { prefix + "conv:{" + id + "}" }

    /// string: set while a contact is opted out of proactive messages on a channel (DESIGN §14;
    /// WeChat `unsubscribe`, SMS `TD`). Value: when (ms).
    public func optOut(channel: String, identity: Identity) -> String {
        prefix + "optout:" + channel + ":" + identity.kind.rawValue + ":" + identity.address
    }

    /// string, PX: the shared access token of one provider account (`CredentialSource.cacheKey`),
    /// kept until it expires (DESIGN §10.1 "Credentials").
    public func credential(_ cacheKey: String) -> String { prefix + "cred:" + cacheKey }
    /// string, PX: held by the one node refreshing that token.
    public func credentialLock(_ cacheKey: String) -> String { prefix + "cred:" + cacheKey + ":lock" }

    /// hash: one provider media item fetched for a conversation (DESIGN §10.8): `conv`, `mime`,
    /// `name`, `size`, `data` (the bytes), kept for the conversation's retention.
    public func media(channel: String, mediaId: String) -> String { prefix + "media:" + channel + ":" + mediaId }

    /// string: where the next pull of one source starts (WeCom `sync_msg` cursor per `open_kfid`).
    public func pullCursor(channel: String, source: String) -> String { prefix + "pull:" + channel + ":" + source + ":cursor" }
    /// string, PX: held by the one node pulling that source.
    public func pullLock(channel: String, source: String) -> String { prefix + "pull:" + channel + ":" + source + ":lock" }
    /// string, EX: a trigger that has not been pulled yet (its token), so a trigger that arrives
    /// while another node pulls is not lost: that node pulls again before it lets go.
    public func pullPending(channel: String, source: String) -> String { prefix + "pull:" + channel + ":" + source + ":pending" }
}
