import SwitchboardCore

/// Every Redis key of the broker (DESIGN §8), in one registry: the only place a key's pattern is
/// spelled. The Lua scripts get it as the `K` table, generated from this registry at the top of the
/// script library (`RedisKey.luaDefinitions`, ScriptLibrary), and Swift code gets it through
/// `RedisKeys`. A key that moves (DESIGN §8 "Toward Redis Cluster": every key of a centre under one
/// hash tag) changes here, and nowhere else; docs/architecture.md §5.5 lists the same table.
///
/// A pattern is literal text (after the configured prefix) and `<name>` parameters, filled in order:
/// `conv:{<conv>}:log` is `K.log(conv)` in Lua and `keys(.log, conv)` in Swift. Literal text never
/// needs escaping (letters, digits, `:`, `{`, `}`, `_`), and the generated Lua concatenates exactly
/// what the hand-written builders did, so no script does more work per key.
public enum RedisKey: String, CaseIterable, Sendable {
    // Routing state, one hash tag `{r}` (DESIGN §7, §8).
    case agent, agents, avail, queue, offers, offer, agentOffers, agentConvs
    case wrapups, grace, stats, seq, config, skills, reoffer, callbacks
    // A conversation's keys, tagged with its id.
    case conv, log, declined, msgStatus, clients
    // Contacts and the message flow.
    case contact, contactConvs, ident, open, closed, dedup, pmid, events, outbox, outboxDelayed, deadletter
    // Nodes.
    case node, nodes
    // Channel state the Store writes directly (DESIGN §10.1, §14).
    case optOut, credential, credentialLock, pullCursor, pullLock, pullPending, media
    // Phone calls (DESIGN §10.5).
    case call, recording

    /// A key's registry entry.
    public struct Definition: Sendable {
        /// After the prefix, e.g. `{r}:agent:<id>`.
        public let pattern: String
        /// The Redis type, with its expiry when it has one (`string, EX`).
        public let type: String
        /// Who writes it: scripts (by file name) or Swift types.
        public let owner: String
        /// What it holds.
        public let holds: String
    }

    public var definition: Definition {
        switch self {
        case .agent: Definition(pattern: "{r}:agent:<id>", type: "hash", owner: "agent_sync, routing scripts",
                                holds: "status, node, connected, capacity and load per kind, skills, idleSince, missed count, event seq")
        case .agents: Definition(pattern: "{r}:agents", type: "set", owner: "agent_sync", holds: "configured agent ids")
        case .avail: Definition(pattern: "{r}:avail:<skill>", type: "zset", owner: "routing scripts",
                                holds: "available agents, by idleSince")
        case .queue: Definition(pattern: "{r}:queue:<skill>", type: "zset", owner: "enqueue, routing scripts",
                                holds: "waiting conversation ids, by rank")
        case .offers: Definition(pattern: "{r}:offers", type: "zset", owner: "routing scripts", holds: "offer ids, by deadline")
        case .offer: Definition(pattern: "{r}:offer:<id>", type: "hash", owner: "routing scripts", holds: "the offer")
        case .agentOffers: Definition(pattern: "{r}:agent:<id>:offers", type: "set", owner: "routing scripts",
                                      holds: "the agent's open offers")
        case .agentConvs: Definition(pattern: "{r}:agent:<id>:convs", type: "set", owner: "offer_accept, routing scripts",
                                     holds: "the agent's assigned and wrap-up conversations")
        case .wrapups: Definition(pattern: "{r}:wrapups", type: "zset", owner: "close, sweep", holds: "conversation → wrap-up end")
        case .grace: Definition(pattern: "{r}:grace", type: "zset", owner: "agent_disconnect, node_lost, sweep",
                                holds: "agent → reconnect grace end")
        case .stats: Definition(pattern: "{r}:stats", type: "hash", owner: "scripts",
                                holds: "cluster-wide counters (offers, enqueued, abandoned, …) and wait averages")
        case .seq: Definition(pattern: "{r}:seq", type: "hash", owner: "scripts (new_id)",
                              holds: "id counters for offers, conversations, contacts")
        case .config: Definition(pattern: "{r}:config", type: "hash", owner: "RedisReadiness (every node, on connecting)",
                                 holds: "retention_ms, agent_event_backlog: read by the scripts")
        case .skills: Definition(pattern: "{r}:skills", type: "set", owner: "agent_sync, routing scripts", holds: "skill names seen")
        case .reoffer: Definition(pattern: "{r}:reoffer", type: "zset", owner: "routing scripts, sweep",
                                  holds: "conversation → when its earliest re-offer cooldown ends")
        case .conv: Definition(pattern: "conv:{<conv>}", type: "hash", owner: "ingest, routing scripts", holds: "conversation fields")
        case .log: Definition(pattern: "conv:{<conv>}:log", type: "stream", owner: "ingest, send, transfer",
                              holds: "messages, in order; trimmed by retention")
        case .declined: Definition(pattern: "conv:{<conv>}:declined", type: "zset", owner: "routing scripts",
                                   holds: "agent → when it rejected, missed or transferred away this conversation")
        case .msgStatus: Definition(pattern: "conv:{<conv>}:status", type: "hash", owner: "send, outbox_complete, provider_status",
                                    holds: "message id → delivery status (and `<id>:error`, `<id>:hint`)")
        case .clients: Definition(pattern: "conv:{<conv>}:clients", type: "hash", owner: "send",
                                  holds: "clientId → message id (idempotent sends)")
        case .contact: Definition(pattern: "contact:<id>", type: "hash", owner: "ingest", holds: "the contact")
        case .contactConvs: Definition(pattern: "contact:<contact>:convs", type: "zset", owner: "ingest, voice_call",
                                       holds: "the contact's conversations on every channel, by creation (contact_history)")
        case .ident: Definition(pattern: "ident:<kind>:<addr>", type: "string", owner: "ingest", holds: "identity → contact id")
        case .open: Definition(pattern: "contact:<contact>:open:<channel>", type: "string", owner: "ingest, close",
                               holds: "the contact's open conversation on a channel")
        case .closed: Definition(pattern: "contact:<contact>:closed:<channel>", type: "string", owner: "close (RENAME of open)",
                                 holds: "the contact's most recently closed conversation on a channel")
        case .dedup: Definition(pattern: "dedup:<channel>:<ext>", type: "string, EX", owner: "ingest",
                                holds: "provider-id deduplication: `<conv> <msg> <contact>`")
        case .pmid: Definition(pattern: "pmid:<channel>:<provider_id>", type: "string, EX 7 d", owner: "outbox_complete",
                               holds: "provider message id → `<conv> <msg>` for status callbacks")
        case .events: Definition(pattern: "agent:<agent>:events", type: "stream", owner: "scripts (emit_agent)",
                                 holds: "every event sent to an agent; its ids are the resume sequence")
        case .outbox: Definition(pattern: "outbox", type: "stream + consumer group", owner: "send, outbox_complete, outbox_promote",
                                 holds: "outbound deliveries, with retries")
        case .outboxDelayed: Definition(pattern: "outbox:delayed", type: "zset", owner: "outbox_complete, outbox_promote",
                                        holds: "retries waiting for their backoff")
        case .deadletter: Definition(pattern: "deadletter", type: "stream", owner: "outbox_complete, outbox_promote",
                                     holds: "deliveries that ran out of attempts")
        case .node: Definition(pattern: "node:<id>", type: "string, PX; pub/sub channel", owner: "NodeWatcher",
                               holds: "node heartbeat; the channel carries pushes to sockets held there")
        case .nodes: Definition(pattern: "nodes", type: "set", owner: "NodeWatcher", holds: "node ids that have heartbeaten")
        case .optOut: Definition(pattern: "optout:<channel>:<kind>:<address>", type: "string", owner: "Store (opt-out)",
                                 holds: "set while a contact is opted out of proactive messages; when (ms)")
        case .credential: Definition(pattern: "cred:<cache_key>", type: "string, PX", owner: "CredentialCache",
                                     holds: "a provider account's shared access token")
        case .credentialLock: Definition(pattern: "cred:<cache_key>:lock", type: "string, PX", owner: "CredentialCache",
                                         holds: "held by the one node refreshing that token")
        case .pullCursor: Definition(pattern: "pull:<channel>:<source>:cursor", type: "string", owner: "PullRunner",
                                     holds: "where the next pull of one source starts")
        case .pullLock: Definition(pattern: "pull:<channel>:<source>:lock", type: "string, PX", owner: "PullRunner",
                                   holds: "held by the one node pulling that source")
        case .pullPending: Definition(pattern: "pull:<channel>:<source>:pending", type: "string, EX", owner: "PullRunner",
                                      holds: "a trigger not pulled yet (its token)")
        case .media: Definition(pattern: "media:<channel>:<media_id>", type: "hash, EX retention", owner: "MediaService (Store media)",
                                holds: "one provider media item: conv, mime, name, size, data (the bytes)")
        case .callbacks: Definition(pattern: "{r}:callbacks", type: "zset", owner: "voice_callback, sweep",
                                    holds: "call-back tasks waiting for their next try, by when it is due")
        case .recording: Definition(pattern: "recording:<channel>:<id>", type: "hash, PX retention", owner: "voice_call",
                                    holds: "a voicemail recording: its URL at the platform, conversation, duration (served by the recording proxy)")
        case .call: Definition(pattern: "call:<channel>:<call>", type: "hash, EX 2 d", owner: "voice_call",
                               holds: "one phone call: its CallRecord JSON (r), version (v), conversation (conv)")
        }
    }

    /// One piece of a pattern.
    enum Segment: Equatable, Sendable {
        case literal(String)
        case parameter(String)
    }

    /// The pattern split into literal text and parameters.
    var segments: [Segment] { Self.parsed[self] ?? [] }

    /// The parameters' names, in order.
    public var parameters: [String] {
        segments.compactMap { if case .parameter(let name) = $0 { name } else { nil } }
    }

    /// The name of its builder in the scripts' `K` table: the case name in snake case
    /// (`agentOffers` → `K.agent_offers`).
    public var luaName: String {
        var out = ""
        for ch in rawValue {
            if ch.isUppercase { out += "_" + ch.lowercased() } else { out.append(ch) }
        }
        return out
    }

    private static let parsed: [RedisKey: [Segment]] = {
        var table: [RedisKey: [Segment]] = [:]
        for key in allCases { table[key] = parse(key.definition.pattern) }
        return table
    }()

    static func parse(_ pattern: String) -> [Segment] {
        var segments: [Segment] = []
        var rest = Substring(pattern)
        while let open = rest.firstIndex(of: "<"), let close = rest[open...].firstIndex(of: ">") {
            if open > rest.startIndex { segments.append(.literal(String(rest[..<open]))) }
            segments.append(.parameter(String(rest[rest.index(after: open)..<close])))
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { segments.append(.literal(String(rest))) }
        return segments
    }

    /// This key's builder in the scripts' `K` table, e.g.
    /// `function K.log(conv) return P .. 'conv:{' .. conv .. '}:log' end`.
    public var luaDefinition: String {
        let parts = ["P"] + segments.map { segment -> String in
            switch segment {
            case .literal(let text): "'" + text + "'"
            case .parameter(let name): name
            }
        }
        return "function K.\(luaName)(\(parameters.joined(separator: ", "))) return \(parts.joined(separator: " .. ")) end"
    }

    /// The `K` table of the script library: `local K = {}` and one builder per key.
    public static var luaDefinitions: String {
        (["-- The key registry (RedisKeys.swift): K.<name>(…) builds a key from P, the prefix.", "local K = {}"]
            + allCases.map(\.luaDefinition)).joined(separator: "\n") + "\n"
    }
}

/// Builds key names with the configured prefix (`sb:` by default) from the `RedisKey` registry.
/// `keys(.log, conv)` is `sb:conv:{<conv>}:log`, the same text as `K.log(conv)` in the scripts.
public struct RedisKeys: Sendable {
    public let prefix: String

    public init(prefix: String) {
        self.prefix = prefix
    }

    /// The key `key` with `arguments` filling its parameters, in order. Traps on a wrong count: a
    /// call site that does not match the registry is a programming error.
    public func callAsFunction(_ key: RedisKey, _ arguments: String...) -> String {
        build(key, arguments)
    }

    public func build(_ key: RedisKey, _ arguments: [String]) -> String {
        var name = prefix
        var next = 0
        for segment in key.segments {
            switch segment {
            case .literal(let text): name += text
            case .parameter:
                precondition(next < arguments.count, "key \(key) needs \(key.parameters.count) arguments")
                name += arguments[next]
                next += 1
            }
        }
        precondition(next == arguments.count, "key \(key) needs \(key.parameters.count) arguments")
        return name
    }

    // The keys Swift code writes directly, named for their call sites.

    /// The commands' stream of outbound deliveries (DESIGN §11).
    public var outbox: String { self(.outbox) }
    /// The broker settings the scripts read, written by every node when it connects.
    public var config: String { self(.config) }
    /// The ids of the nodes that have heartbeaten.
    public var nodes: String { self(.nodes) }
    /// A node's heartbeat key, and the pub/sub channel of pushes to the sockets it holds.
    public func node(_ id: String) -> String { self(.node, id) }

    /// Set while a contact is opted out of proactive messages on a channel (DESIGN §14; WeChat
    /// `unsubscribe`, SMS `TD`). Value: when (ms).
    public func optOut(channel: String, identity: Identity) -> String {
        self(.optOut, channel, identity.kind.rawValue, identity.address)
    }

    /// The shared access token of one provider account (`CredentialSource.cacheKey`), kept until
    /// it expires (DESIGN §10.1 "Credentials").
    public func credential(_ cacheKey: String) -> String { self(.credential, cacheKey) }
    /// Held by the one node refreshing that token.
    public func credentialLock(_ cacheKey: String) -> String { self(.credentialLock, cacheKey) }

    /// Where the next pull of one source starts (WeCom `sync_msg` cursor per `open_kfid`).
    public func pullCursor(channel: String, source: String) -> String { self(.pullCursor, channel, source) }
    /// Held by the one node pulling that source.
    public func pullLock(channel: String, source: String) -> String { self(.pullLock, channel, source) }
    /// A trigger that has not been pulled yet (its token), so a trigger that arrives while another
    /// node pulls is not lost: that node pulls again before it lets go.
    public func pullPending(channel: String, source: String) -> String { self(.pullPending, channel, source) }

    /// One conversation's hash (the scripts' `K.conv`).
    public func conversation(_ id: String) -> String { self(.conv, id) }

    /// One provider media item fetched for a conversation (DESIGN §10.8).
    public func media(channel: String, mediaId: String) -> String { self(.media, channel, mediaId) }
}
