/// How one outbound message leaves (DESIGN §10.1 "Outbound"). Each case has exactly one transport
/// in the server; `DeliveryTransport` below is the one table of which channel kind uses which.
public enum Delivery: Sendable, Equatable {
    /// A provider API request (SMS gateways, WeChat `custom/send`, WeCom `send_msg`), made by the
    /// server's HTTP client on the loop.
    case http(OutboundHTTPRequest)
    /// A call-control request (bridge, hang up): the same HTTP transport, counted apart, and never
    /// doubled: its idempotency key is the call and the offer (phone, DESIGN §10.5).
    case action(OutboundHTTPRequest)
    /// The contact is on a socket this broker holds (web chat): the message was pushed when it was
    /// stored, nothing goes through the outbox.
    case socket

    public var request: OutboundHTTPRequest? {
        switch self {
        case .http(let r), .action(let r): return r
        case .socket: return nil
        }
    }
}

/// Which transport carries a channel kind's replies: the one place that says so. The send script
/// gets `outbox` or `socket` from here, and the outbox worker refuses an entry whose adapter
/// renders a socket delivery.
public enum DeliveryTransport: String, Sendable {
    /// Pushed to the visitor's socket when stored.
    case socket
    /// Written to the `sb:outbox` stream and delivered by the outbox worker (at least once).
    case outbox

    public static func of(_ kind: ChannelKind) -> DeliveryTransport {
        switch kind {
        case .webchat: return .socket
        case .sms, .wechat, .email, .voice, .mailbox: return .outbox
        }
    }
}

/// The provider's answer to one outbound request, as the transport got it.
public struct TransportResponse: Sendable, Equatable {
    /// The HTTP status, or 0 when no answer came (connection refused, timeout).
    public var status: Int
    public var body: [UInt8]
    /// Why no answer came, when `status` is 0.
    public var error: String?

    public init(status: Int, body: [UInt8], error: String? = nil) {
        self.status = status
        self.body = body
        self.error = error
    }
}

/// What one attempt of a delivery came to (DESIGN §10.1). The outbox worker acts on it:
public enum DeliveryOutcome: Sendable, Equatable {
    /// Delivered to the provider; its id, if it gave one, links later status callbacks.
    case sent(providerId: String?)
    /// Worth another attempt later (5xx, 429, timeouts, WeChat -1/45009): exponential backoff,
    /// or `after` seconds when the provider said how long, then the dead-letter stream.
    case retry(reason: String, after: Double? = nil)
    /// The access token was refused (WeChat 40001/42001/40014): drop it, fetch a new one, and
    /// repeat this request at once, once. A second refusal is a retry with backoff.
    case refreshCredentials(reason: String)
    /// Retrying cannot help (4xx other than 429, WeChat 45015): straight to the dead-letter
    /// stream. `agentHint` is shown to the agent with the failed delivery, in Chinese, and says
    /// what to do instead ("超出48小时客服消息窗口，可改用短信联系").
    case failed(reason: String, agentHint: String? = nil)
    /// Failed because what it was for no longer exists: a call the caller hung up before the
    /// bridge (Twilio 404/21220). Dead-lettered as `failed`, and the conversation it served ends as
    /// the contact's doing (a call accepted but never connected is an abandon, DESIGN §7).
    case gone(reason: String, agentHint: String? = nil)
    /// This step worked and the delivery continues with another request in the same attempt
    /// (an image upload before the send, the next piece of a long text). `providerId` keeps the
    /// id of the piece sent so far, if any.
    case next(OutboundHTTPRequest, providerId: String? = nil)
}
