import CLibWebSockets
import Dispatch
import Foundation
import Logging
import SwitchboardCore
import SwitchboardLoop
import SwitchboardRedis
import WebChatChannel

/// The broker process: wires the event loop, Redis, the Store and Router, the channel adapters and
/// the parts with one job each (DESIGN §3, §4; `docs/architecture.md` "The server"):
/// `RedisReadiness` (ready or not), `HTTPRouter` with `ChannelWebhookEndpoint`, `RESTEndpoint` and
/// `OpsEndpoint`, `IngestPipeline`, `PullRunner`, `OutboxWorker` with `CredentialCache`,
/// `WebChatService`, and the WebSocket sessions, which reach the node only through
/// `AgentSessionHost` / `VisitorSessionHost`.
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
    private(set) var isShuttingDown = false
    private(set) var readiness: RedisReadiness!
    private var http: HTTPRouter!
    private var webhooks: ChannelWebhookEndpoint!
    private(set) var ingestPipeline: IngestPipeline!
    private var replies: ReplySender!
    private var webChat: WebChatService!
    private var publicLimiter: RateLimiter!
    private(set) var workers: WorkerPool!
    private(set) var outbox: OutboxWorker!
    private var timers: [RepeatingLoopTimer] = []
    private var nodeWatcher: NodeWatcher!
    private var signalSources: [DispatchSourceSignal] = []

    /// Redis connected, scripts loaded, agents synced, this node's channel subscribed: `/readyz`
    /// is true and webhooks are acknowledged.
    var isReady: Bool { readiness?.isReady ?? false }

    /// `channels` builds one adapter per configured channel (the executable lists the factories
    /// of this build); a channel it cannot build stops the start with every problem named.
    public init(configuration: Configuration, channels: ChannelCatalog, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        self.nodeId = configuration.node.id
        self.loop = EventLoopServer(listen: configuration.listen, tls: configuration.tls,
                                    requestTimeout: Int(configuration.limits.requestTimeout))
        self.library = try ScriptLibrary.bundled()
        self.metrics = BrokerMetrics()
        do {
            self.adapters = try channels.adapters(for: configuration)
        } catch {
            throw ServerError.startFailed("invalid channel settings:\n\(error.description)")
        }
        self.visitorTokens = try VisitorToken(secret: configuration.visitorTokenSecret.isEmpty ? "unused-without-webchat-channels" : configuration.visitorTokenSecret)
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
        router = Router(runner: runner, prefix: configuration.redis.prefix, settings: configuration.routing)
        store = Store(runner: runner, prefix: configuration.redis.prefix)
        let clock: () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
        readiness = RedisReadiness(context: context, redis: redis, pubsub: pubsub, runner: runner, store: store, router: router,
                                   configuration: configuration, logger: logger, clock: clock,
                                   isShuttingDown: { [weak self] in self?.isShuttingDown ?? true })
        readiness.onChange = { [weak self] ready, reason in self?.readinessChanged(ready, lost: reason) }
        readiness.onPush = { [weak self] payload in self?.sessions.dispatch(payload) }

        let client = OutboundHTTPClient(context: context, vhost: vhost, workers: workers, timeout: configuration.outbox.requestTimeout)
        let retryTimer = LoopTimerPool(context: context)
        let credentials = CredentialCache(store: store, http: client, nodeId: nodeId, schedule: retryTimer.schedule)
        outbox = OutboxWorker(store: store, http: client, credentials: credentials, adapters: adapters, settings: configuration.outbox,
                              nodeId: nodeId, metrics: metrics, logger: logger, readiness: readiness, clock: clock)
        // A call's bridge that found the caller gone: the accepted call becomes an abandon.
        outbox.onGone = { [router, logger, clock] entry in
            guard !entry.callId.isEmpty else { return }
            router?.callGone(conversationId: entry.conversationId, channelId: entry.channelId, now: clock()) { result in
                if case .failure(let e) = result { logger.error("ending a call whose caller was gone failed: \(e.message)") }
            }
        }
        replies = ReplySender(store: store, clock: clock, kickOutbox: { [weak self] in self?.outbox.kick() })
        ingestPipeline = IngestPipeline(store: store, router: router, metrics: metrics,
                                        calls: CallService(router: router, metrics: metrics, agents: configuration.agents, logger: logger, clock: clock),
                                        clock: clock)
        let pulls = PullRunner(store: store, http: client, credentials: credentials, ingest: ingestPipeline, adapters: adapters,
                               nodeId: nodeId, logger: logger)
        ingestPipeline.onPullTrigger = { channel, trigger in pulls.triggered(channel, trigger) }
        let media = MediaService(store: store, http: client, credentials: credentials, adapters: adapters,
                                 maxBytes: configuration.mediaMaxBytes, retentionSeconds: Int(configuration.retention), logger: logger)
        ingestPipeline.onMedia = { channelId, conversationId, ids in media.stored(channelId: channelId, conversationId: conversationId, mediaIds: ids) }
        // One per-IP budget for every public endpoint (visitor sockets, unsigned webhooks): DESIGN §11.
        publicLimiter = RateLimiter(rate: configuration.limits.publicRatePerIP, burst: configuration.limits.publicBurstPerIP)
        webChat = WebChatService(tokens: visitorTokens, limiter: publicLimiter, sessions: sessions)

        let responder = HTTPResponder(metrics: metrics, logger: logger)
        http = HTTPRouter(responder: responder, defaultBodyLimit: configuration.limits.maxBodyBytes,
                          fallback: OpsEndpoint(nodeId: nodeId, readiness: readiness, redisConnected: { [weak self] in self?.redis?.isConnected ?? false },
                                                metrics: metrics, sessions: sessions, assets: StaticAssets(), skills: configuration.skills,
                                                router: router, clock: clock))
        webhooks = ChannelWebhookEndpoint(channels: configuration.channels, adapters: adapters, ingest: ingestPipeline, readiness: readiness,
                                          workers: workers, limiter: publicLimiter, logger: logger, clock: clock)
        http.mount(ChannelWebhookEndpoint.prefix, webhooks)
        http.mount(MediaReference.prefix, MediaEndpoint(agents: configuration.agents, readiness: readiness, store: store, media: media))
        http.mount("/v1/", RESTEndpoint(apiKeys: configuration.apiKeys, skills: configuration.skills, readiness: readiness, store: store,
                                        router: router, replies: replies, clock: clock))

        nodeWatcher = NodeWatcher(redis: redis, router: router, prefix: configuration.redis.prefix, nodeId: nodeId,
                                  ttlSeconds: configuration.node.heartbeatTTL)
        nodeWatcher.onNodeLost = { [weak self] node, agents in
            self?.logger.warning("node \(node) is gone (heartbeat expired): \(agents) agent(s) put into their reconnect grace")
        }
        redis.start()
        pubsub.start()

        startTimers(context: context)
        installSignalHandlers()
        let scheme = configuration.tls == nil ? "http" : "https"
        logger.info("switchboard listening", metadata: [
            "url": "\(scheme)://\(configuration.listen.host):\(configuration.listen.port)/", "node": "\(nodeId)",
            "redis": "\(endpoint)", "event_loop": "\(loop.usesEpoll ? "epoll (libev)" : "poll")",
            "channels": "\(adapters.keys.sorted().joined(separator: ","))",
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
            RepeatingLoopTimer(context: context, interval: 3) { [weak self] in
                guard let self, self.isReady else { return }
                self.webChat.refreshQueuePositions()
            },
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

    // MARK: readiness

    /// Coming back after an outage, pushes published while the subscription was down never reached
    /// this node's sockets, and a Redis that restarted without its data no longer knows they are
    /// connected. Consoles are re-registered and replayed from their event stream
    /// (`AgentSession.resync`; closed with 1012 if Redis lost the stream); visitors, who have no
    /// stream, are closed with 1001 and get their history on hello.
    private func readinessChanged(_ ready: Bool, lost reason: String?) {
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
        if readiness.hasBeenReady {
            logger.info("redis is back; resyncing this node's consoles, asking visitors to reconnect")
            for list in sessions.agents.values { list.forEach { $0.resync() } }
            for s in sessions.allVisitors.values { s.close(code: .goingAway, reason: "redis reconnected") }
        } else {
            logger.info("ready")
        }
        outbox.kick()
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

    // MARK: shutdown

    /// SIGTERM/SIGINT: close consoles with 1012 so they reconnect elsewhere (their agents enter the
    /// reconnect grace, not offline), let in-flight Redis replies land, stop Redis, exit.
    private func shutdown() {
        isShuttingDown = true
        logger.info("shutting down")
        for list in sessions.agents.values {
            for s in list { s.close(code: .serviceRestart, reason: "server restarting") }
        }
        for s in sessions.allVisitors.values { s.close(code: .goingAway, reason: "server restarting") }
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

extension Broker: AgentSessionHost, VisitorSessionHost {
    var loopContext: OpaquePointer? { loop.context }

    func send(_ request: SendRequest, completion: @escaping (Result<SendOutcome, StoreError>) -> Void) {
        replies.send(request, completion: completion)
    }

    func deliverSoon() {
        outbox?.kick()
    }

    func ingest(channel: ChannelConfig, message: InboundMessage, visitorNode: String?,
                completion: @escaping (Result<IngestOutcome, StoreError>) -> Void) {
        ingestPipeline.ingest(channel: channel, message: message, visitorNode: visitorNode, completion: completion)
    }
}

extension Broker: EventLoopDelegate {
    func loopWoke() {
        workers?.drainCompleted()
    }

    func bodyLimit(method: String, path: String) -> Int {
        http?.bodyLimit(method: method, path: path) ?? configuration.limits.maxBodyBytes
    }

    func handle(_ exchange: HTTPExchange) {
        http.handle(exchange)
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
            return readiness.hasBeenReady ? nil : refuse(503, "unavailable", "starting", retryAfter: 1)
        case "/v1/visitor":
            // Public endpoint: per-IP connection rate (DESIGN §11).
            return webChat.refusal(remoteAddress: remoteAddress)
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
