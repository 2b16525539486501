import Foundation
import XCTest
@testable import SwitchboardCore

final class ConfigurationLoaderTests: XCTestCase {
    static let hashA = String(repeating: "a", count: 64)
    static let hashB = String(repeating: "b", count: 64)
    static let hashC = String(repeating: "c", count: 64)

    /// Every key of the documented shape, with values that differ from the defaults.
    static let full = """
    listen: "[::1]:9443"
    public_base_url: https://example.org/
    data_dir: /srv/switchboard
    node: { id: "node-1", heartbeat_interval: 2s, heartbeat_ttl: 10s }
    redis: { url: redis://10.0.0.5:6379/2, prefix: "hotline:", appendfsync: everysec }
    tls: { cert: /etc/sb/cert.pem, key: /etc/sb/key.pem }
    limits: { max_body_bytes: 2MiB, max_ws_message_bytes: 32KiB, max_send_queue_bytes: 512KB, auth_timeout: 3s, public_rate_per_ip: 5, public_burst_per_ip: 10.5, request_timeout: 2s }
    routing: { offer_timeout: 15s, offer_missed_limit: 3, reconnect_grace: 1m, wrapup_seconds: 0, strategy: least_busy, sweep_interval: 100ms, aging_seconds_per_priority: 2m, reoffer_after: 45s }
    skills: [general, complaints, 投诉]
    agents:
      - { id: a1, name: 王芳, role: agent, token_sha256: "\(hashA)", skills: { general: 5 }, capacity: { webchat: 3, sms: 3 } }
      - { id: a2, name: 李强, role: supervisor, token_sha256: "\(hashB)", skills: { general: 3, complaints: 7, 投诉: 10 }, capacity: { voice: 1, email: 0 }, sip: "sip:1002@pbx.example" }
    api_keys: [ { id: bot, key_sha256: "\(hashC)" } ]
    visitor_token_secret: env:VISITOR_SECRET
    outbox: { max_attempts: 8, initial_backoff: 500ms, max_backoff: 10m, request_timeout: 5s, claim_min_idle: 90d }
    channels:
      - { id: web, kind: webchat, skill: general }
      - { id: sms-main, kind: sms, provider: twilio, auth_token: env:TWILIO_AUTH_TOKEN, public_url: "https://example.org/v1/channels/sms-main/twilio", skill: complaints, priority: 4, bot_first: true,
          outbound: { url: "http://127.0.0.1:9000/2010-04-01/Accounts/AC1/Messages.json", account_sid: AC1, from: "+8610690000" } }
      - { id: sms-ali, kind: sms, provider: aliyun, skill: general, outbound: { url: "https://dysmsapi.example/send", auth_token: env:ALI_KEY } }
    log_level: debug
    """

    static let env = ["VISITOR_SECRET": "0123456789abcdef-secret", "TWILIO_AUTH_TOKEN": "tw-token", "ALI_KEY": "ali-key"]

    func testFullConfigurationLoadsEveryKey() throws {
        let c = try ConfigurationLoader.load(yaml: Self.full, environment: Self.env)
        XCTAssertEqual(c.listen, ListenAddress(host: "::1", port: 9443))
        XCTAssertEqual(c.publicBaseURL, "https://example.org")
        XCTAssertEqual(c.dataDir, "/srv/switchboard")
        XCTAssertEqual(c.node, NodeSettings(id: "node-1", heartbeatInterval: 2, heartbeatTTL: 10))
        XCTAssertEqual(c.redis, RedisSettings(url: "redis://10.0.0.5:6379/2", prefix: "hotline:", appendfsync: "everysec"))
        XCTAssertEqual(c.tls, TLSSettings(cert: "/etc/sb/cert.pem", key: "/etc/sb/key.pem"))
        XCTAssertEqual(c.limits, Limits(maxBodyBytes: 2 << 20, maxWSMessageBytes: 32 << 10, maxSendQueueBytes: 512_000,
                                        authTimeout: 3, publicRatePerIP: 5, publicBurstPerIP: 10.5, requestTimeout: 2))
        XCTAssertEqual(c.routing, RoutingSettings(offerTimeout: 15, offerMissedLimit: 3, reconnectGrace: 60, wrapupSeconds: 0,
                                                  strategy: .leastBusy, sweepInterval: 0.1, agingSecondsPerPriority: 120,
                                                  reofferAfter: 45))
        XCTAssertEqual(c.skills, ["general", "complaints", "投诉"])
        XCTAssertEqual(c.agents, [
            AgentConfig(id: "a1", name: "王芳", role: .agent, tokenSHA256: Self.hashA, skills: ["general": 5],
                        capacity: [.webchat: 3, .sms: 3]),
            AgentConfig(id: "a2", name: "李强", role: .supervisor, tokenSHA256: Self.hashB,
                        skills: ["general": 3, "complaints": 7, "投诉": 10], capacity: [.voice: 1, .email: 0], sip: "sip:1002@pbx.example"),
        ])
        XCTAssertEqual(c.apiKeys, [APIKeyConfig(id: "bot", keySHA256: Self.hashC)])
        XCTAssertEqual(c.visitorTokenSecret, "0123456789abcdef-secret")
        XCTAssertEqual(c.outbox, OutboxSettings(maxAttempts: 8, initialBackoff: 0.5, maxBackoff: 600, requestTimeout: 5,
                                                claimMinIdle: 90 * 86_400))
        XCTAssertEqual(c.logLevel, "debug")
        XCTAssertEqual(c.channels.count, 3)
        XCTAssertEqual(c.channel(id: "web"), ChannelConfig(id: "web", kind: .webchat, skill: "general"))
        XCTAssertEqual(c.channel(id: "sms-main"), ChannelConfig(
            id: "sms-main", kind: .sms, provider: "twilio", skill: "complaints", priority: 4,
            settings: ["auth_token": "tw-token", "public_url": "https://example.org/v1/channels/sms-main/twilio", "bot_first": "true"],
            outbound: OutboundSettings(url: "http://127.0.0.1:9000/2010-04-01/Accounts/AC1/Messages.json", accountSid: "AC1",
                                       authToken: "tw-token", from: "+8610690000")))
        XCTAssertEqual(c.channel(id: "sms-ali")?.outbound?.authToken, "ali-key", "an outbound token of its own wins")
        XCTAssertEqual(c.agent(id: "a2")?.name, "李强")
    }

    func testEmptyDocumentGivesDefaults() throws {
        XCTAssertEqual(try ConfigurationLoader.load(yaml: "", environment: [:]), Configuration())
        XCTAssertEqual(try ConfigurationLoader.load(yaml: "# only a comment\n", environment: [:]), Configuration())
    }

    func testRetentionAndEventBacklog() throws {
        XCTAssertEqual(Configuration().retention, 90 * 86_400, "records are kept three months by default (DESIGN §1)")
        let c = try ConfigurationLoader.load(yaml: "retention: 120d\nagent_event_backlog: 5000\n", environment: [:])
        XCTAssertEqual(c.retention, 120 * 86_400)
        XCTAssertEqual(c.agentEventBacklog, 5000)
        XCTAssertEqual(loadError("agent_event_backlog: 10\n").paths, ["agent_event_backlog"])
        XCTAssertEqual(loadError("retention: soon\n").paths, ["retention"])
    }

    func testOmittedRedisURLMeansManagedRedis() throws {
        let c = try ConfigurationLoader.load(yaml: "redis: { prefix: \"x:\" }\n", environment: [:])
        XCTAssertNil(c.redis.url)
        XCTAssertEqual(c.redis.appendfsync, "always", "the managed Redis fsyncs every write by default (DESIGN §11)")
        XCTAssertEqual(c.redis.prefix, "x:")
    }

    func testUnixSocketRedisURLAndQuotedPlainListen() throws {
        let c = try ConfigurationLoader.load(yaml: "listen: localhost:80\nredis: { url: unix:///run/redis.sock }\n", environment: [:])
        XCTAssertEqual(c.redis.url, "unix:///run/redis.sock")
        XCTAssertEqual(c.listen, ListenAddress(host: "localhost", port: 80))
    }

    func testEnvironmentSecretsAnywhere() throws {
        let yaml = "listen: env:LISTEN\ndata_dir: env:DATA\nrouting: { offer_timeout: env:OFFER }\n"
        let c = try ConfigurationLoader.load(yaml: yaml, environment: ["LISTEN": "0.0.0.0:8443", "DATA": "/data", "OFFER": "45s"])
        XCTAssertEqual(c.listen, ListenAddress(host: "0.0.0.0", port: 8443))
        XCTAssertEqual(c.dataDir, "/data")
        XCTAssertEqual(c.routing.offerTimeout, 45)
    }

    func testMissingEnvironmentVariableNamesKeyAndVariable() {
        let error = loadError(Self.full, environment: ["VISITOR_SECRET": "0123456789abcdef-secret", "ALI_KEY": "k"])
        XCTAssertEqual(error.issues, [.init(path: "channels[1].auth_token", reason: "environment variable 'TWILIO_AUTH_TOKEN' is not set")])
    }

    func testMergeKeysShareSettings() throws {
        let yaml = """
        skills: [general]
        agents:
          - &first { id: a1, role: supervisor, token_sha256: "\(Self.hashA)", skills: { general: 4 }, capacity: { webchat: 2 } }
          - { <<: *first, id: a2, token_sha256: "\(Self.hashB)", capacity: { sms: 1 } }
        """
        let c = try ConfigurationLoader.load(yaml: yaml, environment: [:])
        XCTAssertEqual(c.agents.map(\.id), ["a1", "a2"])
        XCTAssertEqual(c.agents[1].role, .supervisor, "taken from the merged mapping")
        XCTAssertEqual(c.agents[1].skills, ["general": 4])
        XCTAssertEqual(c.agents[1].tokenSHA256, Self.hashB, "keys written beside the merge win")
        XCTAssertEqual(c.agents[1].capacity, [.sms: 1])
        XCTAssertEqual(loadError("agents:\n  - { <<: [1], id: a1, token_sha256: \"\(Self.hashA)\" }\n").issues,
                       [.init(path: "agents[0]", reason: "a merge key (<<) must refer to a mapping")])
    }

    // MARK: Each validation rule

    func testUnknownTopLevelKeySuggestsSpelling() {
        XCTAssertEqual(loadError("listn: 127.0.0.1:8080\n").issues,
                       [.init(path: "listn", reason: "unknown key 'listn' (did you mean 'listen'?)")])
        XCTAssertEqual(loadError("frobnicate: 1\n").issues, [.init(path: "frobnicate", reason: "unknown key 'frobnicate'")])
    }

    func testUnknownNestedKey() {
        XCTAssertEqual(loadError("routing: { offer_timout: 5s }\n").issues,
                       [.init(path: "routing.offer_timout", reason: "unknown key 'offer_timout' (did you mean 'offer_timeout'?)")])
    }

    func testDuplicateAgentChannelAndAPIKeyIds() {
        let yaml = """
        skills: [general]
        agents:
          - { id: a1, token_sha256: "\(Self.hashA)" }
          - { id: a1, token_sha256: "\(Self.hashB)" }
        api_keys: [ { id: bot, key_sha256: "\(Self.hashA)" }, { id: bot, key_sha256: "\(Self.hashB)" } ]
        channels:
          - { id: sms, kind: sms, provider: aliyun, skill: general }
          - { id: sms, kind: sms, provider: tencent, skill: general }
        """
        XCTAssertEqual(loadError(yaml).issues, [
            .init(path: "agents[1].id", reason: "duplicate agent id 'a1' (also agents[0])"),
            .init(path: "api_keys[1].id", reason: "duplicate api key id 'bot' (also api_keys[0])"),
            .init(path: "channels[1].id", reason: "duplicate channel id 'sms' (also channels[0])"),
        ])
    }

    func testDuplicateTokenHashes() {
        let yaml = "agents:\n  - { id: a1, token_sha256: \"\(Self.hashA)\" }\n  - { id: a2, token_sha256: \"\(Self.hashA)\" }\n"
        XCTAssertEqual(loadError(yaml).issues, [.init(path: "agents[1].token_sha256", reason: "same token hash as agents[0]")])
    }

    func testSkillLevelsAndUnknownSkills() {
        let yaml = """
        skills: [general, complaints]
        agents:
          - { id: a0, token_sha256: "\(Self.hashA)", skills: { general: 0, complaints: 11 } }
          - { id: a1, token_sha256: "\(Self.hashB)", skills: { general: high, billing: 3 } }
        """
        XCTAssertEqual(loadError(yaml).issues, [
            .init(path: "agents[0].skills.general", reason: "must be between 1 and 10, found 0"),
            .init(path: "agents[0].skills.complaints", reason: "must be between 1 and 10, found 11"),
            .init(path: "agents[1].skills.general", reason: "expected a skill level from 1 to 10, found 'high'"),
            .init(path: "agents[1].skills.billing", reason: "unknown skill 'billing' (declared skills: general, complaints)"),
        ])
    }

    func testCapacityKeysMustBeKindsAndNotNegative() {
        let yaml = "agents:\n  - { id: a1, token_sha256: \"\(Self.hashA)\", capacity: { fax: 1, sms: -1, webchat: 2 } }\n"
        XCTAssertEqual(loadError(yaml).issues, [
            .init(path: "agents[0].capacity.fax", reason: "unknown channel kind 'fax' (kinds: webchat, sms, wechat, email, voice, mailbox)"),
            .init(path: "agents[0].capacity.sms", reason: "must be at least 0, found -1"),
        ])
    }

    func testAnAgentWhoTakesCallsNeedsAPhoneOrSIPEndpoint() throws {
        let yaml = """
            agents:
              - { id: a1, token_sha256: "\(Self.hashA)", capacity: { voice: 1 } }
              - { id: a2, token_sha256: "\(Self.hashB)", capacity: { voice: 1 }, phone: "138 0000 0001", sip: "sip:1@pbx" }   # both: fine
              - { id: a3, token_sha256: "\(Self.hashC)", capacity: { voice: 1 }, sip: "sip:1<x>@pbx" }
              - { id: a4, token_sha256: "\(String(repeating: "d", count: 64))", capacity: { voice: 1 }, phone: "call me", voice_exclusive: maybe }
            """
        XCTAssertEqual(loadError(yaml).issues, [
            .init(path: "agents[0].capacity.voice", reason: "an agent who takes calls needs phone (E.164) or sip, where an accepted call is bridged"),
            .init(path: "agents[2].sip", reason: "'sip:1<x>@pbx' is not a SIP URI (sip:1001@pbx.example)"),
            .init(path: "agents[3].phone", reason: "'call me' is not a phone number (E.164, e.g. +8613800000001)"),
            .init(path: "agents[3].voice_exclusive", reason: "must be one of true|false, found 'maybe'"),
        ])
        let ok = try ConfigurationLoader.load(yaml: """
            agents:
              - { id: a1, token_sha256: "\(Self.hashA)", capacity: { voice: 1, webchat: 2 }, phone: "13800000001", voice_exclusive: false }
            """, environment: [:])
        XCTAssertEqual(ok.agents[0].phone, "+8613800000001")
        XCTAssertEqual(ok.agents[0].voiceEndpoint(preferSIP: true), "+8613800000001", "the phone when there is no SIP address")
        let both = AgentConfig(id: "a", name: "a", tokenSHA256: "", skills: [:], capacity: [.voice: 1], phone: "+8613800000001", sip: "sip:1001@pbx")
        XCTAssertEqual(both.voiceEndpoint(preferSIP: true), "sip:1001@pbx")
        XCTAssertEqual(both.voiceEndpoint(preferSIP: false), "+8613800000001")
        XCTAssertEqual(AgentConfig.voiceEndpoint(from: both.voiceEndpoints ?? "", preferSIP: true), "sip:1001@pbx")
        XCTAssertEqual(AgentConfig.voiceEndpoint(from: both.voiceEndpoints ?? "", preferSIP: false), "+8613800000001")
        XCTAssertFalse(ok.agents[0].voiceExclusive)
    }

    func testHashesMustBe64LowercaseHex() {
        let upper = String(repeating: "A", count: 64)
        let yaml = "agents:\n  - { id: a1, token_sha256: \"\(upper)\" }\n  - { id: a2 }\napi_keys: [ { id: k, key_sha256: abc } ]\n"
        let error = loadError(yaml)
        XCTAssertEqual(error.paths, ["agents[0].token_sha256", "agents[1].token_sha256", "api_keys[0].key_sha256"])
        XCTAssertTrue(error.issues[0].reason.hasPrefix("must be 64 lower-case hex digits"), error.issues[0].reason)
        XCTAssertEqual(error.issues[1].reason, "is required")
        XCTAssertTrue(error.issues[2].reason.hasSuffix("found 3 characters"), error.issues[2].reason)
    }

    func testChannelSkillAndKind() {
        let yaml = """
        skills: [general]
        channels:
          - { id: c0, kind: webchat, skill: billing }
          - { id: c1, kind: fax, skill: general }
          - { id: c2, kind: sms, provider: nexmo, skill: general }
        visitor_token_secret: 0123456789abcdef
        """
        // The provider is the SMS factory's to check (ChannelCatalog): the loader keeps it as written.
        XCTAssertEqual(loadError(yaml).issues, [
            .init(path: "channels[0].skill", reason: "unknown skill 'billing' (declared skills: general)"),
            .init(path: "channels[1].kind", reason: "unknown channel kind 'fax' (kinds: webchat, sms, wechat, email, voice, mailbox)"),
        ])
    }

    func testAnUnsetEnvironmentVariableIsReportedWithItsPath() {
        let yaml = """
        skills: [general]
        channels:
          - { id: c0, kind: sms, provider: twilio, skill: general, auth_token: "", public_url: env:URL }
        """
        XCTAssertEqual(loadError(yaml).issues, [
            .init(path: "channels[0].public_url", reason: "environment variable 'URL' is not set"),
        ])
    }

    func testPriorityRange() {
        let yaml = """
        skills: [general]
        channels:
          - { id: c0, kind: email, skill: general, priority: 10 }
          - { id: c1, kind: email, skill: general, priority: -1 }
        """
        XCTAssertEqual(loadError(yaml).issues, [
            .init(path: "channels[0].priority", reason: "must be between 0 and 9, found 10"),
            .init(path: "channels[1].priority", reason: "must be between 0 and 9, found -1"),
        ])
    }

    /// Nested settings are each kind's own (DESIGN §10.1 "Config"): the loader keeps them under
    /// their path, so the kind's factory can name `menu_skills.COMPLAINT` in its errors.
    func testNestedChannelSettingsAreKeptUnderTheirPath() throws {
        let yaml = """
        skills: [general, complaints]
        channels:
          - id: wx
            kind: wechat
            skill: general
            menu_skills: { COMPLAINT: complaints, "V1001": general }
            keywords: [转人工, 人工]
            imap: { url: "imaps://h/INBOX", tls: { verify: true } }
        """
        let c = try XCTUnwrap(try ConfigurationLoader.load(yaml: yaml, environment: [:]).channel(id: "wx"))
        XCTAssertEqual(c.settings["menu_skills.COMPLAINT"], "complaints")
        XCTAssertEqual(c.mapping("menu_skills").map { "\($0.key)=\($0.value)" }, ["COMPLAINT=complaints", "V1001=general"])
        XCTAssertEqual(c.list("keywords"), ["转人工", "人工"])
        XCTAssertEqual(c.value("imap.url"), "imaps://h/INBOX")
        XCTAssertEqual(c.settings["imap.tls.verify"], "true")
        XCTAssertEqual(c.mapping("imap").map(\.key), ["url"], "a mapping's direct entries only")
        XCTAssertEqual(c.unknownSettings(allowed: ["menu_skills", "keywords"]), ["imap.tls.verify", "imap.url"])
    }

    func testOutboundNeedsAnHTTPURLAndKnownKeys() {
        let yaml = """
        skills: [general]
        channels:
          - { id: c0, kind: sms, provider: generic, skill: general, outbound: { account_sid: x, form: y } }
          - { id: c1, kind: sms, provider: generic, skill: general, outbound: { url: "gopher://x" } }
        """
        XCTAssertEqual(loadError(yaml).issues, [
            .init(path: "channels[0].outbound.form", reason: "unknown key 'form' (did you mean 'from'?)"),
            .init(path: "channels[0].outbound.url", reason: "is required"),
            .init(path: "channels[1].outbound.url", reason: "must be an http:// or https:// URL, found 'gopher://x'"),
        ])
    }

    func testRoutingLimitsAndTimeouts() {
        let yaml = """
        routing: { offer_missed_limit: 0, offer_timeout: 0s, sweep_interval: -1s, strategy: round_robin, reconnect_grace: 0, reoffer_after: 0s }
        limits: { auth_timeout: 0, max_body_bytes: 0, max_ws_message_bytes: 1.5MiB, public_rate_per_ip: 0, request_timeout: 500ms }
        outbox: { request_timeout: 0ms, max_attempts: 0 }
        node: { heartbeat_interval: 0s }
        """
        XCTAssertEqual(loadError(yaml).issues, [
            .init(path: "node.heartbeat_interval", reason: "must be greater than zero"),
            .init(path: "limits.max_body_bytes", reason: "must be greater than zero"),
            .init(path: "limits.max_ws_message_bytes", reason: "invalid size '1.5MiB' (expected e.g. 512KB, 64KiB, 1MiB or a number of bytes)"),
            .init(path: "limits.auth_timeout", reason: "must be greater than zero"),
            .init(path: "limits.public_rate_per_ip", reason: "must be greater than zero"),
            .init(path: "limits.request_timeout", reason: "must be a whole number of seconds, at least 1s"),
            .init(path: "routing.offer_timeout", reason: "must be greater than zero"),
            .init(path: "routing.offer_missed_limit", reason: "must be at least 1, found 0"),
            .init(path: "routing.strategy", reason: "must be one of longest_idle|least_busy, found 'round_robin'"),
            .init(path: "routing.sweep_interval", reason: "invalid duration '-1s' (expected e.g. 250ms, 20s, 5m, 2h, 90d or a number of seconds)"),
            .init(path: "routing.reoffer_after", reason: "must be greater than zero"),
            .init(path: "outbox.max_attempts", reason: "must be at least 1, found 0"),
            .init(path: "outbox.request_timeout", reason: "must be greater than zero"),
        ])
    }

    func testTimeRelationsBetweenSettings() {
        let yaml = """
        node: { heartbeat_interval: 5s, heartbeat_ttl: 5s }
        outbox: { initial_backoff: 1m, max_backoff: 30s, request_timeout: 2m, claim_min_idle: 60s }
        """
        XCTAssertEqual(loadError(yaml).issues, [
            .init(path: "node.heartbeat_ttl", reason: "must be longer than node.heartbeat_interval (5s ≤ 5s)"),
            .init(path: "outbox.max_backoff", reason: "must not be shorter than outbox.initial_backoff (30s < 60s)"),
            .init(path: "outbox.claim_min_idle", reason: "must be longer than outbox.request_timeout (60s ≤ 120s)"),
        ])
    }

    func testListenAddresses() {
        for bad in ["8080", ":8080", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:http", "::1:8080", "[::1]8080",
                    "[nothost]:80", "bad host:80"] {
            let error = loadError("listen: \"\(bad)\"\n")
            XCTAssertEqual(error.paths, ["listen"], bad)
        }
        XCTAssertEqual(loadError("listen: \"::1:8080\"\n").issues.first?.reason,
                       "IPv6 addresses need brackets, e.g. [::1]:8080, found '::1:8080'")
        XCTAssertEqual(loadError("listen: 127.0.0.1:99999\n").issues.first?.reason, "port must be between 1 and 65535, found 99999")
        XCTAssertEqual(ListenAddress.parse("[fe80::1]:443"), .success(ListenAddress(host: "fe80::1", port: 443)))
        XCTAssertEqual(ListenAddress.parse("0.0.0.0:8080"), .success(ListenAddress(host: "0.0.0.0", port: 8080)))
    }

    func testTLSNeedsBothFiles() {
        XCTAssertEqual(loadError("tls: { cert: c.pem }\n").issues, [.init(path: "tls.key", reason: "is required when tls.cert is set")])
        XCTAssertEqual(loadError("tls: { key: k.pem }\n").issues, [.init(path: "tls.cert", reason: "is required when tls.key is set")])
        XCTAssertEqual(loadError("tls: {}\n").paths, ["tls"])
        XCTAssertNil(try ConfigurationLoader.load(yaml: "tls:\n", environment: [:]).tls, "an empty tls key means no TLS")
    }

    func testWebchatNeedsAVisitorSecret() {
        let base = "skills: [general]\nchannels: [ { id: web, kind: webchat, skill: general } ]\n"
        XCTAssertEqual(loadError(base).paths, ["visitor_token_secret"])
        XCTAssertTrue(loadError(base).issues[0].reason.hasPrefix("is empty, but channels[0] ('web') is a webchat channel"))
        XCTAssertTrue(loadError(base + "visitor_token_secret: short\n").issues[0].reason.hasPrefix("is shorter than 16 characters"))
        XCTAssertNoThrow(try ConfigurationLoader.load(yaml: base + "visitor_token_secret: 0123456789abcdef\n", environment: [:]))
        XCTAssertNoThrow(try ConfigurationLoader.load(yaml: "visitor_token_secret: short\n", environment: [:]),
                         "without a webchat channel the secret is unused")
    }

    func testOneIssuePerMistake() {
        // An unset secret is reported once, not again as "empty".
        let web = "skills: [general]\nchannels: [ { id: web, kind: webchat, skill: general } ]\n"
        XCTAssertEqual(loadError(web + "visitor_token_secret: env:VS\n").issues,
                       [.init(path: "visitor_token_secret", reason: "environment variable 'VS' is not set")])
        // A channel with a bad kind is not taken for a webchat channel that needs a secret.
        XCTAssertEqual(loadError("skills: [general]\nchannels: [ { id: x, kind: chat, skill: general } ]\n").paths, ["channels[0].kind"])
        // A refused value is not compared with its neighbours.
        XCTAssertEqual(loadError("node: { heartbeat_interval: soon }\noutbox: { request_timeout: never }\n").paths,
                       ["node.heartbeat_interval", "outbox.request_timeout"])
        XCTAssertEqual(loadError("limits: { public_burst_per_ip: 0.5 }\n").issues,
                       [.init(path: "limits.public_burst_per_ip", reason: "must be at least 1")])
    }

    func testAgentNameDefaultsToId() throws {
        let yaml = "agents:\n  - { id: a1, token_sha256: \"\(Self.hashA)\" }\n  - { id: a2, name: \"\", token_sha256: \"\(Self.hashB)\" }\n"
        XCTAssertEqual(try ConfigurationLoader.load(yaml: yaml, environment: [:]).agents.map(\.name), ["a1", "a2"])
    }

    func testRedisURLSchemeAppendfsyncAndPrefix() {
        XCTAssertEqual(loadError("redis: { url: \"http://x:6379\", appendfsync: sometimes, prefix: \"sb{x}:\" }\n").issues, [
            .init(path: "redis.url", reason: "must start with redis:// or unix://, found 'http://x:6379'"),
            .init(path: "redis.prefix", reason: "must not contain '{' or '}' (they would change the Redis Cluster hash tag)"),
            .init(path: "redis.appendfsync", reason: "must be one of always|everysec|no, found 'sometimes'"),
        ])
    }

    func testWrongShapes() {
        XCTAssertEqual(loadError("- a\n- b\n").issues,
                       [.init(path: "(document)", reason: "expected a mapping of settings at the top level, found a list")])
        XCTAssertEqual(loadError("routing: fast\nskills: general\nagents: { a: 1 }\nlisten: [1]\n").issues, [
            .init(path: "listen", reason: "expected a single value, found a list"),
            .init(path: "routing", reason: "expected a mapping of keys, found 'fast'"),
            .init(path: "skills", reason: "expected a list, found 'general'"),
            .init(path: "agents", reason: "expected a list, found a mapping"),
        ])
        XCTAssertEqual(loadError("agents:\n  -\n  - 5\n").issues, [
            .init(path: "agents[0]", reason: "expected a mapping of keys, found nothing"),
            .init(path: "agents[1]", reason: "expected a mapping of keys, found '5'"),
        ])
    }

    func testInvalidYAMLIsOneIssueWithItsPosition() {
        let error = loadError("listen: [unclosed\n")
        XCTAssertEqual(error.paths, ["(document)"])
        XCTAssertTrue(error.issues[0].reason.hasPrefix("not valid YAML"), error.issues[0].reason)
        XCTAssertTrue(error.issues[0].reason.contains("2:"), "names the line: \(error.issues[0].reason)")
        XCTAssertEqual(loadError("a: 1\na: 2\n").paths, ["(document)"], "Yams refuses duplicate keys")
    }

    func testSkillNamesAndLogLevel() {
        XCTAssertEqual(loadError("skills: [general, general, \"has space\"]\nlog_level: verbose\n").issues, [
            .init(path: "log_level", reason: "must be one of trace|debug|info|notice|warning|error|critical, found 'verbose'"),
            .init(path: "skills[1]", reason: "duplicate skill 'general' (also skills[0])"),
            .init(path: "skills[2]", reason: "'has space' is not a valid skill name (letters, digits, '_', '-', '.')"),
        ])
    }

    func testManyErrorsAreAllReported() {
        let yaml = """
        listen: nowhere
        lisen: 1
        skills: [general]
        routing: { offer_missed_limit: 0, strategy: random }
        agents:
          - { id: a1, token_sha256: nothex, skills: { billing: 3 }, capacity: { fax: 1 } }
        channels:
          - { id: web, kind: webchat, skill: sales }
        """
        let error = loadError(yaml)
        XCTAssertEqual(error.paths, [
            "lisen", "listen", "routing.offer_missed_limit", "routing.strategy", "agents[0].token_sha256",
            "agents[0].skills.billing", "agents[0].capacity.fax", "channels[0].skill", "visitor_token_secret",
        ])
        XCTAssertEqual(error.description.split(separator: "\n").count, 9, "one line per issue")
        XCTAssertTrue(error.description.contains("agents[0].skills.billing: unknown skill 'billing' (declared skills: general)"))
    }

    // MARK: The shipped demo

    func testDemoConfigurationLoads() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config/demo.yaml")
        let text = try String(contentsOf: url, encoding: .utf8)
        let c = try ConfigurationLoader.load(yaml: text, environment: [:])
        XCTAssertEqual(c.listen, ListenAddress(host: "127.0.0.1", port: 8080))
        XCTAssertNil(c.redis.url, "the demo runs the managed Redis")
        XCTAssertEqual(c.dataDir, "./var")
        XCTAssertEqual(c.skills, ["general", "complaints"])
        XCTAssertEqual(c.agents.map(\.name), ["王芳", "李强", "张敏"])
        XCTAssertEqual(c.agents.filter { $0.role == .supervisor }.map(\.id), ["zhangmin"])
        // The SHA-256 of the tokens the file's header documents (printf %s TOKEN | sha256sum).
        XCTAssertEqual(c.agents.map(\.tokenSHA256), [
            "3d32b3f40044f3cfad949151aa947b7b190b70152913affb5ae03485987928b8",  // demo-wangfang
            "ff45c050d2cd528b6bcf814fdd704a4dcc1dfcd7318d65897784a95306b3e0da",  // demo-liqiang
            "24ab1bd0195ac5087fe908a49a29044574a7ac0215cd9dc185960c2cb490d799",  // demo-zhangmin
        ])
        XCTAssertEqual(c.apiKeys, [APIKeyConfig(id: "demo-bot",
                                                keySHA256: "5d22be1c58d19827a2c4dd5c3391dfffec816a139c663397a4ab8deadc5c3fc8")])
        let sms = try XCTUnwrap(c.channel(id: "sms-main"))
        XCTAssertEqual(sms.kind, .sms)
        XCTAssertEqual(sms.provider, "twilio")
        XCTAssertEqual(sms.outbound?.url, "http://127.0.0.1:9000/2010-04-01/Accounts/AC1/Messages.json")
        XCTAssertEqual(sms.outbound?.authToken, sms.settings["auth_token"])
        XCTAssertEqual(c.channel(id: "web")?.kind, .webchat)
    }

    // MARK: Helpers

    private func loadError(_ yaml: String, environment: [String: String] = [:],
                           file: StaticString = #filePath, line: UInt = #line) -> ConfigurationError {
        do {
            let config = try ConfigurationLoader.load(yaml: yaml, environment: environment)
            XCTFail("expected an error, loaded \(config)", file: file, line: line)
            return ConfigurationError(issues: [])
        } catch {
            return error
        }
    }
}
