/// One webhook route a channel declares below `/v1/channels/<channelId>/` (DESIGN §10.1 "Routes").
///
/// The server's router matches the sub-path exactly and the method against `methods` before any
/// body is read: an unknown sub-path is 404, a method not listed is 405 with `Allow`. The body
/// limit applies while reading (413 as soon as it is passed, or at once from `Content-Length`).
/// Middleware runs in this order: rate limit (unsigned routes only, per remote IP: DESIGN §11),
/// body limit, `receive` (on the worker pool when `heavy`), storing, the answer, metrics.
public struct ChannelRoute: Sendable, Equatable {
    /// The sub-path without a leading slash, e.g. `wechat` or `twilio/status`.
    public var subpath: String
    /// Upper-case HTTP methods, e.g. `["GET", "POST"]` for WeChat's URL check plus its callbacks.
    public var methods: [String]
    /// Whether every request is cryptographically signed. Unsigned routes (a shared URL token at
    /// most) are public endpoints and pass the per-IP rate limit first.
    public var signed: Bool
    /// The largest body accepted, in bytes; nil: the server's `limits.max_body_bytes`.
    public var maxBodyBytes: Int?
    /// `receive` is CPU-heavy (MIME): the server runs it on the worker pool and continues on the
    /// loop with the result (DESIGN §4).
    public var heavy: Bool

    public init(_ subpath: String, methods: [String] = ["POST"], signed: Bool = true, maxBodyBytes: Int? = nil, heavy: Bool = false) {
        self.subpath = subpath
        self.methods = methods
        self.signed = signed
        self.maxBodyBytes = maxBodyBytes
        self.heavy = heavy
    }
}
