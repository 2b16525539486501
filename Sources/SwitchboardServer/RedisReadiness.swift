import Logging
import SwitchboardCore
import SwitchboardLoop
import SwitchboardRedis

/// Whether this node may take work, and getting there after every (re)connect (DESIGN §11;
/// `docs/architecture.md` "Readiness").
///
/// Ready = the commands connection prepared (scripts loaded, `sb:{r}:config` written, the outbox
/// group, agents synced, a previous run under the same node id released) and this node's pub/sub
/// channel subscribed. A Redis that was just restarted answers LOADING until it has read its AOF,
/// so each step that fails is retried every 250 ms while the connection stays up (a new connection
/// starts over). `onChange` is told each time readiness flips, with whether it is the first time.
///
/// Loop thread only.
final class RedisReadiness: ReadinessProbe {
    private(set) var isReady = false
    private(set) var hasBeenReady = false
    private var commandsReady = false
    private var subscribed = false
    private var preparationFailures = 0
    private let prepareRetry: LoopTimer
    private let subscribeRetry: LoopTimer
    private let redis: RedisAsyncConnection
    private let pubsub: RedisAsyncConnection
    private let runner: ScriptRunner
    private let store: Store
    private let router: Router
    private let configuration: Configuration
    private let logger: Logger
    private let clock: () -> Int64
    private let isShuttingDown: () -> Bool
    /// (ready, lost reason): flips only.
    var onChange: ((Bool, String?) -> Void)?
    /// A push for a socket this node holds.
    var onPush: (([UInt8]) -> Void)?

    init(context: OpaquePointer, redis: RedisAsyncConnection, pubsub: RedisAsyncConnection, runner: ScriptRunner, store: Store,
         router: Router, configuration: Configuration, logger: Logger, clock: @escaping () -> Int64,
         isShuttingDown: @escaping () -> Bool) {
        self.prepareRetry = LoopTimer(context: context)
        self.subscribeRetry = LoopTimer(context: context)
        self.redis = redis
        self.pubsub = pubsub
        self.runner = runner
        self.store = store
        self.router = router
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        self.isShuttingDown = isShuttingDown
        redis.onConnect = { [weak self] in self?.commandsConnected() }
        redis.onDisconnect = { [weak self] reason in
            self?.commandsReady = false
            self?.update(lost: reason)
        }
        pubsub.onConnect = { [weak self] in self?.subscribe() }
        pubsub.onDisconnect = { [weak self] reason in
            self?.subscribed = false
            self?.update(lost: reason)
        }
    }

    private func commandsConnected() {
        logger.info("redis connected")
        prepareRetry.cancel()
        preparationFailures = 0
        prepare()
    }

    /// Scripts, the shared settings, the outbox group, the agents; then ready.
    private func prepare() {
        runner.preload { [weak self] result in
            guard let self else { return }
            if case .failure(let e) = result { return self.retry("loading Lua scripts failed: \(e.message)") }
            // Settings the scripts read themselves (retention, event backlog): shared by all nodes.
            self.redis.send(["HSET", self.store.keys.config,
                             "retention_ms", String(Int64(self.configuration.retention * 1000)),
                             "agent_event_backlog", String(self.configuration.agentEventBacklog)])
            self.store.ensureOutboxGroup { [weak self] group in
                guard let self else { return }
                if case .failure(let e) = group { return self.retry("creating the outbox consumer group failed: \(e.message)") }
                self.router.syncAgents(self.configuration.agents, now: self.clock()) { [weak self] r in
                    guard let self else { return }
                    switch r {
                    case .success:
                        self.releaseAgentsOfAPreviousRun { [weak self] in
                            self?.commandsReady = true
                            self?.update()
                        }
                    case .failure(let e):
                        self.retry("syncing agents failed: \(e.message)")
                    }
                }
            }
        }
    }

    private func retry(_ problem: String) {
        guard redis.isConnected, !isShuttingDown() else { return }   // a reconnect starts over
        preparationFailures += 1
        if preparationFailures == 1 || preparationFailures % 40 == 0 {
            logger.error("\(problem); retrying every 250 ms (attempt \(preparationFailures))")
        }
        prepareRetry.schedule(after: 0.25) { [weak self] in
            guard let self, self.redis.isConnected, !self.commandsReady else { return }
            self.prepare()
        }
    }

    /// A node restarted under the same `node.id` (crash, then a supervisor's quick restart) has a
    /// live heartbeat again before any other node saw it expire, so nobody would ever treat the
    /// agents bound to its previous process as gone. Before first becoming ready the node holds no
    /// console (agent upgrades are refused until then), so every agent still bound to this id is
    /// released into its grace, as `node_lost` does for a dead node.
    private func releaseAgentsOfAPreviousRun(then done: @escaping () -> Void) {
        guard !hasBeenReady else { return done() }
        router.nodeLost(node: configuration.node.id, now: clock()) { [weak self] result in
            switch result {
            case .success(let n) where n > 0:
                self?.logger.warning("released \(n) agent(s) still bound to this node id from a previous run (reconnect grace started)")
            case .success: break
            case .failure(let e): self?.logger.error("releasing agents of a previous run failed: \(e.message)")
            }
            done()
        }
    }

    private func subscribe() {
        pubsub.subscribe(store.keys.node(configuration.node.id), onMessage: { [weak self] _, payload in
            self?.onPush?(payload)
        }, completion: { [weak self] result in
            guard let self else { return }
            guard case .success = result else {
                // Refused (e.g. LOADING): try again while the connection stays up.
                guard self.pubsub.isConnected, !self.isShuttingDown() else { return }
                self.logger.error("subscribing to this node's channel failed: \(result); retrying")
                self.subscribeRetry.schedule(after: 0.25) { [weak self] in
                    guard let self, self.pubsub.isConnected, !self.subscribed, !self.isShuttingDown() else { return }
                    self.subscribe()
                }
                return
            }
            self.subscribed = true
            self.update()
        })
    }

    private func update(lost reason: String? = nil) {
        let ready = commandsReady && subscribed
        guard ready != isReady else { return }
        isReady = ready
        onChange?(ready, reason)
        if ready { hasBeenReady = true }
    }
}
