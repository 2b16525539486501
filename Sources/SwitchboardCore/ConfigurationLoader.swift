import Yams

/// Turns the one YAML configuration file into a validated `Configuration` (DESIGN §2).
///
/// Pure: the caller reads the file and passes its text and the process environment, which is
/// only consulted for `env:NAME` values. Any string value may be written `env:NAME`; production
/// keeps secrets out of the file that way.
///
/// Every problem is collected before anything is thrown: unknown keys (with a "did you mean"),
/// wrong types, out-of-range numbers, duplicate ids, references to undeclared skills, missing
/// provider secrets. The thrown `ConfigurationError` names each key path and the reason.
public enum ConfigurationLoader {
    static let topLevelKeys = [
        "listen", "public_base_url", "data_dir", "node", "redis", "tls", "limits", "routing", "skills",
        "agents", "api_keys", "visitor_token_secret", "outbox", "channels", "log_level", "retention", "agent_event_backlog",
        "media",
    ]
    /// swift-log's levels, which is what the executable maps this to.
    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
    static let minimumVisitorSecretLength = 16

    public static func load(yaml: String, environment: [String: String]) throws(ConfigurationError) -> Configuration {
        let root: Node?
        do {
            // UTF-8 explicitly: Yams' default encoding consults the process environment.
            root = try Yams.compose(yaml: yaml, .default, .default, .utf8)
        } catch {
            throw ConfigurationError(path: "(document)", reason: "not valid YAML: \(error)")
        }
        let reader = ConfigReader(environment: environment)
        let config = read(root, with: reader)
        if !reader.issues.isEmpty { throw ConfigurationError(issues: reader.issues) }
        return config
    }

    private static func read(_ root: Node?, with reader: ConfigReader) -> Configuration {
        var config = Configuration()
        // An empty file is an empty mapping: every default, no agents, no channels.
        guard let root else { return config }
        guard case .mapping = root else {
            reader.fail("(document)", "expected a mapping of settings at the top level, found \(ConfigReader.describe(root))")
            return config
        }
        guard let map = reader.mapping(root, at: "") else { return config }
        reader.checkKeys(map, allowed: topLevelKeys)

        if let text = reader.string(map, "listen") {
            switch ListenAddress.parse(text) {
            case .success(let address): config.listen = address
            case .failure(let problem): reader.fail("listen", problem.reason)
            }
        }
        config.publicBaseURL = readBaseURL(map, reader)
        config.dataDir = reader.string(map, "data_dir", default: config.dataDir)
        if config.dataDir.isEmpty { reader.fail("data_dir", "must not be empty") }
        config.node = readNode(reader.mapping(map["node"], at: "node"), reader)
        config.redis = readRedis(reader.mapping(map["redis"], at: "redis"), reader)
        config.tls = readTLS(reader.mapping(map["tls"], at: "tls"), reader)
        config.limits = readLimits(reader.mapping(map["limits"], at: "limits"), reader)
        config.routing = readRouting(reader.mapping(map["routing"], at: "routing"), reader)
        config.outbox = readOutbox(reader.mapping(map["outbox"], at: "outbox"), reader)
        if let media = reader.mapping(map["media"], at: "media") {
            reader.checkKeys(media, allowed: ["max_bytes"])
            config.mediaMaxBytes = reader.size(media, "max_bytes", default: config.mediaMaxBytes)
        }
        config.logLevel = reader.oneOf(map, "log_level", default: config.logLevel, allowed: logLevels)
        config.retention = reader.duration(map, "retention", default: config.retention)
        config.agentEventBacklog = reader.integer(map, "agent_event_backlog", default: config.agentEventBacklog, in: 100...10_000_000)

        // Skills first: agents and channels refer to them wherever they sit in the file.
        config.skills = readSkills(map, reader)
        config.agents = readAgents(map, skills: config.skills, reader)
        config.apiKeys = readAPIKeys(map, reader)
        config.channels = readChannels(map, skills: config.skills, reader)
        config.visitorTokenSecret = reader.string(map, "visitor_token_secret", default: "")
        if let web = config.channels.firstIndex(where: { $0.kind == .webchat }),
           config.visitorTokenSecret.count < minimumVisitorSecretLength, !reader.hasIssue(at: "visitor_token_secret") {
            let state = config.visitorTokenSecret.isEmpty ? "is empty" : "is shorter than \(minimumVisitorSecretLength) characters"
            reader.fail("visitor_token_secret", "\(state), but channels[\(web)] ('\(config.channels[web].id)') is a webchat channel "
                        + "whose visitor tokens it signs (use at least \(minimumVisitorSecretLength) random characters)")
        }
        return config
    }

    private static func readBaseURL(_ map: ConfigMap, _ reader: ConfigReader) -> String? {
        guard let text = reader.string(map, "public_base_url"), !text.isEmpty else { return nil }
        guard WebURL.isAbsoluteHTTP(text) else {
            reader.fail("public_base_url", "must be an http:// or https:// URL, found '\(text)'")
            return nil
        }
        // Stored without a trailing slash so callers can append `/v1/…` paths.
        var url = Substring(text)
        while url.hasSuffix("/") { url.removeLast() }
        return String(url)
    }

    private static func readNode(_ map: ConfigMap?, _ reader: ConfigReader) -> NodeSettings {
        var node = NodeSettings()
        guard let map else { return node }
        reader.checkKeys(map, allowed: ["id", "heartbeat_interval", "heartbeat_ttl"])
        node.id = reader.string(map, "id", default: node.id)
        node.heartbeatInterval = reader.duration(map, "heartbeat_interval", default: node.heartbeatInterval)
        node.heartbeatTTL = reader.duration(map, "heartbeat_ttl", default: node.heartbeatTTL)
        // A TTL within one interval lets a live node's key lapse between beats, and every other
        // node would then requeue its agents' conversations.
        if node.heartbeatTTL <= node.heartbeatInterval,
           !reader.hasIssue(at: map.path("heartbeat_ttl"), map.path("heartbeat_interval")) {
            reader.fail(map.path("heartbeat_ttl"), "must be longer than node.heartbeat_interval "
                        + "(\(format(node.heartbeatTTL)) ≤ \(format(node.heartbeatInterval)))")
        }
        return node
    }

    private static func readRedis(_ map: ConfigMap?, _ reader: ConfigReader) -> RedisSettings {
        var redis = RedisSettings()
        guard let map else { return redis }
        reader.checkKeys(map, allowed: ["url", "prefix", "appendfsync", "server_path"])
        if let url = reader.string(map, "url"), !url.isEmpty {
            if url.hasPrefix("redis://") || url.hasPrefix("unix://") {
                redis.url = url
            } else {
                reader.fail(map.path("url"), "must start with redis:// or unix://, found '\(url)'")
            }
        }
        redis.prefix = reader.string(map, "prefix", default: redis.prefix)
        // Braces would move the Cluster hash tag off `{r}` (DESIGN §8) and split the routing keys.
        if redis.prefix.contains("{") || redis.prefix.contains("}") {
            reader.fail(map.path("prefix"), "must not contain '{' or '}' (they would change the Redis Cluster hash tag)")
        }
        redis.appendfsync = reader.oneOf(map, "appendfsync", default: redis.appendfsync, allowed: ["always", "everysec", "no"])
        redis.redisServerPath = reader.string(map, "server_path", default: redis.redisServerPath)
        if redis.redisServerPath.isEmpty { reader.fail(map.path("server_path"), "must not be empty") }
        return redis
    }

    private static func readTLS(_ map: ConfigMap?, _ reader: ConfigReader) -> TLSSettings? {
        guard let map else { return nil }
        reader.checkKeys(map, allowed: ["cert", "key"])
        let cert = reader.string(map, "cert") ?? ""
        let key = reader.string(map, "key") ?? ""
        switch (cert.isEmpty, key.isEmpty) {
        case (false, false): return TLSSettings(cert: cert, key: key)
        case (true, false): reader.fail(map.path("cert"), "is required when tls.key is set")
        case (false, true): reader.fail(map.path("key"), "is required when tls.cert is set")
        case (true, true): reader.fail("tls", "needs both cert and key (or leave tls out for plain HTTP)")
        }
        return nil
    }

    private static func readLimits(_ map: ConfigMap?, _ reader: ConfigReader) -> Limits {
        var limits = Limits()
        guard let map else { return limits }
        reader.checkKeys(map, allowed: ["max_body_bytes", "max_ws_message_bytes", "max_send_queue_bytes", "auth_timeout",
                                        "public_rate_per_ip", "public_burst_per_ip", "request_timeout"])
        limits.maxBodyBytes = reader.size(map, "max_body_bytes", default: limits.maxBodyBytes)
        limits.maxWSMessageBytes = reader.size(map, "max_ws_message_bytes", default: limits.maxWSMessageBytes)
        limits.maxSendQueueBytes = reader.size(map, "max_send_queue_bytes", default: limits.maxSendQueueBytes)
        limits.authTimeout = reader.duration(map, "auth_timeout", default: limits.authTimeout)
        limits.publicRatePerIP = reader.number(map, "public_rate_per_ip", default: limits.publicRatePerIP, positive: true)
        limits.publicBurstPerIP = reader.number(map, "public_burst_per_ip", default: limits.publicBurstPerIP, positive: true)
        limits.requestTimeout = reader.duration(map, "request_timeout", default: limits.requestTimeout)
        // lws' connection timeouts count whole seconds.
        if limits.requestTimeout < 1 || limits.requestTimeout != limits.requestTimeout.rounded(),
           !reader.hasIssue(at: map.path("request_timeout")) {
            reader.fail(map.path("request_timeout"), "must be a whole number of seconds, at least 1s")
        }
        // A bucket smaller than one token never admits a request.
        if limits.publicBurstPerIP < 1, !reader.hasIssue(at: map.path("public_burst_per_ip")) {
            reader.fail(map.path("public_burst_per_ip"), "must be at least 1")
        }
        return limits
    }

    private static func readRouting(_ map: ConfigMap?, _ reader: ConfigReader) -> RoutingSettings {
        var routing = RoutingSettings()
        guard let map else { return routing }
        reader.checkKeys(map, allowed: ["offer_timeout", "offer_missed_limit", "reconnect_grace", "wrapup_seconds", "strategy",
                                        "sweep_interval", "aging_seconds_per_priority", "reoffer_after"])
        routing.offerTimeout = reader.duration(map, "offer_timeout", default: routing.offerTimeout)
        routing.offerMissedLimit = reader.integer(map, "offer_missed_limit", default: routing.offerMissedLimit, in: 1...Int.max)
        // Zero grace requeues at once on a drop; zero wrap-up makes an agent available on close.
        routing.reconnectGrace = reader.duration(map, "reconnect_grace", default: routing.reconnectGrace, allowZero: true)
        routing.wrapupSeconds = reader.duration(map, "wrapup_seconds", default: routing.wrapupSeconds, allowZero: true)
        routing.strategy = reader.choice(map, "strategy", default: routing.strategy, allowed: [.longestIdle, .leastBusy])
        routing.sweepInterval = reader.duration(map, "sweep_interval", default: routing.sweepInterval)
        routing.agingSecondsPerPriority = reader.duration(map, "aging_seconds_per_priority",
                                                          default: routing.agingSecondsPerPriority)
        // Positive: a missed offer is never handed straight back to the agent who just missed it.
        routing.reofferAfter = reader.duration(map, "reoffer_after", default: routing.reofferAfter)
        return routing
    }

    private static func readOutbox(_ map: ConfigMap?, _ reader: ConfigReader) -> OutboxSettings {
        var outbox = OutboxSettings()
        guard let map else { return outbox }
        reader.checkKeys(map, allowed: ["max_attempts", "initial_backoff", "max_backoff", "request_timeout", "claim_min_idle"])
        outbox.maxAttempts = reader.integer(map, "max_attempts", default: outbox.maxAttempts, in: 1...Int.max)
        outbox.initialBackoff = reader.duration(map, "initial_backoff", default: outbox.initialBackoff)
        outbox.maxBackoff = reader.duration(map, "max_backoff", default: outbox.maxBackoff)
        outbox.requestTimeout = reader.duration(map, "request_timeout", default: outbox.requestTimeout)
        outbox.claimMinIdle = reader.duration(map, "claim_min_idle", default: outbox.claimMinIdle)
        if outbox.maxBackoff < outbox.initialBackoff, !reader.hasIssue(at: map.path("max_backoff"), map.path("initial_backoff")) {
            reader.fail(map.path("max_backoff"), "must not be shorter than outbox.initial_backoff "
                        + "(\(format(outbox.maxBackoff)) < \(format(outbox.initialBackoff)))")
        }
        // A claim sooner than a request can take would let a second node deliver a message that
        // the first is still sending.
        if outbox.claimMinIdle <= outbox.requestTimeout,
           !reader.hasIssue(at: map.path("claim_min_idle"), map.path("request_timeout")) {
            reader.fail(map.path("claim_min_idle"), "must be longer than outbox.request_timeout "
                        + "(\(format(outbox.claimMinIdle)) ≤ \(format(outbox.requestTimeout)))")
        }
        return outbox
    }

    /// Seconds as an operator wrote them: `5s`, `0.25s`.
    static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() && abs(seconds) < 1e15 ? "\(Int(seconds))s" : "\(seconds)s"
    }
}
