/// A channel configuration an adapter cannot work with, naming the channel and the setting key so
/// the operator can fix the one config file (DESIGN §2: "validation that names the bad key").
/// Shared by every channel adapter's initializer.
public struct ChannelConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var channelId: String
    /// The key as written in the channel's config: `auth_token`, `public_url`, `outbound.from`, …
    public var key: String
    public var problem: String
    /// The channel's place in the file (`channels[2]`), filled in by `ChannelCatalog`.
    public var channelPath: String?

    public init(channelId: String, key: String, problem: String, channelPath: String? = nil) {
        self.channelId = channelId
        self.key = key
        self.problem = problem
        self.channelPath = channelPath
    }

    public static func missing(_ channelId: String, _ key: String, because reason: String) -> ChannelConfigurationError {
        ChannelConfigurationError(channelId: channelId, key: key, problem: "is required \(reason)")
    }

    /// `channels[2].app_secret: is required … (channel 'wx-main')` when the place is known, as
    /// the Core loader words its own errors; else by channel id.
    public var description: String {
        guard let channelPath else { return "channel '\(channelId)': setting '\(key)' \(problem)" }
        return "\(channelPath).\(key): \(problem) (channel '\(channelId)')"
    }
}
