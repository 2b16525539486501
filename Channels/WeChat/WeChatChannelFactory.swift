import SwitchboardCore

/// Builds the adapter of a `wechat` channel: `provider: official_account` (公众号) or
/// `wecom_kf` (微信客服). Listed in the executable's `ChannelCatalog`.
public struct WeChatChannelFactory: ChannelFactory {
    public init() {}
    public var kind: ChannelKind { .wechat }

    public func make(_ config: ChannelConfig, environment: ChannelEnvironment) throws(ChannelConfigurationError) -> any ChannelAdapter {
        let settings = try WeChatSettings(config, environment: environment)
        switch settings.provider {
        case .officialAccount: return OfficialAccountAdapter(settings: settings)
        case .wecomKf: return WeComKfAdapter(settings: settings)
        }
    }
}
