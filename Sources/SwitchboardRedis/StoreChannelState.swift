import SwitchboardCore

/// Per-channel state that is not a conversation: opt-outs, pull cursors and locks, and the shared
/// access tokens (DESIGN §10.1). Plain commands, each atomic on its own; the multi-step flows that
/// use them (`PullRunner`, `CredentialCache` in the server) say why their order is safe.
extension Store {
    /// Marks (`optedOut`) or clears a contact's opt-out of proactive messages on a channel.
    public func setOptOut(channelId: String, identity: Identity, optedOut: Bool, now: Int64,
                          completion: @escaping (Result<Void, StoreError>) -> Void) {
        let key = keys.optOut(channel: channelId, identity: identity)
        command(optedOut ? ["SET", key, String(now)] : ["DEL", key], completion: completion) { _ in () }
    }

    public func isOptedOut(channelId: String, identity: Identity, completion: @escaping (Result<Bool, StoreError>) -> Void) {
        command(["EXISTS", keys.optOut(channel: channelId, identity: identity)], completion: completion) { $0.int.map { $0 == 1 } }
    }

    // MARK: pulls (WeCom sync_msg)

    /// Records a trigger to pull `source` (its token, valid 10 minutes at WeCom): stored before
    /// the provider is answered, so a trigger that arrives while another node pulls is not lost.
    public func recordPullTrigger(channelId: String, source: String, token: String, ttlSeconds: Int,
                                  completion: @escaping (Result<Void, StoreError>) -> Void) {
        command(["SET", keys.pullPending(channel: channelId, source: source), token.isEmpty ? "-" : token, "EX", String(ttlSeconds)],
                completion: completion) { _ in () }
    }

    /// Takes the pending trigger's token (GETDEL), nil when there is none.
    public func takePullTrigger(channelId: String, source: String, completion: @escaping (Result<String?, StoreError>) -> Void) {
        command(["GETDEL", keys.pullPending(channel: channelId, source: source)], completion: completion) { reply in
            if reply == .null { return .some(nil) }
            return reply.string.map { $0 == "-" ? "" : $0 }
        }
    }

    /// Takes the pull lock of `source` for `owner` (SET NX PX): true when this node now pulls it.
    public func acquireLock(_ key: String, owner: String, ttlMs: Int64, completion: @escaping (Result<Bool, StoreError>) -> Void) {
        command(["SET", key, owner, "NX", "PX", String(ttlMs)], completion: completion) { reply in
            reply == .null ? false : (reply.string == "OK" ? true : nil)
        }
    }

    /// Extends a held lock (only while `owner` still holds it); false when it was lost.
    public func renewLock(_ key: String, owner: String, ttlMs: Int64, completion: @escaping (Result<Bool, StoreError>) -> Void) {
        run("lock_renew", now: 0, args: [key, owner, String(ttlMs)], completion: completion) { $0.int.map { $0 == 1 } }
    }

    /// Lets go of a lock only if `owner` holds it (a lock that expired and was taken by another
    /// node is left alone).
    public func releaseLock(_ key: String, owner: String, completion: @escaping (Result<Bool, StoreError>) -> Void) {
        run("delete_if", now: 0, args: [key, owner], completion: completion) { $0.int.map { $0 == 1 } }
    }

    public func pullCursor(channelId: String, source: String, completion: @escaping (Result<String?, StoreError>) -> Void) {
        command(["GET", keys.pullCursor(channel: channelId, source: source)], completion: completion) { reply in
            reply == .null ? .some(nil) : reply.string.map { Optional($0) }
        }
    }

    /// Advances the cursor: called only after every event of the page before it is stored.
    public func setPullCursor(channelId: String, source: String, cursor: String, completion: @escaping (Result<Void, StoreError>) -> Void) {
        command(["SET", keys.pullCursor(channel: channelId, source: source), cursor], completion: completion) { _ in () }
    }

    // MARK: shared access tokens

    /// The cached token and its remaining lifetime in ms (PTTL), or nil when there is none.
    public func credential(_ cacheKey: String, completion: @escaping (Result<(token: String, ttlMs: Int64)?, StoreError>) -> Void) {
        run("credential_get", now: 0, args: [keys.credential(cacheKey)], completion: completion) { reply in
            guard let pair = reply.array, pair.count == 2 else { return reply == .null ? .some(nil) : nil }
            guard let token = pair[0].string, let ttl = pair[1].int else { return .some(nil) }
            return .some((token, ttl))
        }
    }

    public func storeCredential(_ cacheKey: String, token: String, ttlMs: Int64, completion: @escaping (Result<Void, StoreError>) -> Void) {
        command(["SET", keys.credential(cacheKey), token, "PX", String(max(1, ttlMs))], completion: completion) { _ in () }
    }

    /// Drops the cached token only if it is still `token` (the one a provider refused), so two
    /// nodes that both saw it refused cause one refresh, not two.
    public func dropCredential(_ cacheKey: String, ifToken token: String, completion: @escaping (Result<Bool, StoreError>) -> Void) {
        run("delete_if", now: 0, args: [keys.credential(cacheKey), token], completion: completion) { $0.int.map { $0 == 1 } }
    }

    /// One plain command, its reply parsed; Redis errors and a down connection become `StoreError`.
    func command<T>(_ args: [String], completion: @escaping (Result<T, StoreError>) -> Void, parse: @escaping (RedisReply) -> T?) {
        runner.redis.send(args) { result in
            switch result {
            case .failure(let e): completion(.failure(StoreError(e)))
            case .success(.error(let m)): completion(.failure(StoreError(.server(m))))
            case .success(let reply):
                if let value = parse(reply) { completion(.success(value)) } else { completion(.failure(.internal("unexpected reply \(reply)"))) }
            }
        }
    }
}
