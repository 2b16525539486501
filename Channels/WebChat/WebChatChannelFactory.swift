import SwitchboardCore

/// Builds the adapter of a `webchat` channel (listed in the executable's `ChannelCatalog`).
public struct WebChatChannelFactory: ChannelFactory {
    public init() {}
    public var kind: ChannelKind { .webchat }

    public func make(_ config: ChannelConfig, environment: ChannelEnvironment) throws(ChannelConfigurationError) -> any ChannelAdapter {
        try WebChatAdapter(config: config)
    }
}
