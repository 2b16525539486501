import Foundation
import SwitchboardCore

/// The routing facade: one method per routing script in `Scripts/` (DESIGN §7: every routing
/// decision is one Lua script run with FCALL, so any node may make any decision).
///
/// Every call passes `now` (ms since the epoch) and this node's `RoutingSettings` to the script
/// (see `Scripts/_c_dispatch.lua` for the argument layout); the scripts never read a clock or a
/// setting from anywhere else, so tests drive them with a fake clock.
///
/// Events the scripts produce (offers, assignments, presence, rescinds) are appended to the agents'
/// event streams and published to the nodes holding their sockets by the scripts themselves;
/// callers only get the outcome. Failures arrive as `StoreError` (coded script errors mapped by
/// `StoreError(_:)`, connection loss as `.unavailable`).
///
/// Loop thread only (it uses the `ScriptRunner`, which holds the loop-bound connection); not
/// `Sendable`. Completions run on the loop thread.
public final class Router {
    private let runner: ScriptRunner
    private let prefix: String
    public let settings: RoutingSettings
    /// ARGV[2…8] of every routing script, encoded once.
    private let settingArgs: [String]

    public init(runner: ScriptRunner, prefix: String, settings: RoutingSettings) {
        self.runner = runner
        self.prefix = prefix
        self.settings = settings
        settingArgs = [
            Self.milliseconds(settings.offerTimeout),
            settings.strategy.rawValue,
            Self.milliseconds(settings.agingSecondsPerPriority),
            String(settings.offerMissedLimit),
            Self.milliseconds(settings.wrapupSeconds),
            Self.milliseconds(settings.reconnectGrace),
            Self.milliseconds(settings.reofferAfter),
        ]
    }

    // MARK: Agents

    /// Upserts the configured agents (new ones offline); agents no longer configured are evicted.
    public func syncAgents(_ agents: [AgentConfig], now: Int64,
                           completion: @escaping (Result<AgentSyncOutcome, StoreError>) -> Void) {
        let json: String
        do {
            json = try Self.encodeAgents(agents)
        } catch {
            completion(.failure(.badRequest("agents cannot be encoded: \(error)")))
            return
        }
        run("agent_sync", now: now, [json]) { completion($0.flatMap { Self.decode(AgentSyncOutcome.self, $0) }) }
    }

    /// An agent's console authenticated on `node`: ends its grace, drains it if available, and
    /// answers the snapshot for `welcome`.
    public func connect(agentId: String, node: String, now: Int64,
                        completion: @escaping (Result<AgentSnapshot, StoreError>) -> Void) {
        run("agent_connect", now: now, [agentId, node]) { completion($0.flatMap(Self.snapshot)) }
    }

    /// The agent's socket on `node` dropped: the reconnect grace starts. `false` when the agent is
    /// bound to another node by now (it reconnected there).
    public func disconnect(agentId: String, node: String, now: Int64,
                           completion: @escaping (Result<Bool, StoreError>) -> Void) {
        run("agent_disconnect", now: now, [agentId, node]) { completion($0.flatMap(Self.flag)) }
    }

    /// A node's heartbeat expired: every agent bound to it is disconnected. Answers how many.
    /// `onlyIfSilent`: nothing happens, and the answer is -1, if the node's heartbeat key exists
    /// by the time the script runs (it came back).
    public func nodeLost(node: String, onlyIfSilent: Bool = false, now: Int64,
                         completion: @escaping (Result<Int, StoreError>) -> Void) {
        run("node_lost", now: now, [node, onlyIfSilent ? "1" : "0"]) { completion($0.flatMap(Self.count)) }
    }

    /// `presence.set`: available drains at once (answers the offers made); away/offline rescinds
    /// the agent's pending offers to others (answers 0).
    public func setPresence(agentId: String, status: PresenceStatus, reason: String?, now: Int64,
                            completion: @escaping (Result<Int, StoreError>) -> Void) {
        run("presence", now: now, [agentId, status.rawValue, reason ?? ""]) { completion($0.flatMap(Self.count)) }
    }

    // MARK: Conversations

    /// Queues a conversation (status `queued` from ingest, or `bot` on handoff) and offers it to
    /// the best eligible agent. Idempotent: a repeat answers where the conversation is.
    public func enqueue(conversationId: String, front: Bool = false, now: Int64,
                        completion: @escaping (Result<EnqueueOutcome, StoreError>) -> Void) {
        run("enqueue", now: now, [conversationId, front ? "1" : "0"]) { completion($0.flatMap(Self.outcome)) }
    }

    /// `offer.accept`: answers the assigned conversation's JSON (as sent in `assigned`).
    public func accept(agentId: String, offerId: String, now: Int64,
                       completion: @escaping (Result<String, StoreError>) -> Void) {
        run("offer_accept", now: now, [agentId, offerId]) { completion($0.flatMap(Self.text)) }
    }

    /// `offer.reject`: the conversation goes to the next eligible agent; back to this one only when
    /// nobody else can take it, and not within `reofferAfter` (DESIGN §7 "Re-offer").
    public func reject(agentId: String, offerId: String, reason: String?, now: Int64,
                       completion: @escaping (Result<Void, StoreError>) -> Void) {
        run("offer_reject", now: now, [agentId, offerId, reason ?? ""]) { completion($0.map { _ in () }) }
    }

    /// The routing clock: expired offers, ended wrap-ups, ended reconnect graces. Safe to run on
    /// every node every `sweepInterval`.
    public func sweep(now: Int64, completion: @escaping (Result<SweepOutcome, StoreError>) -> Void) {
        run("sweep", now: now, []) { completion($0.flatMap { Self.decode(SweepOutcome.self, $0) }) }
    }

    /// `conversation.close` by the assignee: wrap-up, then closed. Answers the conversation JSON.
    public func close(agentId: String, conversationId: String, category: String?, disposition: String?, now: Int64,
                      completion: @escaping (Result<String, StoreError>) -> Void) {
        run("close", now: now, [agentId, conversationId, category ?? "", disposition ?? ""]) {
            completion($0.flatMap(Self.text))
        }
    }

    /// `conversation.transfer` by the assignee. Answers where the conversation went.
    public func transfer(agentId: String, conversationId: String, target: TransferTarget, note: String?, now: Int64,
                         completion: @escaping (Result<EnqueueOutcome, StoreError>) -> Void) {
        let (mode, name): (String, String)
        switch target {
        case .agent(let id): (mode, name) = ("agent", id)
        case .skill(let skill): (mode, name) = ("skill", skill)
        }
        run("transfer", now: now, [agentId, conversationId, mode, name, note ?? ""]) {
            completion($0.flatMap(Self.outcome))
        }
    }

    /// The contact left before assignment. `false` when the conversation was not waiting.
    public func abandon(conversationId: String, now: Int64, completion: @escaping (Result<Bool, StoreError>) -> Void) {
        run("abandon", now: now, [conversationId]) { completion($0.flatMap(Self.flag)) }
    }

    /// The visitor's `queue{position,estimatedWaitSeconds}`; `nil` when the conversation is not queued.
    public func queuePosition(conversationId: String, now: Int64,
                              completion: @escaping (Result<QueuePosition?, StoreError>) -> Void) {
        run("queue_position", now: now, [conversationId]) { result in
            completion(result.flatMap { Self.decode(PositionWire.self, $0) }.map { w in
                guard let p = w.position, let s = w.estimatedWaitSeconds else { return nil }
                return QueuePosition(position: p, estimatedWaitSeconds: s)
            })
        }
    }

    /// Queues, presence counts, agents and counters. `skills` are reported even when never used.
    public func stats(skills: [String] = [], now: Int64, completion: @escaping (Result<RoutingStats, StoreError>) -> Void) {
        run("routing_stats", now: now, skills) { completion($0.flatMap(Self.routingStats)) }
    }

    // MARK: Plumbing

    func run(_ script: String, now: Int64, _ args: [String],
                     completion: @escaping (Result<RedisReply, StoreError>) -> Void) {
        runner.eval(script, keys: [prefix], args: [String(now)] + settingArgs + args) { result in
            completion(result.mapError { StoreError($0) })
        }
    }

    static func milliseconds(_ seconds: Double) -> String {
        String(Int64((seconds * 1000).rounded()))
    }

    private struct AgentWire: Encodable {
        var id: String
        var name: String
        var role: String
        var skills: [String: Int]
        var capacity: [String: Int]
        var voiceExclusive: Bool
        var endpoint: String?
    }

    static func encodeAgents(_ agents: [AgentConfig]) throws -> String {
        let wire = agents.map { a in
            AgentWire(id: a.id, name: a.name, role: a.role.rawValue, skills: a.skills,
                      capacity: Dictionary(uniqueKeysWithValues: a.capacity.map { ($0.key.rawValue, $0.value) }),
                      voiceExclusive: a.voiceExclusive, endpoint: a.voiceEndpoints)
        }
        return String(decoding: try JSONEncoder().encode(wire), as: UTF8.self)
    }

    static func text(_ reply: RedisReply) -> Result<String, StoreError> {
        guard case .bulk = reply, let s = reply.string else { return .failure(.internal("script answered \(reply)")) }
        return .success(s)
    }

    static func count(_ reply: RedisReply) -> Result<Int, StoreError> {
        guard case .integer(let n) = reply else { return .failure(.internal("script answered \(reply)")) }
        return .success(Int(n))
    }

    static func flag(_ reply: RedisReply) -> Result<Bool, StoreError> {
        count(reply).map { $0 != 0 }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ reply: RedisReply) -> Result<T, StoreError> {
        text(reply).flatMap { json in
            do {
                return .success(try JSONDecoder().decode(T.self, from: Data(json.utf8)))
            } catch {
                return .failure(.internal("unexpected \(T.self) JSON: \(json)"))
            }
        }
    }

    /// `{"position","estimatedWaitSeconds"}` while queued, else `{"status"}`.
    private struct PositionWire: Decodable {
        var position: Int?
        var estimatedWaitSeconds: Int?
    }

    private struct OutcomeWire: Decodable {
        var status: String
        var position: Int?
        var agent: String?
        var offerId: String?
    }

    static func outcome(_ reply: RedisReply) -> Result<EnqueueOutcome, StoreError> {
        decode(OutcomeWire.self, reply).flatMap { w in
            switch (w.status, w.position, w.agent, w.offerId) {
            case ("queued", let p?, _, _): return .success(.queued(position: p))
            case ("offered", _, let a?, let o?): return .success(.offered(agentId: a, offerId: o))
            case ("assigned", _, let a?, _): return .success(.assigned(agentId: a))
            default: return .failure(.internal("unexpected routing outcome \(w.status)"))
            }
        }
    }

    static func snapshot(_ reply: RedisReply) -> Result<AgentSnapshot, StoreError> {
        guard let items = reply.array, items.count == 5,
              let status = items[0].string, let presence = PresenceStatus(rawValue: status),
              let reason = items[1].string, let seq = items[2].int,
              let convs = items[3].array?.compactMap(\.string), let offers = items[4].array?.compactMap(\.string)
        else { return .failure(.internal("unexpected agent snapshot \(reply)")) }
        return .success(AgentSnapshot(presence: presence, reason: reason.isEmpty ? nil : reason,
                                      conversationsJSON: convs, offersJSON: offers, lastSeq: seq))
    }

    private struct StatsWire: Decodable {
        struct Agent: Decodable {
            var id: String
            var name: String
            var status: String
            var reason: String
            var connected: Bool
            var load: [String: Int]
        }
        var queues: [String: Int]
        var presence: [String: Int]
        var agents: [Agent]
        var counters: [String: Double]
        var waitMs: [String: Double]
    }

    static func routingStats(_ reply: RedisReply) -> Result<RoutingStats, StoreError> {
        decode(StatsWire.self, reply).map { w in
            var presence: [PresenceStatus: Int] = [:]
            for (k, v) in w.presence { if let p = PresenceStatus(rawValue: k) { presence[p] = v } }
            let agents = w.agents.map { a in
                var load: [ChannelKind: Int] = [:]
                for (k, v) in a.load { if let kind = ChannelKind(rawValue: k) { load[kind] = v } }
                return AgentRoutingState(id: a.id, name: a.name, status: PresenceStatus(rawValue: a.status) ?? .offline,
                                         reason: a.reason, connected: a.connected, load: load)
            }
            return RoutingStats(queueDepths: w.queues, presence: presence, agents: agents,
                                counters: w.counters.mapValues { Int64($0.rounded()) },
                                averageWaitMilliseconds: w.waitMs.mapValues { Int64($0.rounded()) })
        }
    }
}
