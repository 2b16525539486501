import SwitchboardRedis

/// Heartbeats this node and notices dead ones (DESIGN §7, "Disconnects and dead nodes"; §8
/// `sb:node:<id>`).
///
/// Each tick: `SET sb:node:<self> PX heartbeat_ttl` and `SADD sb:nodes <self>`; then every other
/// member of `sb:nodes` whose heartbeat key has expired is reported to `Router.nodeLost`, which
/// treats its agents as disconnected (their reconnect grace starts), and is removed from the set.
/// Several nodes may report the same dead node; the script makes that harmless.
///
/// Loop thread only.
final class NodeWatcher {
    private let redis: RedisCommanding
    private let router: Router
    private let keys: RedisKeys
    private let nodeId: String
    private let ttlMilliseconds: Int
    private var checking = false
    /// A dead node was found and this many of its agents were put into their reconnect grace.
    var onNodeLost: ((String, Int) -> Void)?

    init(redis: RedisCommanding, router: Router, prefix: String, nodeId: String, ttlSeconds: Double) {
        self.redis = redis
        self.router = router
        self.keys = RedisKeys(prefix: prefix)
        self.nodeId = nodeId
        self.ttlMilliseconds = Int(ttlSeconds * 1000)
    }

    var nodesKey: String { keys.nodes }
    func heartbeatKey(_ node: String) -> String { keys.node(node) }

    func tick(agentSockets: Int, now: Int64) {
        redis.send(["SET", heartbeatKey(nodeId), String(agentSockets), "PX", String(ttlMilliseconds)])
        redis.send(["SADD", nodesKey, nodeId])
        guard !checking else { return }
        checking = true
        redis.send(["SMEMBERS", nodesKey]) { [weak self] result in
            guard let self else { return }
            self.checking = false
            guard case .success(.array(let members)) = result else { return }
            for node in members.compactMap(\.string) where node != self.nodeId {
                self.check(node, now: now)
            }
        }
    }

    private func check(_ node: String, now: Int64) {
        redis.send(["EXISTS", heartbeatKey(node)]) { [weak self] result in
            guard let self, case .success(.integer(0)) = result else { return }
            self.router.nodeLost(node: node, onlyIfSilent: true, now: now) { [weak self] lost in
                guard let self, case .success(let n) = lost, n >= 0 else { return }   // -1: it is back
                self.onNodeLost?(node, n)
                self.redis.send(["SREM", self.nodesKey, node])
            }
        }
    }
}
