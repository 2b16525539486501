import SwitchboardCore
import SwitchboardRedis

/// Access tokens shared by every node through Redis (DESIGN §10.1 "Credentials").
///
/// - A token is cached under `RedisKeys.credential(cacheKey)` with the issuer's lifetime (`PX`).
/// - It is refreshed 5 minutes before it expires, by one node at a time: the node that wins the
///   `SET NX PX` lock asks the issuer; the others go on using the old token while it is valid, or,
///   when there is none, wait for the winner (polling Redis every 200 ms, for up to 10 s).
/// - A token a provider refused (`DeliveryOutcome.refreshCredentials`) is dropped only if the cache
///   still holds it (compare-and-delete), so two nodes that saw it refused refresh once.
/// - On one node, concurrent requests for the same account share one lookup.
///
/// Loop thread only; completions run on the loop.
final class CredentialCache {
    /// Refresh this long before expiry (WeChat's docs advise refreshing ahead; 5 minutes is the
    /// design's margin, DESIGN §10.1).
    static let refreshMarginMs: Int64 = 5 * 60 * 1000
    /// How long the refresher may hold the lock: longer than an issuer request can take
    /// (`outbox.request_timeout`, 10 s by default), so a live refresher never loses it.
    static let lockTtlMs: Int64 = 30_000
    static let waitStep = 0.2
    static let maxWaitSteps = 50

    private let store: Store
    private let http: HTTPTransport
    private let owner: String
    private let schedule: (Double, @escaping () -> Void) -> Void
    private var waiting: [String: [(Result<String, CredentialError>) -> Void]] = [:]

    init(store: Store, http: HTTPTransport, nodeId: String, schedule: @escaping (Double, @escaping () -> Void) -> Void) {
        self.store = store
        self.http = http
        self.owner = nodeId
        self.schedule = schedule
    }

    /// The current token for `source`, refreshing it when due.
    func token(for source: any CredentialSource, completion: @escaping (Result<String, CredentialError>) -> Void) {
        let key = source.cacheKey
        if waiting[key] != nil {
            waiting[key]!.append(completion)
            return
        }
        waiting[key] = [completion]
        lookup(source, force: false, attempt: 0)
    }

    /// `refused` was turned down by the provider: forget it (if nobody has replaced it yet) and get
    /// a new one, forcing the issuer past its own cache.
    func replace(_ refused: String, for source: any CredentialSource, completion: @escaping (Result<String, CredentialError>) -> Void) {
        store.dropCredential(source.cacheKey, ifToken: refused) { [weak self] result in
            guard let self else { return }
            if case .failure(let e) = result { return completion(.failure(CredentialError(e.message, retryable: true))) }
            let key = source.cacheKey
            if self.waiting[key] != nil {
                self.waiting[key]!.append(completion)
                return
            }
            self.waiting[key] = [completion]
            // Dropped by us: ours to refresh with force. Replaced by another node already: use theirs.
            self.lookup(source, force: (try? result.get()) == true, attempt: 0)
        }
    }

    private func lookup(_ source: any CredentialSource, force: Bool, attempt: Int) {
        let key = source.cacheKey
        store.credential(key) { [weak self] result in
            guard let self else { return }
            switch result {
            case .failure(let e):
                self.finish(key, .failure(CredentialError("the token cache is unavailable: \(e.message)", retryable: true)))
            case .success(let cached?) where cached.ttlMs > Self.refreshMarginMs:
                self.finish(key, .success(cached.token))
            case .success(let cached):
                self.store.acquireLock(self.store.keys.credentialLock(key), owner: self.owner, ttlMs: Self.lockTtlMs) { [weak self] lock in
                    guard let self else { return }
                    switch lock {
                    case .success(true):
                        self.refresh(source, force: force)
                    case .success(false):
                        // Another node refreshes: its old token is still good for a while; without
                        // one, wait for the new token to appear.
                        if let cached, cached.ttlMs > 0 { return self.finish(key, .success(cached.token)) }
                        guard attempt < Self.maxWaitSteps else {
                            return self.finish(key, .failure(CredentialError("another node is still fetching the access token", retryable: true)))
                        }
                        self.schedule(Self.waitStep) { [weak self] in self?.lookup(source, force: force, attempt: attempt + 1) }
                    case .failure(let e):
                        self.finish(key, .failure(CredentialError("the token cache is unavailable: \(e.message)", retryable: true)))
                    }
                }
            }
        }
    }

    private func refresh(_ source: any CredentialSource, force: Bool) {
        let key = source.cacheKey
        let lock = store.keys.credentialLock(key)
        http.perform(source.tokenRequest(force: force)) { [weak self] response in
            guard let self else { return }
            switch source.parseToken(response) {
            case .failure(let e):
                self.store.releaseLock(lock, owner: self.owner) { _ in }
                self.finish(key, .failure(e))
            case .success(let issued):
                let ttl = Int64(issued.expiresInSeconds) * 1000
                // A token that could not be cached is still good: use it; the next lookup finds
                // none and refreshes again.
                self.store.storeCredential(key, token: issued.token, ttlMs: ttl) { [weak self] _ in
                    guard let self else { return }
                    self.store.releaseLock(lock, owner: self.owner) { _ in }
                    self.finish(key, .success(issued.token))
                }
            }
        }
    }

    private func finish(_ key: String, _ result: Result<String, CredentialError>) {
        let callbacks = waiting.removeValue(forKey: key) ?? []
        callbacks.forEach { $0(result) }
    }
}
