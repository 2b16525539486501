import Foundation
import SwitchboardCore
import SwitchboardRedis
import WebChatChannel

/// The web-chat channel's server side (DESIGN §9 visitor WebSocket, §10.7): the visitor token
/// signer, the per-IP limit on new visitor sockets, the periodic queue-position refresh, and the
/// satisfaction rating a visitor gives. Loop thread only.
final class WebChatService {
    let tokens: VisitorToken
    private let limiter: RateLimiter
    private let sessions: SessionRegistry
    private let redis: RedisCommanding
    private let prefix: String
    private let clock: () -> Int64

    /// `limiter` is the node's one public-endpoint budget, shared with the unsigned webhooks.
    init(configuration: Configuration, tokens: VisitorToken, limiter: RateLimiter, sessions: SessionRegistry,
         redis: RedisCommanding, clock: @escaping () -> Int64) {
        self.tokens = tokens
        self.limiter = limiter
        self.sessions = sessions
        self.redis = redis
        self.prefix = configuration.redis.prefix
        self.clock = clock
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

    /// Satisfaction rating from the visitor (DESIGN §1: satisfaction ≥ 80%), kept on the
    /// conversation hash for the statistics. The conversation id comes from the server-side
    /// session binding, never from the visitor, so a plain HSET is safe.
    func recordCSAT(conversationId: String, rating: Int, comment: String?, completion: @escaping (Result<Void, StoreError>) -> Void) {
        let key = prefix + "conv:{" + conversationId + "}"
        redis.send(["HSET", key, "csat", String(rating), "csatComment", comment ?? "", "csatAt", String(clock())]) { result in
            switch result {
            case .success(.error(let m)): completion(.failure(.internal(m)))
            case .success: completion(.success(()))
            case .failure(let e): completion(.failure(StoreError(e)))
            }
        }
    }
}
