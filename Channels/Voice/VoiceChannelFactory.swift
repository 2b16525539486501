import SwitchboardCore

/// Builds the adapter of a `voice` channel (listed in the executable's `ChannelCatalog`).
public struct VoiceChannelFactory: ChannelFactory {
    public init() {}
    public var kind: ChannelKind { .voice }

    public func make(_ config: ChannelConfig, environment: ChannelEnvironment) throws(ChannelConfigurationError) -> any ChannelAdapter {
        try VoiceAdapter(config: config, environment: environment)
    }
}
