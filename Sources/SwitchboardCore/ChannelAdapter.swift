/// A channel adapter turns a provider's webhook into normalized events and an outbound message
/// into the provider's request (DESIGN §10).
///
/// Semantics:
/// - **Pure.** No I/O, no clock, no randomness: the same request gives the same batch. The server
///   stamps times and does the storing.
/// - **Verification first.** `receive` checks the provider's signature before it parses anything
///   else and throws `ChannelError.badSignature` when it does not match.
/// - **Nothing is acknowledged here.** The batch carries the provider's expected synchronous
///   response, but the server sends it only after every event of the batch is in Redis.
/// - **Thread.** Called on the loop thread; implementations are immutable values (`Sendable`).
public protocol ChannelAdapter: Sendable {
    /// The configured channel instance this adapter serves.
    var channelId: String { get }
    var kind: ChannelKind { get }

    /// Parses and verifies one webhook request addressed to `/v1/channels/<channelId>/<subpath>`.
    func receive(_ request: HTTPRequest) throws(ChannelError) -> InboundBatch

    /// The provider request that delivers `outbound`, or `nil` when this channel delivers over a
    /// socket the broker holds (web chat). Throws when the message cannot be rendered (no text).
    func render(_ outbound: OutboundMessage) throws(ChannelError) -> OutboundHTTPRequest?

    /// Interprets the provider's answer to a rendered request: a provider message id on success,
    /// or whether the failure is worth retrying.
    func interpretDeliveryResponse(status: Int, body: [UInt8]) -> DeliveryOutcome

    /// Whether every webhook this adapter accepts is cryptographically signed. Unsigned ones
    /// (a shared token at most) are public endpoints and get the per-IP rate limit (DESIGN §11).
    var webhooksAreSigned: Bool { get }
}

extension ChannelAdapter {
    public var webhooksAreSigned: Bool { true }
}

/// What a webhook turned into: events to store, and the answer the provider expects once stored.
public struct InboundBatch: Sendable {
    public var events: [InboundEvent]
    public var response: HTTPResponse

    public init(events: [InboundEvent], response: HTTPResponse) {
        self.events = events
        self.response = response
    }
}

public enum InboundEvent: Sendable, Equatable {
    /// A contact wrote something.
    case message(InboundMessage)
    /// A provider reports the fate of an outbound message, by the provider's id for it.
    case deliveryStatus(DeliveryStatusReport)
}

public struct InboundMessage: Sendable, Equatable {
    public var from: Identity
    public var displayName: String?
    /// The provider's id, or a digest of sender+time+text where the provider has none.
    public var externalId: String
    public var parts: [MessagePart]
    /// Our own address the contact wrote to (the gateway number), if the provider says.
    public var to: String?

    public init(from: Identity, displayName: String? = nil, externalId: String, parts: [MessagePart], to: String? = nil) {
        self.from = from
        self.displayName = displayName
        self.externalId = externalId
        self.parts = parts
        self.to = to
    }
}

public struct DeliveryStatusReport: Sendable, Equatable {
    public var externalId: String
    public var status: DeliveryStatus
    public var error: String?

    public init(externalId: String, status: DeliveryStatus, error: String? = nil) {
        self.externalId = externalId
        self.status = status
        self.error = error
    }
}

/// A message an agent or bot sends to a contact, as the outbox holds it.
public struct OutboundMessage: Sendable, Equatable {
    public var conversationId: String
    public var messageId: String
    /// The contact's address on this channel (E.164 number, openid, …).
    public var to: String
    public var parts: [MessagePart]
    /// Stable across retries of the same delivery, for providers that honour idempotency keys.
    public var idempotencyKey: String

    public init(conversationId: String, messageId: String, to: String, parts: [MessagePart], idempotencyKey: String) {
        self.conversationId = conversationId
        self.messageId = messageId
        self.to = to
        self.parts = parts
        self.idempotencyKey = idempotencyKey
    }
}

public enum DeliveryOutcome: Sendable, Equatable {
    case sent(providerId: String?)
    /// Worth another attempt later (5xx, 429, timeouts).
    case retry(reason: String)
    /// Retrying cannot help (4xx other than 429): straight to the dead-letter stream.
    case failed(reason: String)
}

/// Why a webhook was refused. Each maps to the status DESIGN §9 names.
public enum ChannelError: Error, Sendable, Equatable {
    case badSignature(String)          // 403
    case unknownRoute(String)          // 404
    case unsupportedMediaType(String)  // 415
    case malformed(String)             // 400
    case unrenderable(String)          // outbound only

    public var httpStatus: Int {
        switch self {
        case .badSignature: return 403
        case .unknownRoute: return 404
        case .unsupportedMediaType: return 415
        case .malformed, .unrenderable: return 400
        }
    }

    public var code: String {
        switch self {
        case .badSignature: return "bad_signature"
        case .unknownRoute: return "not_found"
        case .unsupportedMediaType: return "unsupported_media_type"
        case .malformed: return "bad_request"
        case .unrenderable: return "unrenderable"
        }
    }

    public var message: String {
        switch self {
        case .badSignature(let m), .unknownRoute(let m), .unsupportedMediaType(let m), .malformed(let m), .unrenderable(let m):
            return m
        }
    }
}
