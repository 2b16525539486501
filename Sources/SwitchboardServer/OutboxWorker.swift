import Foundation
import SwitchboardCore
import SwitchboardRedis

/// Delivers outbound messages from the `sb:outbox` consumer group (DESIGN §11).
///
/// - Reads new entries as consumer `<node id>` whenever kicked (after a local send) and on a short
///   poll, so replies queued by other nodes' agents are picked up too.
/// - Each entry is rendered by its channel's adapter and POSTed; the outcome goes back through
///   `Store.completeDelivery`: `sent` (ack), `retry` (exponential backoff, then dead letter after
///   `max_attempts`), or `failed`. Each outcome reaches the agent as a `delivery` event.
/// - Delayed retries are promoted back into the stream every second; entries left pending by a
///   dead node are claimed after `claim_min_idle` (XAUTOCLAIM).
/// - At most `maxInFlight` deliveries run at once, so a slow gateway cannot exhaust sockets.
///
/// Loop thread only.
final class OutboxWorker {
    private unowned let broker: Broker
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

    init(broker: Broker) {
        self.broker = broker
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
        guard !stopped, !reading, broker.isReady, inFlight < Self.maxInFlight else { return }
        reading = true
        broker.store.outboxRead(consumer: broker.nodeId, count: Self.maxInFlight - inFlight) { [weak self] result in
            guard let self else { return }
            self.reading = false
            guard case .success(let entries) = result else { return }
            entries.forEach(self.deliver)
            if entries.count == Self.maxInFlight { self.kick() }
        }
    }

    private var claimCountdown = 0

    private func maintain() {
        guard !stopped, broker.isReady else { return }
        broker.store.promoteDelayed(now: broker.now()) { [weak self] r in
            if case .success(let n) = r, n > 0 { self?.kick() }
        }
        claimCountdown -= 1
        guard claimCountdown <= 0, inFlight < Self.maxInFlight else { return }
        claimCountdown = 5
        let minIdle = Int64(broker.configuration.outbox.claimMinIdle * 1000)
        broker.store.outboxClaim(consumer: broker.nodeId, minIdleMs: minIdle, count: Self.maxInFlight - inFlight) { [weak self] result in
            guard let self, case .success(let entries) = result else { return }
            entries.forEach(self.deliver)
        }
    }

    private func deliver(_ entry: OutboxEntry) {
        guard let adapter = broker.adapters[entry.channelId] else {
            complete(entry, .failed(reason: "channel '\(entry.channelId)' is no longer configured"))
            return
        }
        do {
            guard let rendered = try adapter.render(try entry.outboundMessage()) else {
                // Socket channels never reach the outbox; if one did, it cannot be delivered here.
                complete(entry, .failed(reason: "channel '\(entry.channelId)' does not deliver through the outbox"))
                return
            }
            guard let target = HTTPClientTarget(method: rendered.method, url: rendered.url) else {
                complete(entry, .failed(reason: "invalid outbound URL for channel '\(entry.channelId)'"))
                return
            }
            inFlight += 1
            send(rendered: rendered, target: target) { [weak self] result in
                guard let self else { return }
                self.inFlight -= 1
                let outcome = adapter.interpretDeliveryResponse(status: result.status, body: result.body)
                switch (outcome, result.error) {
                case (.retry, let error?): self.complete(entry, .retry(reason: error))
                default: self.complete(entry, outcome)
                }
                self.kick()
            }
        } catch let error as ChannelError {
            complete(entry, .failed(reason: error.message))
        } catch let error as StoreError {
            complete(entry, .failed(reason: error.message))
        } catch {
            complete(entry, .failed(reason: "\(error)"))
        }
    }

    /// Resolves the host on a worker thread when it is a name (lws resolves synchronously, which
    /// would stall the loop), then makes the request on the loop.
    private func send(rendered: SwitchboardCore.OutboundHTTPRequest, target: HTTPClientTarget, completion: @escaping (HTTPClientResult) -> Void) {
        let timeout = broker.configuration.outbox.requestTimeout
        let go: (HTTPClientTarget) -> Void = { [weak self] resolved in
            guard let self, let context = self.broker.loop.context, let vhost = self.broker.loop.vhost else { return }
            let request = HTTPClientRequest(target: resolved, headers: rendered.headers, body: rendered.body, context: context, completion: completion)
            request.start(context: context, vhost: vhost, timeout: timeout)
        }
        guard target.needsResolution else {
            go(target)
            return
        }
        let host = target.connectAddress
        broker.workers.submit({ HostResolver.resolve(host) }, then: { address in
            guard let address else {
                completion(HTTPClientResult(status: 0, body: [], error: "cannot resolve \(host)"))
                return
            }
            var resolved = target
            resolved.connectAddress = address
            go(resolved)
        })
    }

    private func complete(_ entry: OutboxEntry, _ outcome: DeliveryOutcome) {
        switch outcome {
        case .sent: broker.metrics.delivery(outcome: "sent")
        case .retry: broker.metrics.delivery(outcome: entry.attempt >= broker.configuration.outbox.maxAttempts ? "dead" : "retry")
        case .failed: broker.metrics.delivery(outcome: "failed")
        }
        if case .sent = outcome {} else {
            broker.logger.warning("delivery did not succeed", metadata: [
                "channel": "\(entry.channelId)", "conversation": "\(entry.conversationId)", "attempt": "\(entry.attempt)",
                "outcome": "\(outcome)",
            ])
        }
        broker.store.completeDelivery(entry: entry, outcome: outcome, settings: broker.configuration.outbox, now: broker.now()) { [weak self] r in
            if case .failure(let e) = r {
                // The entry stays pending in the group; XAUTOCLAIM retries it after claim_min_idle.
                self?.broker.logger.error("recording a delivery outcome failed: \(e.message)")
            }
        }
    }
}

/// getaddrinfo on a worker thread (DESIGN §5: DNS is synchronous in this lws build).
enum HostResolver {
    static func resolve(_ host: String) -> String? {
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return nil }
        defer { freeaddrinfo(result) }
        guard let sa = first.pointee.ai_addr else { return nil }
        return sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
            var addr = sin.pointee.sin_addr
            var buf = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            guard inet_ntop(AF_INET, &addr, &buf, socklen_t(buf.count)) != nil else { return nil }
            return String(cBuffer: buf)
        }
    }
}
