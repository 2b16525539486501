import SwitchboardCore

/// The web-chat channel's `ChannelAdapter` (DESIGN §10, "Web chat"). Web chat has no provider:
/// visitors arrive over the visitor WebSocket (`/v1/visitor`, DESIGN §9) and replies go back on
/// that socket, so the webhook and HTTP-delivery halves of the seam are deliberately empty: it
/// declares no route (the server answers 404 before `receive`), and `render` answers `.socket`
/// (`DeliveryTransport.of(.webchat)`: the message was pushed to the visitor when it was stored).
public struct WebChatAdapter: ChannelAdapter {
    public let channelId: String
    public var kind: ChannelKind { .webchat }
    public var routes: [ChannelRoute] { [] }

    public init(config: ChannelConfig) throws(ChannelConfigurationError) {
        guard config.kind == .webchat else {
            throw ChannelConfigurationError(channelId: config.id, key: "kind",
                                            problem: "must be 'webchat' for the web-chat adapter, not '\(config.kind.rawValue)'")
        }
        channelId = config.id
    }

    public func receive(_ request: HTTPRequest) throws(ChannelError) -> InboundBatch {
        throw .unknownRoute("channel '\(channelId)' is web chat: visitors connect over the /v1/visitor WebSocket, it has no webhook '\(request.subpath)'")
    }

    public func render(_ outbound: OutboundMessage, credential: String?) throws(ChannelError) -> Delivery {
        .socket
    }

    /// Never reached, since `render` makes no request; a failure rather than a retry, so a
    /// wiring mistake surfaces in the dead-letter stream instead of looping.
    public func interpret(_ response: TransportResponse, to request: OutboundHTTPRequest, for outbound: OutboundMessage,
                          credential: String?) -> DeliveryOutcome {
        .failed(reason: "web chat is delivered over the visitor WebSocket, not HTTP")
    }
}
