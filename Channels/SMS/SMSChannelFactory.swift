import SwitchboardCore

/// Builds the adapter of an `sms` channel (listed in the executable's `ChannelCatalog`).
public struct SMSChannelFactory: ChannelFactory {
    public init() {}
    public var kind: ChannelKind { .sms }

    public func make(_ config: ChannelConfig, environment: ChannelEnvironment) throws(ChannelConfigurationError) -> any ChannelAdapter {
        try SMSAdapter(config: config)
    }
}
