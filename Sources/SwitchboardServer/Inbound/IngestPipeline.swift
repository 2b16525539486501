import SwitchboardCore
import SwitchboardRedis

/// Stores what channels receive (DESIGN §10.1 "Inbound", §8 hot path): every `InboundEvent` of a
/// webhook, a pulled page or a visitor's socket goes through here, in order.
///
/// - A message is stored in one script call (`Store.ingest`); a new conversation (or a retried
///   duplicate whose conversation is still waiting) is then enqueued, idempotently.
/// - A batch stops at its first failure, so the provider retries it whole: dedup makes that safe.
/// - A `fetch` trigger is recorded in Redis before the batch succeeds, and handed to the pull
///   runner only after the whole batch is stored.
/// - A call report goes to the `CallService` (read, decide, store at the version read).
/// - Completions succeed only once Redis holds everything: the caller may then acknowledge.
///
/// Loop thread only.
final class IngestPipeline {
    private let store: Store
    private let router: Router
    private let metrics: BrokerMetrics
    private let clock: () -> Int64
    private let calls: CallService
    /// Runs the channel's puller for a recorded trigger (set once the pull runner exists).
    var onPullTrigger: ((ChannelConfig, PullTrigger) -> Void)?
    /// A stored message names provider media (`InboundMessage.mediaToFetch`): fetch them.
    var onMedia: ((_ channelId: String, _ conversationId: String, _ mediaIds: [String]) -> Void)?

    /// A WeCom callback `Token` is valid for 10 minutes
    /// (https://kf.weixin.qq.com/api/doc/path/94745: "10分钟内有效").
    static let pullTriggerTTLSeconds = 600

    init(store: Store, router: Router, metrics: BrokerMetrics, calls: CallService, clock: @escaping () -> Int64) {
        self.store = store
        self.router = router
        self.metrics = metrics
        self.calls = calls
        self.clock = clock
    }

    /// Stores an inbound message and, for a new conversation (or a retried duplicate whose
    /// conversation is still waiting), enqueues it.
    func ingest(channel: ChannelConfig, message: InboundMessage, visitorNode: String?,
                completion: @escaping (Result<IngestOutcome, StoreError>) -> Void) {
        let request = IngestRequest(channel: channel, message: message, visitorNode: visitorNode)
        let now = clock()
        store.ingest(request, now: now) { [weak self] result in
            guard let self else { return }
            switch result {
            case .failure(let e):
                completion(.failure(e))
            case .success(let outcome):
                if !outcome.duplicate { self.metrics.inbound(channel: channel.id) }
                if !message.mediaToFetch.isEmpty, !outcome.duplicate {
                    self.onMedia?(channel.id, outcome.conversationId, message.mediaToFetch)
                }
                // Enqueue is idempotent, so a retried webhook whose first attempt stored the message
                // but failed before enqueueing still gets its conversation routed.
                guard outcome.created || (outcome.duplicate && outcome.status == .queued) else {
                    completion(.success(outcome))
                    return
                }
                self.router.enqueue(conversationId: outcome.conversationId, front: false, now: now) { r in
                    switch r {
                    case .success: completion(.success(outcome))
                    case .failure(let e): completion(.failure(e))
                    }
                }
            }
        }
    }

    /// Stores `events` one after another (order matters for a batch from one sender) and gives one
    /// outcome per event.
    func store(_ events: [InboundEvent], channel: ChannelConfig, completion: @escaping (Result<[EventOutcome], StoreError>) -> Void) {
        // The hot path (DESIGN §8): one message, no chain of continuations to build (callgrind:
        // ~3k instructions a webhook for the general path).
        if events.count == 1, case .message(let message) = events[0] {
            return ingest(channel: channel, message: message, visitorNode: nil) { result in
                completion(result.map { [.message(conversationId: $0.conversationId, messageId: $0.messageId, created: $0.created,
                                                  duplicate: $0.duplicate, status: $0.status)] })
            }
        }
        storeNext(events[...], channel: channel, done: []) { [weak self] result in
            if case .success = result {
                for case .fetch(let trigger) in events { self?.onPullTrigger?(channel, trigger) }
            }
            completion(result)
        }
    }

    private func storeNext(_ events: ArraySlice<InboundEvent>, channel: ChannelConfig, done: [EventOutcome],
                           completion: @escaping (Result<[EventOutcome], StoreError>) -> Void) {
        guard let first = events.first else { return completion(.success(done)) }
        let next: (Result<EventOutcome, StoreError>) -> Void = { [weak self] r in
            switch r {
            case .success(let outcome): self?.storeNext(events.dropFirst(), channel: channel, done: done + [outcome], completion: completion)
            case .failure(let e): completion(.failure(e))
            }
        }
        switch first {
        case .message(let message):
            ingest(channel: channel, message: message, visitorNode: nil) { result in
                next(result.map { .message(conversationId: $0.conversationId, messageId: $0.messageId, created: $0.created,
                                           duplicate: $0.duplicate, status: $0.status) })
            }
        case .deliveryStatus(let report):
            store.providerStatus(channelId: channel.id, providerId: report.externalId, status: report.status, error: report.error,
                                 now: clock()) { result in
                next(result.map { $0.found ? .stored : .ignored("no message with provider id \(report.externalId)") })
            }
        case .subscription(let identity, let subscribed):
            store.setOptOut(channelId: channel.id, identity: identity, optedOut: !subscribed, now: clock()) { result in
                next(result.map { .stored })
            }
        case .call(let event, let policy):
            calls.apply(event, policy: policy, channel: channel, completion: next)
        case .fetch(let trigger):
            store.recordPullTrigger(channelId: channel.id, source: trigger.source, token: trigger.token ?? "",
                                    ttlSeconds: Self.pullTriggerTTLSeconds) { result in
                next(result.map { .stored })
            }
        }
    }
}
