/// One configured channel instance: how its provider's requests become events, and how a message
/// leaves through it (DESIGN §10.1, the channel seam v2; `docs/architecture.md` "The channel seam").
///
/// Semantics every adapter keeps:
/// - **Pure.** No I/O, no clock, no randomness: the same request gives the same batch, the same
///   message the same delivery. The server stamps times, supplies random bytes where a protocol
///   needs them (`AnswerContext`), stores, and makes every request.
/// - **Routes are declared, not matched by hand.** `routes` lists every sub-path below
///   `/v1/channels/<channelId>/` with its methods, body limit and whether it is signed; the server
///   answers 404/405/413 for anything else before `receive` is called.
/// - **Verification first.** `receive` checks the provider's signature before it interprets
///   anything else and throws `ChannelError.badSignature` (403) when it does not match.
/// - **Nothing is acknowledged here.** The batch's `answer` is turned into the HTTP response only
///   after every event of the batch is in Redis, from what storing did (`EventOutcome`).
/// - **Thread.** `receive` runs on the loop thread, or on the worker pool for a route marked
///   `heavy` (MIME); `render` and `interpret` run on the loop thread. Implementations are immutable
///   values (`Sendable`), so either is safe.
public protocol ChannelAdapter: Sendable {
    /// The configured channel instance this adapter serves.
    var channelId: String { get }
    var kind: ChannelKind { get }

    /// Every webhook route of this channel. Empty for a channel with no webhook (web chat).
    var routes: [ChannelRoute] { get }

    /// Parses and verifies one request to one of `routes` (the server has matched the route and
    /// applied its body limit).
    func receive(_ request: HTTPRequest) throws(ChannelError) -> InboundBatch

    /// How `outbound` leaves: a provider request, or the socket the broker holds. `credential` is
    /// the current access token when `credentials` is set (nil otherwise). Throws when the message
    /// cannot be rendered (no text, no outbound settings): the entry fails without a request.
    func render(_ outbound: OutboundMessage, credential: String?) throws(ChannelError) -> Delivery

    /// What the provider's answer to `request` (made for `outbound`) means: sent, retry, refresh
    /// the credential and retry once, failed with a hint for the agent, or the next request of a
    /// multi-step delivery (upload then send, a long text in pieces).
    func interpret(_ response: TransportResponse, to request: OutboundHTTPRequest, for outbound: OutboundMessage,
                   credential: String?) -> DeliveryOutcome

    /// The access token this channel's API calls need, shared by all nodes through Redis
    /// (`CredentialCache` in the server). Nil: the API needs none (SMS uses Basic auth).
    var credentials: (any CredentialSource)? { get }

    /// Messages a provider makes the broker pull (WeCom `sync_msg`) after an `InboundEvent.fetch`.
    /// Nil: every message arrives in the webhook itself.
    var puller: (any ChannelPuller)? { get }

    /// Fetches media the provider keeps by id (WeChat `media/get`). Nil: media arrive as URLs.
    var media: (any MediaSource)? { get }
}

extension ChannelAdapter {
    public var credentials: (any CredentialSource)? { nil }
    public var puller: (any ChannelPuller)? { nil }
    public var media: (any MediaSource)? { nil }

    /// The route `request` addresses, if this channel declares one.
    public func route(for subpath: String) -> ChannelRoute? {
        routes.first { $0.subpath == subpath }
    }
}
