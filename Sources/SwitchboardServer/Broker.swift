import CLibWebSockets
import Dispatch
import Foundation
import Logging
import SwitchboardCore
import SwitchboardRedis
import WebChatChannel

/// The broker process: wires the event loop, Redis, the Store and Router, the channel adapters,
/// the sessions and the delivery worker (DESIGN §3, §4).
///
/// Everything after `run()` starts happens on the loop thread; the only other threads are the
/// signal source (which only sets the stop flag) and the worker pool. Not Sendable.
public final class Broker {
    public let configuration: Configuration
    let logger: Logger
    let nodeId: String
    let loop: EventLoopServer
    private(set) var redis: RedisAsyncConnection!
    private var pubsub: RedisAsyncConnection!
    private(set) var router: Router!
    private(set) var store: Store!
    private var runner: ScriptRunner!
    private let library: ScriptLibrary
    private let managedRedis: ManagedRedis?
    let sessions = SessionRegistry()
    let metrics: BrokerMetrics
    let adapters: [String: any ChannelAdapter]
    let visitorTokens: VisitorToken
    let assets = StaticAssets()
    private(set) var workers: WorkerPool!
    private(set) var outbox: OutboxWorker!
    var publicLimiter: RateLimiter
    private(set) var isShuttingDown = false
    /// Redis connected, scripts loaded, agents synced, this node's channel subscribed: `/readyz`
    /// is true and webhooks are acknowledged.
    private(set) var isReady = false
    private var commandsReady = false
    private var subscribed = false
    private var hasBeenReady = false
    private var timers: [RepeatingLoopTimer] = []
    /// Retries the preparation of a fresh Redis connection (scripts, outbox group, agents) or the
    /// subscription when Redis answered an error, e.g. LOADING while it reads its AOF.
    private var prepareRetry: LoopTimer!
    private var subscribeRetry: LoopTimer!
    private var preparationFailures = 0
    private var nodeWatcher: NodeWatcher!
    private var signalSources: [DispatchSourceSignal] = []

    public init(configuration: Configuration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        self.nodeId = configuration.node.id
        self.loop = EventLoopServer(listen: configuration.listen, tls: configuration.tls, bodyLimit: configuration.limits.maxBodyBytes)
        self.library = try ScriptLibrary.bundled()
        self.metrics = BrokerMetrics()
        self.adapters = try ChannelAdapters.make(configuration.channels)
        self.visitorTokens = try VisitorToken(secret: configuration.visitorTokenSecret.isEmpty ? "unused-without-webchat-channels" : configuration.visitorTokenSecret)
        self.publicLimiter = RateLimiter(rate: configuration.limits.publicRatePerIP, burst: configuration.limits.publicBurstPerIP)
        if configuration.redis.url == nil {
            managedRedis = ManagedRedis(dataDir: configuration.dataDir, executable: configuration.redis.redisServerPath,
                                        appendfsync: configuration.redis.appendfsync)
        } else {
            managedRedis = nil
        }
    }

    /// Milliseconds since the epoch: the clock every script call is given (DESIGN §7).
    func now() -> Int64 {
        Int64(Date().timeIntervalSince1970 * 1000)
    }

    /// Runs until SIGINT/SIGTERM; returns the process exit status.
    public func run() -> Int32 {
        do {
            try start()
        } catch {
            logger.critical("startup failed: \(error)")
            managedRedis?.stop()
            return 1
        }
        loop.run()
        shutdown()
        return 0
    }

    private func start() throws {
        let endpoint: RedisEndpoint
        if let managedRedis {
            try managedRedis.start()
            endpoint = managedRedis.endpoint
            logger.info("managed redis-server started", metadata: ["pid": "\(managedRedis.pid)", "socket": "\(managedRedis.socketPath)"])
        } else if let url = configuration.redis.url, let parsed = RedisEndpoint(url: url) {
            endpoint = parsed
        } else {
            throw ServerError.startFailed("redis.url is not a redis:// or unix:// URL")
        }
        loop.delegate = self
        try loop.start()
        let context = loop.context!
        let vhost = loop.vhost!
        let waker = LoopWaker(context: context)
        workers = WorkerPool(threads: 2, wake: { waker.wake() })

        redis = RedisAsyncConnection(endpoint: endpoint, name: "commands", context: context, vhost: vhost)
        pubsub = RedisAsyncConnection(endpoint: endpoint, name: "pubsub", context: context, vhost: vhost)
        runner = ScriptRunner(redis: redis, library: library)
        prepareRetry = LoopTimer(context: context)
        subscribeRetry = LoopTimer(context: context)
        router = Router(runner: runner, prefix: configuration.redis.prefix, settings: configuration.routing)
        store = Store(runner: runner, prefix: configuration.redis.prefix)
        outbox = OutboxWorker(broker: self)
        nodeWatcher = NodeWatcher(redis: redis, router: router, prefix: configuration.redis.prefix, nodeId: nodeId,
                                  ttlSeconds: configuration.node.heartbeatTTL)
        nodeWatcher.onNodeLost = { [weak self] node, agents in
            self?.logger.warning("node \(node) is gone (heartbeat expired): \(agents) agent(s) put into their reconnect grace")
        }

        redis.onConnect = { [weak self] in self?.commandsConnected() }
        redis.onDisconnect = { [weak self] reason in self?.redisLost(reason) }
        pubsub.onConnect = { [weak self] in self?.pubsubConnected() }
        pubsub.onDisconnect = { [weak self] reason in
            self?.subscribed = false
            self?.updateReadiness(lost: reason)
        }
        redis.start()
        pubsub.start()

        startTimers(context: context)
        installSignalHandlers()
        let scheme = configuration.tls == nil ? "http" : "https"
        logger.info("switchboard listening", metadata: [
            "url": "\(scheme)://\(configuration.listen.host):\(configuration.listen.port)/", "node": "\(nodeId)",
            "redis": "\(endpoint)", "event_loop": "\(loop.usesEpoll ? "epoll (libev)" : "poll")",
        ])
        if loop.pollRequested {
            logger.info("event loop: poll(2), as SWITCHBOARD_EVENT_LOOP=poll asks")
        } else if !loop.usesEpoll {
            logger.warning("the libev event loop is unavailable (is libwebsockets-evlib-ev installed?); using poll(2), which costs CPU per connected socket on every loop turn")
        }
    }

    private func startTimers(context: OpaquePointer) {
        let r = configuration.routing
        timers = [
            RepeatingLoopTimer(context: context, interval: r.sweepInterval) { [weak self] in self?.sweep() },
            RepeatingLoopTimer(context: context, interval: configuration.node.heartbeatInterval) { [weak self] in self?.heartbeat() },
            RepeatingLoopTimer(context: context, interval: 3) { [weak self] in self?.refreshVisitorQueues() },
            RepeatingLoopTimer(context: context, interval: 0.2) { [weak self] in self?.superviseManagedRedis() },
            RepeatingLoopTimer(context: context, interval: 60) { [weak self] in
                guard let self else { return }
                self.publicLimiter.prune(now: Date().timeIntervalSince1970)
            },
        ]
        timers.forEach { $0.start() }
        outbox.start(context: context)
    }

    private func installSignalHandlers() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [stop = loop.stopSignal] in stop() }
            source.resume()
            signalSources.append(source)
        }
    }

    // MARK: Redis lifecycle

    private func commandsConnected() {
        logger.info("redis connected")
        prepareRetry.cancel()
        preparationFailures = 0
        prepareCommands()
    }

    /// Scripts, the shared settings, the outbox group, the agents; then ready. A Redis that was
    /// just restarted answers LOADING until it has read its AOF, so a step that fails is retried
    /// shortly while the connection stays up (a new connection starts over).
    private func prepareCommands() {
        runner.preload { [weak self] result in
            guard let self else { return }
            if case .failure(let e) = result {
                self.retryPreparation("loading Lua scripts failed: \(e.message)")
                return
            }
            // Settings the scripts read themselves (retention, event backlog): shared by all nodes.
            self.redis.send(["HSET", self.configuration.redis.prefix + "{r}:config",
                             "retention_ms", String(Int64(self.configuration.retention * 1000)),
                             "agent_event_backlog", String(self.configuration.agentEventBacklog)])
            self.store.ensureOutboxGroup { [weak self] group in
                guard let self else { return }
                if case .failure(let e) = group {
                    self.retryPreparation("creating the outbox consumer group failed: \(e.message)")
                    return
                }
                self.router.syncAgents(self.configuration.agents, now: self.now()) { [weak self] r in
                    guard let self else { return }
                    switch r {
                    case .success:
                        self.releaseAgentsOfAPreviousRun { [weak self] in
                            self?.commandsReady = true
                            self?.updateReadiness()
                        }
                    case .failure(let e):
                        self.retryPreparation("syncing agents failed: \(e.message)")
                    }
                }
            }
        }
    }

    private func retryPreparation(_ problem: String) {
        guard redis.isConnected, !isShuttingDown else { return }   // a reconnect starts over
        preparationFailures += 1
        if preparationFailures == 1 || preparationFailures % 40 == 0 {
            logger.error("\(problem); retrying every 250 ms (attempt \(preparationFailures))")
        }
        prepareRetry.schedule(after: 0.25) { [weak self] in
            guard let self, self.redis.isConnected, !self.commandsReady else { return }
            self.prepareCommands()
        }
    }

    /// A node restarted under the same `node.id` (crash, then a supervisor's quick restart) has a
    /// live heartbeat again before any other node saw it expire, so nobody would ever treat the
    /// agents bound to its previous process as gone: they would stay "connected" with their
    /// conversations. Before first becoming ready the node holds no console (agent upgrades are
    /// refused until then), so every agent still bound to this id is released into its grace, as
    /// `node_lost` does for a dead node.
    private func releaseAgentsOfAPreviousRun(then done: @escaping () -> Void) {
        guard !hasBeenReady else { return done() }
        router.nodeLost(node: nodeId, now: now()) { [weak self] result in
            switch result {
            case .success(let n) where n > 0:
                self?.logger.warning("released \(n) agent(s) still bound to this node id from a previous run (reconnect grace started)")
            case .success: break
            case .failure(let e): self?.logger.error("releasing agents of a previous run failed: \(e.message)")
            }
            done()
        }
    }

    private func redisLost(_ reason: String) {
        commandsReady = false
        updateReadiness(lost: reason)
    }

    /// Ready only with both connections up. Coming back after an outage, pushes published while the
    /// subscription was down never reached this node's sockets, and a Redis that restarted without
    /// its data no longer knows they are connected. Consoles are re-registered and replayed from
    /// their event stream (`AgentSession.resync`; closed with 1012 if Redis lost the stream);
    /// visitors, who have no stream, are closed with 1001 and get their history on hello.
    private func updateReadiness(lost reason: String? = nil) {
        let ready = commandsReady && subscribed
        guard ready != isReady else { return }
        isReady = ready
        if !ready {
            // Stopping the managed Redis on shutdown closes the connections: expected, not an error
            // an operator should be paged for.
            if isShuttingDown {
                logger.info("redis connection closed during shutdown")
                return
            }
            logger.error("redis connection lost: \(reason ?? "unknown"); answering 503 until it returns")
            for list in sessions.agents.values { list.forEach { $0.suspend() } }
            return
        }
        // Heartbeat first: a watching node that saw this node's key expire during the outage
        // then either released its agents before the consoles below re-register (and they win),
        // or finds the key back and leaves them alone (node_lost checks it atomically).
        heartbeat()
        if hasBeenReady {
            logger.info("redis is back; resyncing this node's consoles, asking visitors to reconnect")
            for list in sessions.agents.values { list.forEach { $0.resync() } }
            for s in sessions.allVisitors.values { s.close(code: LWS_CLOSE_STATUS_GOINGAWAY, reason: "redis reconnected") }
        } else {
            logger.info("ready")
        }
        hasBeenReady = true
        outbox.kick()
    }

    private func closeAllSockets(agentCode: UInt32, reason: String) {
        for list in sessions.agents.values {
            for s in list { s.close(code: lws_close_status(rawValue: agentCode), reason: reason) }
        }
        for s in sessions.allVisitors.values { s.close(code: LWS_CLOSE_STATUS_GOINGAWAY, reason: reason) }
    }

    private func pubsubConnected() {
        pubsub.subscribe(configuration.redis.prefix + "node:" + nodeId, onMessage: { [weak self] _, payload in
            self?.sessions.dispatch(payload)
        }, completion: { [weak self] result in
            guard let self else { return }
            guard case .success = result else {
                // Refused (e.g. LOADING): try again while the connection stays up.
                guard self.pubsub.isConnected, !self.isShuttingDown else { return }
                self.logger.error("subscribing to this node's channel failed: \(result); retrying")
                self.subscribeRetry.schedule(after: 0.25) { [weak self] in
                    guard let self, self.pubsub.isConnected, !self.subscribed, !self.isShuttingDown else { return }
                    self.pubsubConnected()
                }
                return
            }
            self.subscribed = true
            self.updateReadiness()
        })
    }

    // MARK: periodic work

    private func sweep() {
        guard isReady else { return }
        router.sweep(now: now()) { [weak self] result in
            if case .failure(let e) = result, e.code != "unavailable" {
                self?.logger.error("sweep failed: \(e.message)")
            }
        }
    }

    private func heartbeat() {
        guard isReady else { return }
        nodeWatcher.tick(agentSockets: sessions.agentSessionCount, now: now())
    }

    /// The managed redis-server died (OOM killer, kill -9): start it again from its AOF on a worker
    /// thread (loading takes time and the loop never blocks); the connections reconnect by
    /// themselves once the socket answers. Meanwhile webhooks get 503 and nothing is acknowledged.
    private var restartingRedis = false
    private func superviseManagedRedis() {
        guard let managedRedis, !restartingRedis, !isShuttingDown, !managedRedis.isRunning else { return }
        restartingRedis = true
        logger.error("managed redis-server exited (status \(managedRedis.terminationStatus ?? -1)); restarting it from its AOF")
        workers.submit({ () -> String? in
            do {
                try managedRedis.start()
                return nil
            } catch {
                return "\(error)"
            }
        }, then: { [weak self] failure in
            guard let self else { return }
            self.restartingRedis = false
            if let failure {
                self.logger.critical("restarting the managed redis-server failed: \(failure)")
            } else {
                self.logger.info("managed redis-server restarted", metadata: ["pid": "\(managedRedis.pid)"])
            }
        })
    }

    private func refreshVisitorQueues() {
        guard isReady else { return }
        for session in sessions.allVisitors.values where session.waitingInQueue {
            session.refreshQueuePosition()
        }
    }

    // MARK: shared flows

    /// Stores an inbound message and, for a new conversation (or a retried duplicate whose
    /// conversation is still waiting), enqueues it. `completion` succeeds only once Redis holds
    /// everything: the caller may then acknowledge (DESIGN §9).
    func ingest(channel: ChannelConfig, message: InboundMessage, visitorNode: String?,
                completion: @escaping (Result<IngestOutcome, StoreError>) -> Void) {
        let request = IngestRequest(channel: channel, message: message, visitorNode: visitorNode)
        let now = self.now()
        store.ingest(request, now: now) { [weak self] result in
            guard let self else { return }
            switch result {
            case .failure(let e):
                completion(.failure(e))
            case .success(let outcome):
                if !outcome.duplicate { self.metrics.inbound(channel: channel.id) }
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

    /// Stores a reply and hands it to the outbox worker when it goes through a provider.
    func send(_ request: SendRequest, completion: @escaping (Result<SendOutcome, StoreError>) -> Void) {
        store.send(request, now: now()) { [weak self] result in
            if case .success(let outcome) = result, outcome.outboxEntryId != nil { self?.outbox.kick() }
            completion(result)
        }
    }

    // MARK: shutdown

    /// SIGTERM/SIGINT: close consoles with 1012 so they reconnect elsewhere (their agents enter the
    /// reconnect grace, not offline), let in-flight Redis replies land, stop Redis, exit.
    private func shutdown() {
        isShuttingDown = true
        logger.info("shutting down")
        closeAllSockets(agentCode: 1012, reason: "server restarting")   // 1012: service restart (IANA WebSocket close codes)
        timers.forEach { $0.stop() }
        outbox.stop()
        let deadline = Date().addingTimeInterval(5)
        var socketsGoneAt: Date?
        loop.serviceBriefly {
            let now = Date()
            if socketsGoneAt == nil && sessions.agentSessionCount == 0 && outbox.inFlight == 0 { socketsGoneAt = now }
            // Once the sockets are closed, give their disconnect scripts a moment to be answered.
            return now > deadline || (socketsGoneAt.map { now.timeIntervalSince($0) > 0.3 } ?? false)
        }
        redis.stop()
        pubsub.stop()
        workers.shutdown()
        signalSources.forEach { $0.cancel() }
        managedRedis?.stop()
        logger.info("stopped")
    }
}

extension Broker: EventLoopDelegate {
    func loopWoke() {
        workers?.drainCompleted()
    }

    func refusalOfWebSocket(path: String, remoteAddress: String) -> HTTPResponse? {
        func refuse(_ status: Int, _ code: String, _ message: String, retryAfter: Int? = nil) -> HTTPResponse {
            HTTPResponse(status: status, contentType: "application/json; charset=utf-8",
                         body: Array(JSONText.errorBody(code: code, message: message).utf8),
                         headers: retryAfter.map { [("retry-after", String($0))] } ?? [])
        }
        if isShuttingDown { return refuse(503, "unavailable", "shutting down", retryAfter: 1) }
        switch path {
        case "/v1/agent":
            // Until first ready, agents bound to this node id by a previous run are being released.
            return hasBeenReady ? nil : refuse(503, "unavailable", "starting", retryAfter: 1)
        case "/v1/visitor":
            // Public endpoint: per-IP connection rate (DESIGN §11).
            if publicLimiter.allow(remoteAddress, now: Date().timeIntervalSince1970) { return nil }
            return refuse(429, "rate_limited", "too many connections from \(remoteAddress)",
                          retryAfter: publicLimiter.retryAfter(remoteAddress))
        default: return refuse(404, "not_found", "no WebSocket endpoint \(path)")
        }
    }

    func openWebSocket(wsi: OpaquePointer, path: String) -> WebSocketSession? {
        let session: WebSocketSession
        switch path {
        case "/v1/agent":
            session = AgentSession(wsi: wsi, broker: self)
        case "/v1/visitor":
            let visitor = VisitorSession(wsi: wsi, broker: self)
            sessions.add(visitor: visitor)
            session = visitor
        default:
            return nil
        }
        session.onOverflow = { [weak self] s in
            let who = (s as? AgentSession)?.agent.map { "agent \($0.id)" } ?? "visitor"
            self?.logger.warning("send queue full: closing a socket that does not read (1008)", metadata: [
                "socket": "\(who)", "from": "\(s.remoteAddress)", "limit": "\(s.maxQueueBytes)",
            ])
        }
        return session
    }
}
