/// The whole broker configuration: one YAML file decoded and validated into this value
/// (DESIGN §2). Durations are seconds (`Double`); the YAML accepts `20s`, `500ms`, `5m`, `2h`, `90d`
/// or a bare number of seconds. Secrets are already resolved (`env:NAME` read by the loader).
public struct Configuration: Sendable, Equatable {
    public var listen: ListenAddress
    public var publicBaseURL: String?
    public var dataDir: String
    public var node: NodeSettings
    public var redis: RedisSettings
    public var tls: TLSSettings?
    public var limits: Limits
    public var routing: RoutingSettings
    public var skills: [String]
    public var agents: [AgentConfig]
    public var apiKeys: [APIKeyConfig]
    public var channels: [ChannelConfig]
    public var outbox: OutboxSettings
    /// HMAC key for visitor tokens (web chat). Resolved secret.
    public var visitorTokenSecret: String
    public var logLevel: String
    /// How long closed and abandoned conversations (hash, log, statuses) are kept: records kept
    /// ≥ 3 months (DESIGN §1), so 90 days by default.
    public var retention: Double = 90 * 86_400
    /// Events kept per agent stream for `resume` (approximate trim, `XADD MAXLEN ~`).
    public var agentEventBacklog: Int = 10_000
    /// The largest media blob kept (`media.max_bytes`, DESIGN §10.8): 10 MiB by default, the
    /// WeChat limit for a temporary image.
    public var mediaMaxBytes: Int = 10 << 20

    public init(listen: ListenAddress = ListenAddress(host: "127.0.0.1", port: 8080), publicBaseURL: String? = nil,
                dataDir: String = "./var", node: NodeSettings = NodeSettings(), redis: RedisSettings = RedisSettings(),
                tls: TLSSettings? = nil, limits: Limits = Limits(), routing: RoutingSettings = RoutingSettings(),
                skills: [String] = [], agents: [AgentConfig] = [], apiKeys: [APIKeyConfig] = [],
                channels: [ChannelConfig] = [], outbox: OutboxSettings = OutboxSettings(),
                visitorTokenSecret: String = "", logLevel: String = "info") {
        self.listen = listen
        self.publicBaseURL = publicBaseURL
        self.dataDir = dataDir
        self.node = node
        self.redis = redis
        self.tls = tls
        self.limits = limits
        self.routing = routing
        self.skills = skills
        self.agents = agents
        self.apiKeys = apiKeys
        self.channels = channels
        self.outbox = outbox
        self.visitorTokenSecret = visitorTokenSecret
        self.logLevel = logLevel
    }

    public func channel(id: String) -> ChannelConfig? { channels.first { $0.id == id } }
    public func agent(id: String) -> AgentConfig? { agents.first { $0.id == id } }
}

public struct ListenAddress: Sendable, Equatable {
    public var host: String
    public var port: Int
    public init(host: String, port: Int) { self.host = host; self.port = port }
}

public struct NodeSettings: Sendable, Equatable {
    /// Unique per process sharing one Redis. Empty: the loader fills in `hostname-pid` at start.
    public var id: String
    public var heartbeatInterval: Double
    public var heartbeatTTL: Double
    public init(id: String = "", heartbeatInterval: Double = 1, heartbeatTTL: Double = 5) {
        self.id = id; self.heartbeatInterval = heartbeatInterval; self.heartbeatTTL = heartbeatTTL
    }
}

public struct RedisSettings: Sendable, Equatable {
    /// `redis://host:port[/db]` or `unix:///path/to.sock`. `nil`: the broker starts and owns a
    /// `redis-server` child under `data_dir` (DESIGN §2).
    public var url: String?
    public var prefix: String
    /// For the managed child: `always` by default (DESIGN §11).
    public var appendfsync: String
    public var redisServerPath: String
    public init(url: String? = nil, prefix: String = "sb:", appendfsync: String = "always", redisServerPath: String = "redis-server") {
        self.url = url; self.prefix = prefix; self.appendfsync = appendfsync; self.redisServerPath = redisServerPath
    }
}

public struct TLSSettings: Sendable, Equatable {
    public var cert: String
    public var key: String
    public init(cert: String, key: String) { self.cert = cert; self.key = key }
}

public struct Limits: Sendable, Equatable {
    public var maxBodyBytes: Int
    public var maxWSMessageBytes: Int
    public var maxSendQueueBytes: Int
    public var authTimeout: Double
    /// Requests per second per IP on public endpoints (visitor WS, unsigned webhooks).
    public var publicRatePerIP: Double
    public var publicBurstPerIP: Double
    /// Seconds an HTTP request may take to arrive, headers and body (`limits.request_timeout`, issue
    /// 9): a request still incomplete by then is answered 408 or, before its headers are in, closed.
    /// Whole seconds (lws' connection timeouts are), at least 1.
    public var requestTimeout: Double
    public init(maxBodyBytes: Int = 1 << 20, maxWSMessageBytes: Int = 64 << 10, maxSendQueueBytes: Int = 4 << 20,
                authTimeout: Double = 5, publicRatePerIP: Double = 20, publicBurstPerIP: Double = 40, requestTimeout: Double = 10) {
        self.maxBodyBytes = maxBodyBytes; self.maxWSMessageBytes = maxWSMessageBytes; self.maxSendQueueBytes = maxSendQueueBytes
        self.authTimeout = authTimeout; self.publicRatePerIP = publicRatePerIP; self.publicBurstPerIP = publicBurstPerIP
        self.requestTimeout = requestTimeout
    }
}

/// Routing knobs (DESIGN §7).
public struct RoutingSettings: Sendable, Equatable {
    public enum Strategy: String, Sendable, Equatable { case longestIdle = "longest_idle", leastBusy = "least_busy" }
    public var offerTimeout: Double
    public var offerMissedLimit: Int
    public var reconnectGrace: Double
    public var wrapupSeconds: Double
    public var strategy: Strategy
    /// How often each node sweeps expired offers, ended wrap-ups and ended grace periods.
    public var sweepInterval: Double
    /// Seconds of waiting worth one priority step in a queue's rank (FreeSWITCH-style aging).
    public var agingSecondsPerPriority: Double
    /// Seconds after an agent rejected or missed a conversation before it may be offered to them
    /// again, and then only when no other eligible agent exists (DESIGN §7 "Re-offer").
    public var reofferAfter: Double
    public init(offerTimeout: Double = 20, offerMissedLimit: Int = 2, reconnectGrace: Double = 30, wrapupSeconds: Double = 10,
                strategy: Strategy = .longestIdle, sweepInterval: Double = 0.25, agingSecondsPerPriority: Double = 60,
                reofferAfter: Double = 30) {
        self.offerTimeout = offerTimeout; self.offerMissedLimit = offerMissedLimit; self.reconnectGrace = reconnectGrace
        self.wrapupSeconds = wrapupSeconds; self.strategy = strategy; self.sweepInterval = sweepInterval
        self.agingSecondsPerPriority = agingSecondsPerPriority; self.reofferAfter = reofferAfter
    }
}

public struct AgentConfig: Sendable, Equatable {
    public enum Role: String, Sendable, Equatable { case agent, supervisor, admin }
    public var id: String
    public var name: String
    public var role: Role
    /// Lower-case hex SHA-256 of the agent's login token (DESIGN §11: only hashes are stored).
    public var tokenSHA256: String
    /// Skill name → level 1…10.
    public var skills: [String: Int]
    /// Concurrent conversations per channel kind. A kind not listed is 0: never offered.
    public var capacity: [ChannelKind: Int]
    /// Where an accepted call is bridged (issue 10): the agent's phone (E.164) and/or SIP address
    /// (`sip:1001@pbx.example`); each voice channel dials the one its platform reaches best
    /// (`voiceEndpoint(preferSIP:)`). Neither: the agent takes no calls.
    public var phone: String?
    public var sip: String?
    /// An agent on a call gets no other offer (DESIGN §6, the default); false lets chats continue.
    public var voiceExclusive: Bool
    public init(id: String, name: String, role: Role = .agent, tokenSHA256: String, skills: [String: Int], capacity: [ChannelKind: Int],
                phone: String? = nil, sip: String? = nil, voiceExclusive: Bool = true) {
        self.id = id; self.name = name; self.role = role; self.tokenSHA256 = tokenSHA256; self.skills = skills; self.capacity = capacity
        self.phone = phone; self.sip = sip; self.voiceExclusive = voiceExclusive
    }

    /// The endpoint a bridge dials: the SIP address first for a PBX (`preferSIP`), the phone first
    /// for Twilio (a PSTN number; `<Sip>` works there too when it is all the agent has).
    public func voiceEndpoint(preferSIP: Bool) -> String? {
        preferSIP ? (sip ?? phone) : (phone ?? sip)
    }

    /// Every endpoint, as the call scripts carry them (space-separated; neither form has a space).
    public var voiceEndpoints: String? {
        let all = [phone, sip].compactMap { $0 }
        return all.isEmpty ? nil : all.joined(separator: " ")
    }

    /// Picks from `voiceEndpoints` text the one a platform dials best.
    public static func voiceEndpoint(from endpoints: String, preferSIP: Bool) -> String? {
        let all = endpoints.split(separator: " ").map(String.init)
        let sip = all.first { $0.lowercased().hasPrefix("sip") }
        let phone = all.first { !$0.lowercased().hasPrefix("sip") }
        return preferSIP ? (sip ?? phone) : (phone ?? sip)
    }
}

public struct APIKeyConfig: Sendable, Equatable {
    public var id: String
    public var keySHA256: String
    public init(id: String, keySHA256: String) { self.id = id; self.keySHA256 = keySHA256 }
}

public struct OutboxSettings: Sendable, Equatable {
    public var maxAttempts: Int
    public var initialBackoff: Double
    public var maxBackoff: Double
    public var requestTimeout: Double
    /// XAUTOCLAIM min-idle: a pending entry older than this is taken over from its (dead) consumer.
    public var claimMinIdle: Double
    public init(maxAttempts: Int = 6, initialBackoff: Double = 1, maxBackoff: Double = 300, requestTimeout: Double = 10, claimMinIdle: Double = 60) {
        self.maxAttempts = maxAttempts; self.initialBackoff = initialBackoff; self.maxBackoff = maxBackoff
        self.requestTimeout = requestTimeout; self.claimMinIdle = claimMinIdle
    }
}

/// One configured channel instance, e.g. `sms-main` (kind `sms`, provider `twilio`).
public struct ChannelConfig: Sendable, Equatable {
    public var id: String
    public var kind: ChannelKind
    /// `twilio`, `aliyun`, `tencent`, `generic` for SMS; nil where the kind has one protocol.
    public var provider: String?
    /// The skill new conversations from this channel queue for.
    public var skill: String
    public var priority: Int
    /// Provider secrets and settings, already resolved: `auth_token`, `public_url`, `hmac_secret`, …
    public var settings: [String: String]
    public var outbound: OutboundSettings?
    public init(id: String, kind: ChannelKind, provider: String? = nil, skill: String, priority: Int = 0,
                settings: [String: String] = [:], outbound: OutboundSettings? = nil) {
        self.id = id; self.kind = kind; self.provider = provider; self.skill = skill; self.priority = priority
        self.settings = settings; self.outbound = outbound
    }
}

/// Where replies go for a provider channel (a Twilio Messages API–style endpoint for SMS).
public struct OutboundSettings: Sendable, Equatable {
    public var url: String
    public var accountSid: String?
    /// Basic-auth password for the gateway; defaults to the channel's `auth_token`.
    public var authToken: String?
    public var from: String?
    public init(url: String, accountSid: String? = nil, authToken: String? = nil, from: String? = nil) {
        self.url = url; self.accountSid = accountSid; self.authToken = authToken; self.from = from
    }
}
