import Foundation
import SwitchboardCrypto

/// The broker configuration the benchmark runs against, generated so that the LoadGen knows every
/// token: agent `a<i>` signs in with `bench-token-<i>`; skills are `s00`…; each skill has a Twilio
/// SMS channel `sms-<skill>` signed with `WebhookBuilder.authToken`, and a WeChat Official Account
/// `wx-<skill>` in safe mode with `WeChatWebhookBuilder`'s keys.
enum BenchConfig {
    static func token(_ agent: Int) -> String { "bench-token-\(agent)" }
    static func skill(_ i: Int) -> String { String(format: "s%02d", i) }

    /// `LoadGen config --server H:P --redis-url URL --data-dir DIR --agents N --skills S
    ///  (--capacity C | --capacity-min A --capacity-max B) [--offer-timeout 60s] --out FILE`
    static func write(_ o: Options) -> Int32 {
        let (host, port) = o.endpoint("server", "127.0.0.1:8080")
        let agents = o.int("agents", 100)
        let skills = max(1, o.int("skills", 1))
        let fixed = o.optional("capacity").flatMap { Int($0) }
        let capMin = o.int("capacity-min", 1), capMax = o.int("capacity-max", 5)
        let base = "http://\(host):\(port)"
        var agentList: [[String: Any]] = []
        for i in 0..<agents {
            let cap = fixed ?? (capMin + i % max(1, capMax - capMin + 1))
            agentList.append([
                "id": "a\(i)", "name": "Agent \(i)", "role": "agent",
                "token_sha256": Digest.sha256Hex(Array(token(i).utf8)),
                "skills": [skill(i % skills): 5],
                // S8: one call at a time, bridged to the agent's number (the update never leaves loopback).
                "capacity": ["sms": cap, "webchat": cap, "wechat": cap, "voice": 1],
                "phone": String(format: "+86139%08d", i),
            ])
        }
        var channels: [[String: Any]] = [["id": "web", "kind": "webchat", "skill": skill(0)]]
        for s in 0..<skills {
            let id = "sms-\(skill(s))"
            channels.append([
                "id": id, "kind": "sms", "provider": "twilio", "auth_token": WebhookBuilder.authToken,
                "public_url": "\(base)/v1/channels/\(id)/twilio", "skill": skill(s), "priority": 0,
                "outbound": ["url": "http://127.0.0.1:9/2010-04-01/Accounts/ACbench/Messages.json", "account_sid": "ACbench",
                             "from": WebhookBuilder.to],
            ])
            // S8: a Twilio voice channel per skill; the Calls API (the bridge on accept) is a closed port.
            channels.append([
                "id": "call-\(skill(s))", "kind": "voice", "provider": "twilio", "account_sid": WebhookBuilder.accountSid,
                "auth_token": WebhookBuilder.authToken, "public_url": "\(base)/v1/channels/call-\(skill(s))/twilio",
                "api_base": "http://127.0.0.1:9", "skill": skill(s), "voice_offer_timeout": "60s",
            ])
            // S7: a WeChat Official Account in safe mode per skill (its API is never called here).
            channels.append([
                "id": "wx-\(skill(s))", "kind": "wechat", "provider": "official_account", "app_id": WeChatWebhookBuilder.appId,
                "app_secret": "bench-wx-secret", "token": WeChatWebhookBuilder.token,
                "encoding_aes_key": WeChatWebhookBuilder.encodingAESKey, "api_base": "http://127.0.0.1:9", "skill": skill(s),
            ])
        }
        let config: [String: Any] = [
            "listen": "\(host):\(port)",
            "public_base_url": base,
            "data_dir": o.string("data-dir", "/tmp/switchboard-bench"),
            "node": ["id": o.string("node-id", "bench-node"), "heartbeat_interval": "1s", "heartbeat_ttl": "5s"],
            "redis": ["url": o.string("redis-url", "redis://127.0.0.1:6379"), "prefix": "sb:"],
            "limits": ["max_body_bytes": "64KiB", "max_ws_message_bytes": "64KiB", "max_send_queue_bytes": "16MiB",
                       "auth_timeout": "60s", "public_rate_per_ip": 1_000_000, "public_burst_per_ip": 1_000_000],
            "routing": ["offer_timeout": o.string("offer-timeout", "120s"), "offer_missed_limit": 3, "reconnect_grace": "30s",
                        "wrapup_seconds": 0, "strategy": "longest_idle", "sweep_interval": "250ms",
                        "aging_seconds_per_priority": "60s"],
            "skills": (0..<skills).map(skill),
            "agents": agentList,
            "api_keys": [["id": "bench", "key_sha256": Digest.sha256Hex(Array("bench-api-key".utf8))]],
            "visitor_token_secret": "bench-visitor-secret-0123456789abcdef",
            "channels": channels,
            "log_level": o.string("log-level", "warning"),
        ]
        guard let data = try? JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys]) else { return 2 }
        let out = o.string("out", "bench-config.yaml")
        guard FileManager.default.createFile(atPath: out, contents: data) else {
            errWrite("cannot write \(out)\n")
            return 2
        }
        return 0
    }
}
