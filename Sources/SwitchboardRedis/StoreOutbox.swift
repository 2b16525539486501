import SwitchboardCore

/// Outbound delivery through the `sb:outbox` stream and its consumer group (DESIGN §11):
/// read → render and send (the delivery worker, outside this type) → `completeDelivery`; failed
/// attempts wait in `sb:outbox:delayed` until `promoteDelayed`; entries of a dead node are taken
/// over with `outboxClaim`.
extension Store {
    /// Creates the consumer group (and the stream) if missing; an existing group is fine.
    ///
    /// The group starts at `0`, not `$`: completed entries are deleted from the stream, so anything
    /// already in it when the group is created is undelivered (a reply sent before the first node
    /// finished starting) and must be delivered, not skipped.
    public func ensureOutboxGroup(completion: @escaping (Result<Void, StoreError>) -> Void) {
        runner.redis.send(["XGROUP", "CREATE", keys.outbox, Store.outboxGroup, "0", "MKSTREAM"]) { result in
            switch result {
            case .failure(let error): completion(.failure(StoreError(error)))
            case .success(.error(let message)) where message.hasPrefix("BUSYGROUP"): completion(.success(()))
            case .success(.error(let message)): completion(.failure(StoreError(.server(message))))
            case .success: completion(.success(()))
            }
        }
    }

    /// New entries for this consumer, at most `count`, without blocking (XREADGROUP … `>`): the
    /// loop never blocks, so the caller polls on a timer and after each `send`.
    public func outboxRead(consumer: String, count: Int,
                           completion: @escaping (Result<[OutboxEntry], StoreError>) -> Void) {
        let args = ["XREADGROUP", "GROUP", Store.outboxGroup, consumer, "COUNT", String(max(1, count)),
                    "STREAMS", keys.outbox, ">"]
        stream(args, completion: completion) { reply in
            // nil: nothing new. Else [[stream, [[id, fields], …]]].
            if reply == .null { return [] }
            guard let streams = reply.array else { return nil }
            return streams.compactMap { $0.array?.count == 2 ? $0.array?[1].array : nil }.flatMap { $0 }
        }
    }

    /// Takes over entries pending for longer than `minIdleMs` in any consumer — a node that died
    /// mid-delivery (XAUTOCLAIM, DESIGN §11). `minIdleMs` must exceed the delivery timeout, or a
    /// slow but live node's entries are sent twice.
    public func outboxClaim(consumer: String, minIdleMs: Int64, count: Int,
                            completion: @escaping (Result<[OutboxEntry], StoreError>) -> Void) {
        let args = ["XAUTOCLAIM", keys.outbox, Store.outboxGroup, consumer, String(max(0, minIdleMs)), "0-0",
                    "COUNT", String(max(1, count))]
        stream(args, completion: completion) { reply in
            // [next cursor, [[id, fields], …], [deleted ids]] (Redis 7).
            guard let parts = reply.array, parts.count >= 2 else { return nil }
            return parts[1].array
        }
    }

    /// Records the outcome of one delivery attempt (Scripts/outbox_complete.lua). For a retry,
    /// `backoffMs` is the wait before the next attempt, normally
    /// `OutboxBackoff.delayMs(afterAttempt: entry.attempt, settings:)`; after `maxAttempts` tries a
    /// retry is dead-lettered instead.
    public func completeDelivery(entry: OutboxEntry, outcome: DeliveryOutcome, maxAttempts: Int, backoffMs: Int64,
                                 now: Int64, completion: @escaping (Result<OutboxCompletion, StoreError>) -> Void) {
        var kind: String, providerId = "", error = "", hint = "", wait = backoffMs
        switch outcome {
        case .sent(let id), .next(_, let id): (kind, providerId) = ("sent", id ?? "")
        case .retry(let reason, let after):
            (kind, error) = ("retry", reason)
            // A provider that says how long to wait is believed, within the backoff's ceiling order.
            if let after, after > 0 { wait = max(wait, Int64(after * 1000)) }
        case .refreshCredentials(let reason): (kind, error) = ("retry", reason)
        case .failed(let reason, let agentHint): (kind, error, hint) = ("failed", reason, agentHint ?? "")
        case .gone(let reason, let agentHint): (kind, error, hint) = ("gone", reason, agentHint ?? "")
        }
        let args = [entry.id, kind, providerId, error, String(maxAttempts), String(wait), hint]
        run("outbox_complete", now: now, args: args, completion: completion) { reply in
            guard let r = StoreReply(reply, count: 3), let result = OutboxCompletion.Result(rawValue: r.string(0)) else {
                return nil
            }
            let retryAt = r.int(2)
            return OutboxCompletion(result: result, messageStatus: DeliveryStatus(rawValue: r.string(1)),
                                    retryAt: retryAt > 0 ? retryAt : nil)
        }
    }

    /// `completeDelivery` with the attempt limit and backoff taken from the outbox settings.
    public func completeDelivery(entry: OutboxEntry, outcome: DeliveryOutcome, settings: OutboxSettings, now: Int64,
                                 completion: @escaping (Result<OutboxCompletion, StoreError>) -> Void) {
        completeDelivery(entry: entry, outcome: outcome, maxAttempts: settings.maxAttempts,
                         backoffMs: OutboxBackoff.delayMs(afterAttempt: entry.attempt, settings: settings),
                         now: now, completion: completion)
    }

    /// Moves retries that are due back into the outbox (Scripts/outbox_promote.lua). Succeeds with
    /// how many moved; at most `limit` per call.
    public func promoteDelayed(now: Int64, limit: Int = 100, completion: @escaping (Result<Int, StoreError>) -> Void) {
        run("outbox_promote", now: now, args: [String(limit)], completion: completion) { $0.int.map { Int($0) } }
    }

    /// A provider's delivery callback for a message we sent, by the provider's message id
    /// (Scripts/provider_status.lua). The status only moves forward (DESIGN §10).
    public func providerStatus(channelId: String, providerId: String, status: DeliveryStatus, error: String?,
                               now: Int64, completion: @escaping (Result<ProviderStatusOutcome, StoreError>) -> Void) {
        let args = [channelId, providerId, status.rawValue, error ?? ""]
        run("provider_status", now: now, args: args, completion: completion) { reply in
            guard let r = StoreReply(reply, count: 5) else { return nil }
            return ProviderStatusOutcome(found: r.bool(0), changed: r.bool(1), status: DeliveryStatus(rawValue: r.string(2)),
                                         conversationId: r.nonEmpty(3), messageId: r.nonEmpty(4))
        }
    }

    // MARK: - Stream replies

    /// Runs a stream command whose reply holds `[id, [field, value, …]]` entries, picked out by
    /// `entries`, and turns them into `OutboxEntry` values.
    private func stream(_ args: [String], completion: @escaping (Result<[OutboxEntry], StoreError>) -> Void,
                        entries: @escaping (RedisReply) -> [RedisReply]?) {
        runner.redis.send(args) { result in
            switch result {
            case .failure(let error):
                completion(.failure(StoreError(error)))
            case .success(.error(let message)):
                completion(.failure(StoreError(.server(message))))
            case .success(let reply):
                guard let list = entries(reply) else {
                    completion(.failure(.internal("\(args[0]): unexpected reply \(reply)")))
                    return
                }
                completion(.success(list.compactMap(Store.outboxEntry)))
            }
        }
    }

    /// One `[id, [field, value, …]]` stream entry. An entry deleted while pending has no fields
    /// and is skipped. Missing fields read as empty, so a damaged entry still reaches the worker,
    /// fails to render and is dead-lettered rather than claimed for ever.
    static func outboxEntry(_ reply: RedisReply) -> OutboxEntry? {
        guard let pair = reply.array, pair.count == 2, let id = pair[0].string, let flat = pair[1].array else {
            return nil
        }
        var fields: [String: String] = [:]
        var i = 0
        while i + 1 < flat.count {
            if let key = flat[i].string { fields[key] = flat[i + 1].string ?? "" }
            i += 2
        }
        return OutboxEntry(id: id, conversationId: fields["conv"] ?? "", messageId: fields["msg"] ?? "",
                           channelId: fields["channel"] ?? "", to: fields["to"] ?? "",
                           attempt: Int(fields["attempt"] ?? "") ?? 1, idempotencyKey: fields["idem"] ?? "",
                           enqueuedAt: Int64(fields["enqueuedAt"] ?? "") ?? 0, messageJSON: fields["m"] ?? "",
                           kind: fields["kind"] ?? "", subject: fields["subject"] ?? "", replyFrom: fields["from"] ?? "",
                           callId: fields["call"] ?? "")
    }
}
