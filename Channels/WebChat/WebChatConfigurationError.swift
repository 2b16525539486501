/// A channel configuration the web-chat adapter cannot serve, naming the key.
public struct WebChatConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var channelId: String
    public var key: String
    public var problem: String

    public init(channelId: String, key: String, problem: String) {
        self.channelId = channelId
        self.key = key
        self.problem = problem
    }

    public var description: String {
        "channel '\(channelId)': setting '\(key)' \(problem)"
    }
}
