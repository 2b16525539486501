import Foundation
import Logging
import SwitchboardCore
import SwitchboardLoop
import SwitchboardRedis

/// Delivers outbound messages from the `sb:outbox` consumer group (DESIGN §11, §10.1 "Outbound").
///
/// - Reads new entries as consumer `<node id>` whenever kicked (after a local send) and on a short
///   poll, so replies queued by other nodes' agents are picked up too.
/// - Each entry is rendered by its channel's adapter (with the channel's shared access token when
///   it has one) into a `Delivery`, and its request made by the one HTTP transport. The adapter
///   interprets each answer: `next` makes the following request of the same attempt (upload, then
///   send); `refreshCredentials` replaces the token and renders again, once per attempt;
///   `sent`, `retry` and `failed` go back through `Store.completeDelivery` (ack; exponential
///   backoff, then dead letter after `max_attempts`; dead letter with the agent's hint). Each
///   outcome reaches the agent as a `delivery` event.
/// - Delayed retries are promoted back into the stream every second; entries left pending by a
///   dead node are claimed after `claim_min_idle` (XAUTOCLAIM).
/// - At most `maxInFlight` deliveries run at once, so a slow gateway cannot exhaust sockets.
///
/// Loop thread only.
final class OutboxWorker {
    private let store: Store
    private let http: HTTPTransport
    private let credentials: CredentialCache
    private let adapters: [String: any ChannelAdapter]
    private let settings: OutboxSettings
    private let nodeId: String
    private let metrics: BrokerMetrics
    private let logger: Logger
    private unowned let readiness: ReadinessProbe
    private let clock: () -> Int64
    private var pollTimer: RepeatingLoopTimer?
    private var maintenanceTimer: RepeatingLoopTimer?
    private var kickTimer: LoopTimer?
    private(set) var inFlight = 0
    private var reading = false
    private var stopped = false

    /// Concurrent deliveries per node. A gateway at 2 a.m. that answers in 10 s still leaves
    /// throughput of 3 msgs/s per node; raise with care, providers rate-limit per account.
    static let maxInFlight = 32
    static let pollInterval = 0.5
    /// Requests one attempt may make (`DeliveryOutcome.next`): a 2,048-byte-per-piece WeCom text
    /// of the largest message the console sends needs 9; a loop in an adapter stops here.
    static let maxStepsPerAttempt = 16

    init(store: Store, http: HTTPTransport, credentials: CredentialCache, adapters: [String: any ChannelAdapter],
         settings: OutboxSettings, nodeId: String, metrics: BrokerMetrics, logger: Logger, readiness: ReadinessProbe,
         clock: @escaping () -> Int64) {
        self.store = store
        self.http = http
        self.credentials = credentials
        self.adapters = adapters
        self.settings = settings
        self.nodeId = nodeId
        self.metrics = metrics
        self.logger = logger
        self.readiness = readiness
        self.clock = clock
    }

    func start(context: OpaquePointer) {
        kickTimer = LoopTimer(context: context)
        pollTimer = RepeatingLoopTimer(context: context, interval: Self.pollInterval) { [weak self] in self?.read() }
        maintenanceTimer = RepeatingLoopTimer(context: context, interval: 1) { [weak self] in self?.maintain() }
        pollTimer?.start()
        maintenanceTimer?.start()
    }

    func stop() {
        stopped = true
        pollTimer?.stop()
        maintenanceTimer?.stop()
        kickTimer?.cancel()
    }

    /// Read soon (next loop turn), coalescing kicks from one burst of sends.
    func kick() {
        guard let kickTimer, !kickTimer.isScheduled, !stopped else { return }
        kickTimer.schedule(after: 0) { [weak self] in self?.read() }
    }

    private func read() {
        guard !stopped, !reading, readiness.isReady, inFlight < Self.maxInFlight else { return }
        reading = true
        store.outboxRead(consumer: nodeId, count: Self.maxInFlight - inFlight) { [weak self] result in
            guard let self else { return }
            self.reading = false
            guard case .success(let entries) = result else { return }
            entries.forEach(self.deliver)
            if entries.count == Self.maxInFlight { self.kick() }
        }
    }

    private var claimCountdown = 0

    private func maintain() {
        guard !stopped, readiness.isReady else { return }
        store.promoteDelayed(now: clock()) { [weak self] r in
            if case .success(let n) = r, n > 0 { self?.kick() }
        }
        claimCountdown -= 1
        guard claimCountdown <= 0, inFlight < Self.maxInFlight else { return }
        claimCountdown = 5
        let minIdle = Int64(settings.claimMinIdle * 1000)
        store.outboxClaim(consumer: nodeId, minIdleMs: minIdle, count: Self.maxInFlight - inFlight) { [weak self] result in
            guard let self, case .success(let entries) = result else { return }
            entries.forEach(self.deliver)
        }
    }

    // MARK: one delivery

    /// One attempt at one entry, from token to outcome.
    private struct Attempt {
        let entry: OutboxEntry
        let adapter: any ChannelAdapter
        let message: OutboundMessage
        var credential: String? = nil
        var refreshed = false
        var steps = 0
        var providerId: String? = nil
    }

    private func deliver(_ entry: OutboxEntry) {
        inFlight += 1
        guard let adapter = adapters[entry.channelId] else {
            return complete(entry, .failed(reason: "channel '\(entry.channelId)' is no longer configured"))
        }
        let message: OutboundMessage
        do {
            message = try entry.outboundMessage()
        } catch {
            return complete(entry, .failed(reason: error.message))
        }
        let attempt = Attempt(entry: entry, adapter: adapter, message: message)
        guard let source = adapter.credentials else { return render(attempt) }
        credentials.token(for: source) { [weak self] result in
            self?.withCredential(attempt, result)
        }
    }

    private func withCredential(_ attempt: Attempt, _ result: Result<String, CredentialError>) {
        switch result {
        case .success(let token):
            var next = attempt
            next.credential = token
            render(next)
        case .failure(let e) where e.retryable:
            complete(attempt.entry, .retry(reason: "no access token: \(e.message)"))
        case .failure(let e):
            complete(attempt.entry, .failed(reason: "no access token: \(e.message)", agentHint: "渠道接口凭证无效，请联系管理员检查配置"))
        }
    }

    private func render(_ attempt: Attempt) {
        let delivery: Delivery
        do {
            delivery = try attempt.adapter.render(attempt.message, credential: attempt.credential)
        } catch {
            return complete(attempt.entry, .failed(reason: error.message))
        }
        guard let request = delivery.request else {
            // Socket channels never reach the outbox; if one did, it cannot be delivered here.
            return complete(attempt.entry, .failed(reason: "channel '\(attempt.entry.channelId)' does not deliver through the outbox"))
        }
        perform(request, attempt)
    }

    private func perform(_ request: OutboundHTTPRequest, _ attempt: Attempt) {
        http.perform(request) { [weak self] response in
            guard let self else { return }
            var current = attempt
            current.steps += 1
            let outcome = attempt.adapter.interpret(response, to: request, for: attempt.message, credential: attempt.credential)
            switch outcome {
            case .next(let following, let id):
                current.providerId = id ?? current.providerId
                guard current.steps < Self.maxStepsPerAttempt else {
                    return self.complete(attempt.entry, .failed(reason: "the delivery needed more than \(Self.maxStepsPerAttempt) requests"))
                }
                self.perform(following, current)
            case .refreshCredentials(let reason):
                guard !attempt.refreshed, let source = attempt.adapter.credentials, let refused = attempt.credential else {
                    return self.complete(attempt.entry, .retry(reason: reason))
                }
                self.logger.info("access token refused; refreshing it and retrying once", metadata: [
                    "channel": "\(attempt.entry.channelId)", "reason": "\(reason)",
                ])
                current.refreshed = true
                current.steps = 0
                self.credentials.replace(refused, for: source) { [weak self] result in self?.withCredential(current, result) }
            case .sent(let id):
                self.complete(attempt.entry, .sent(providerId: id ?? current.providerId))
            case .retry, .failed, .gone:
                self.complete(attempt.entry, outcome)
            }
        }
    }

    /// What a `gone` delivery was for is over (a call's caller hung up before the bridge): the
    /// broker ends it (Router.callGone), after the delivery itself is recorded.
    var onGone: ((OutboxEntry) -> Void)?

    private func complete(_ entry: OutboxEntry, _ outcome: DeliveryOutcome) {
        inFlight -= 1
        switch outcome {
        case .sent, .next: metrics.delivery(outcome: "sent")
        case .retry, .refreshCredentials: metrics.delivery(outcome: entry.attempt >= settings.maxAttempts ? "dead" : "retry")
        case .failed, .gone: metrics.delivery(outcome: "failed")
        }
        if case .sent = outcome {} else {
            logger.warning("delivery did not succeed", metadata: [
                "channel": "\(entry.channelId)", "conversation": "\(entry.conversationId)", "attempt": "\(entry.attempt)",
                "outcome": "\(outcome)",
            ])
        }
        store.completeDelivery(entry: entry, outcome: outcome, settings: settings, now: clock()) { [weak self] r in
            switch r {
            case .failure(let e):
                // The entry stays pending in the group; XAUTOCLAIM retries it after claim_min_idle.
                self?.logger.error("recording a delivery outcome failed: \(e.message)")
            case .success(let done):
                if case .gone = outcome, done.result != .missing { self?.onGone?(entry) }
            }
        }
        kick()
    }
}
