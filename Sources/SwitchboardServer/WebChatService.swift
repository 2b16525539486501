import Foundation
import SwitchboardCore
import SwitchboardRedis
import WebChatChannel

/// The web-chat channel's server side (DESIGN §9 visitor WebSocket, §10.7): the visitor token
/// signer, the per-IP limit on new visitor sockets and the periodic queue-position refresh (the
/// visitor's rating goes straight to `Store.rateConversation`). Loop thread only.
final class WebChatService {
    let tokens: VisitorToken
    private let limiter: RateLimiter
    private let sessions: SessionRegistry

    /// `limiter` is the node's one public-endpoint budget, shared with the unsigned webhooks.
    init(tokens: VisitorToken, limiter: RateLimiter, sessions: SessionRegistry) {
        self.tokens = tokens
        self.limiter = limiter
        self.sessions = sessions
    }

    /// Nil to accept a new visitor socket from `remoteAddress`, else the 429 to refuse it with.
    func refusal(remoteAddress: String) -> HTTPResponse? {
        if limiter.allow(remoteAddress, now: Date().timeIntervalSince1970) { return nil }
        return HTTPResponse(status: 429, contentType: "application/json; charset=utf-8",
                            body: Array(JSONText.errorBody(code: "rate_limited", message: "too many connections from \(remoteAddress)").utf8),
                            headers: [("retry-after", String(limiter.retryAfter(remoteAddress)))])
    }

    /// Sends each waiting visitor its queue position when it changed (every 3 s).
    func refreshQueuePositions() {
        for session in sessions.allVisitors.values where session.waitingInQueue {
            session.refreshQueuePosition()
        }
    }
}
