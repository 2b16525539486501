/// An access token a channel's API needs, and how to get one (DESIGN §10.1 "Credentials").
///
/// The server's credential cache keeps one token per `cacheKey` in Redis with its expiry, so every
/// node uses the same token; one node at a time refreshes it (a `SET NX` lock), 5 minutes before
/// it expires or when a delivery answered `refreshCredentials`. Pure, like the adapter.
public protocol CredentialSource: Sendable {
    /// Identifies the account across channels and nodes (two channels on one WeChat app share a
    /// token): e.g. `wechat:<appid>`, `wecom:<corpid>:<agent secret digest>`.
    var cacheKey: String { get }
    /// The request that issues a token. `force` asks for a new one even while the old one is
    /// valid (WeChat `stable_token` with `force_refresh`), after the API refused it.
    func tokenRequest(force: Bool) -> OutboundHTTPRequest
    /// The token and its lifetime from the issuer's answer, or why there is none.
    func parseToken(_ response: TransportResponse) -> Result<IssuedCredential, CredentialError>
}

public struct IssuedCredential: Sendable, Equatable {
    public var token: String
    public var expiresInSeconds: Int

    public init(token: String, expiresInSeconds: Int) {
        self.token = token
        self.expiresInSeconds = expiresInSeconds
    }
}

/// Why no token could be had; `retryable` says whether asking again later may help (a 5xx, a
/// busy answer) or not (a wrong secret, which an operator must fix).
public struct CredentialError: Error, Sendable, Equatable {
    public var message: String
    public var retryable: Bool

    public init(_ message: String, retryable: Bool) {
        self.message = message
        self.retryable = retryable
    }
}
