import SwitchboardCore

/// Where a conversation stands after `enqueue` or `transfer` (DESIGN §7).
public enum EnqueueOutcome: Sendable, Equatable {
    /// Waiting in its skill queue at this 0-based rank: nobody eligible right now.
    case queued(position: Int)
    /// Offered to an agent (the offer event is already in that agent's stream).
    case offered(agentId: String, offerId: String)
    /// Already assigned (an idempotent repeat of enqueue).
    case assigned(agentId: String)
}

/// The destination of `conversation.transfer{toAgent|toSkill}` (DESIGN §7 "Transfer").
public enum TransferTarget: Sendable, Equatable {
    /// Offered to this agent (not forced); conflict when the agent cannot take it now.
    case agent(String)
    /// Requeued at the front of this skill's queue.
    case skill(String)
}

/// What an agent's console needs on connect, for `welcome{agent,presence,conversations}` and the
/// offers still pending (DESIGN §9). The JSON strings go to the wire as they are.
public struct AgentSnapshot: Sendable, Equatable {
    public var presence: PresenceStatus
    /// `nil` when no reason is set.
    public var reason: String?
    /// Conversation JSON objects assigned to the agent or in its wrap-up.
    public var conversationsJSON: [String]
    /// `{"offerId":…,"conversation":{…},"expiresAt":…}` for each pending, unexpired offer.
    public var offersJSON: [String]
    /// The seq of the agent's last event: a fresh console resumes after it.
    public var lastSeq: Int64

    public init(presence: PresenceStatus, reason: String?, conversationsJSON: [String], offersJSON: [String], lastSeq: Int64) {
        self.presence = presence
        self.reason = reason
        self.conversationsJSON = conversationsJSON
        self.offersJSON = offersJSON
        self.lastSeq = lastSeq
    }
}

/// What one `sweep` handled (DESIGN §7: every node sweeps; a repeat finds nothing to do).
public struct SweepOutcome: Sendable, Equatable, Decodable {
    public var expiredOffers: Int
    public var finishedWrapups: Int
    public var endedGraces: Int

    public init(expiredOffers: Int, finishedWrapups: Int, endedGraces: Int) {
        self.expiredOffers = expiredOffers
        self.finishedWrapups = finishedWrapups
        self.endedGraces = endedGraces
    }
}

/// A waiting conversation's place, for the visitor's `queue{position,estimatedWaitSeconds}`.
public struct QueuePosition: Sendable, Equatable {
    /// 0-based rank in the skill queue.
    public var position: Int
    public var estimatedWaitSeconds: Int

    public init(position: Int, estimatedWaitSeconds: Int) {
        self.position = position
        self.estimatedWaitSeconds = estimatedWaitSeconds
    }
}

/// Counts from `syncAgents`.
public struct AgentSyncOutcome: Sendable, Equatable, Decodable {
    public var created: Int
    public var updated: Int
    /// Agents no longer configured: evicted from routing and dropped from the agent list.
    public var removed: Int

    public init(created: Int, updated: Int, removed: Int) {
        self.created = created
        self.updated = updated
        self.removed = removed
    }
}

/// One agent's routing state, for GET /v1/agents and the supervisors' board.
public struct AgentRoutingState: Sendable, Equatable {
    public var id: String
    public var name: String
    public var status: PresenceStatus
    /// Empty when none.
    public var reason: String
    public var connected: Bool
    /// Offered + assigned + wrap-up conversations per kind.
    public var load: [ChannelKind: Int]

    public init(id: String, name: String, status: PresenceStatus, reason: String, connected: Bool, load: [ChannelKind: Int]) {
        self.id = id
        self.name = name
        self.status = status
        self.reason = reason
        self.connected = connected
        self.load = load
    }
}

/// The routing picture for `/metrics`, GET /v1/queues and GET /v1/agents (DESIGN §9).
public struct RoutingStats: Sendable, Equatable {
    /// Waiting conversations per skill.
    public var queueDepths: [String: Int]
    /// Agents per presence.
    public var presence: [PresenceStatus: Int]
    /// Every configured agent, sorted by id.
    public var agents: [AgentRoutingState]
    /// Cluster-wide counters: offers_made, offers_accepted, offers_rejected, offers_timeout,
    /// enqueued, abandoned, closed, requeued, transfers (and the Store's own counters).
    public var counters: [String: Int64]
    /// Moving average of queued → accepted, per skill; the key `*` is the overall one.
    public var averageWaitMilliseconds: [String: Int64]

    public init(queueDepths: [String: Int], presence: [PresenceStatus: Int], agents: [AgentRoutingState],
                counters: [String: Int64], averageWaitMilliseconds: [String: Int64]) {
        self.queueDepths = queueDepths
        self.presence = presence
        self.agents = agents
        self.counters = counters
        self.averageWaitMilliseconds = averageWaitMilliseconds
    }
}
