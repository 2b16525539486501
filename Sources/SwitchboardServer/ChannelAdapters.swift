import SMSChannel
import SwitchboardCore
import WebChatChannel

/// Builds one adapter per configured channel. A channel kind without an adapter in this build
/// is a configuration error at start, never a silent 404 at 2 a.m.
enum ChannelAdapters {
    static func make(_ channels: [ChannelConfig]) throws -> [String: any ChannelAdapter] {
        var out: [String: any ChannelAdapter] = [:]
        for channel in channels {
            switch channel.kind {
            case .sms: out[channel.id] = try SMSAdapter(config: channel)
            case .webchat: out[channel.id] = try WebChatAdapter(config: channel)
            default:
                throw ServerError.startFailed("channels[\(channel.id)]: kind '\(channel.kind.rawValue)' is not supported by this build yet")
            }
        }
        return out
    }
}
