/// A channel configuration an adapter cannot work with, naming the channel and the setting key so
/// the operator can fix the one config file (DESIGN §2: "validation that names the bad key").
/// Shared by every channel adapter's initializer.
public struct ChannelConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var channelId: String
    /// The key as written in the channel's config: `auth_token`, `public_url`, `outbound.from`, …
    public var key: String
    public var problem: String

    public init(channelId: String, key: String, problem: String) {
        self.channelId = channelId
        self.key = key
        self.problem = problem
    }

    public static func missing(_ channelId: String, _ key: String, because reason: String) -> ChannelConfigurationError {
        ChannelConfigurationError(channelId: channelId, key: key, problem: "is required \(reason)")
    }

    public var description: String {
        "channel '\(channelId)': setting '\(key)' \(problem)"
    }
}
