import Prometheus
import SwitchboardCore
import SwitchboardRedis

/// The node's Prometheus metrics (`GET /metrics`), through swift-metrics backed by
/// swift-prometheus. In-process counters count what this node did; gauges and cluster-wide
/// counters (offers, abandons) are read from Redis at scrape time (`Router.stats`).
///
/// Loop thread only (the registry itself is thread-safe; the caches are not).
final class BrokerMetrics {
    let registry = PrometheusCollectorRegistry()
    private var inboundCounters: [String: Prometheus.Counter] = [:]
    private var deliveryCounters: [String: Prometheus.Counter] = [:]
    private var commandCounters: [String: Prometheus.Counter] = [:]
    private var httpCounters: [Int: Prometheus.Counter] = [:]

    func inbound(channel: String) {
        counter(&inboundCounters, channel, name: "switchboard_inbound_messages", help: "Inbound messages stored, by channel", label: "channel").increment()
    }

    func delivery(outcome: String) {
        counter(&deliveryCounters, outcome, name: "switchboard_deliveries", help: "Outbound delivery attempts by outcome", label: "outcome").increment()
    }

    func agentCommand(_ type: String) {
        counter(&commandCounters, type, name: "switchboard_agent_commands", help: "Agent console commands by type", label: "type").increment()
    }

    func httpResponse(status: Int) {
        if let c = httpCounters[status] { c.increment(); return }
        let c = registry.makeCounter(descriptor: Self.descriptor("switchboard_http_responses", help: "HTTP responses by status"),
                                     labels: [("status", String(status))])
        httpCounters[status] = c
        c.increment()
    }

    private func counter(_ cache: inout [String: Prometheus.Counter], _ value: String, name: String, help: String,
                         label: String) -> Prometheus.Counter {
        if let c = cache[value] { return c }
        let c = registry.makeCounter(descriptor: Self.descriptor(name, help: help), labels: [(label, value)])
        cache[value] = c
        return c
    }

    /// The exposition text: this node's registry, then the cluster view from Redis.
    func render(stats: RoutingStats?, ready: Bool, agentSockets: Int, visitorSockets: Int) -> String {
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        var out = String(decoding: bytes, as: UTF8.self)
        func line(_ s: String) { out += s + "\n" }
        line("# TYPE switchboard_ready gauge")
        line("switchboard_ready \(ready ? 1 : 0)")
        line("# TYPE switchboard_sockets gauge")
        line("switchboard_sockets{kind=\"agent\"} \(agentSockets)")
        line("switchboard_sockets{kind=\"visitor\"} \(visitorSockets)")
        guard let stats else { return out }
        line("# TYPE switchboard_queue_depth gauge")
        for (skill, depth) in stats.queueDepths.sorted(by: { $0.key < $1.key }) {
            line("switchboard_queue_depth{skill=\"\(Self.escape(skill))\"} \(depth)")
        }
        line("# TYPE switchboard_agents gauge")
        for presence in PresenceStatus.allCases {
            line("switchboard_agents{presence=\"\(presence.rawValue)\"} \(stats.presence[presence] ?? 0)")
        }
        // Cluster-wide counters kept in Redis by the routing scripts (every node reports the same
        // values; aggregate with max(), not sum()).
        line("# TYPE switchboard_offers_total counter")
        for outcome in ["made", "accepted", "rejected", "timeout"] {
            line("switchboard_offers_total{outcome=\"\(outcome)\"} \(stats.counters["offers_" + outcome] ?? 0)")
        }
        line("# TYPE switchboard_conversations_total counter")
        for event in ["enqueued", "abandoned", "closed", "requeued", "transfers"] {
            line("switchboard_conversations_total{event=\"\(event)\"} \(stats.counters[event] ?? 0)")
        }
        renderCalls(stats.counters, line)
        return out
    }

    /// The phone figures per voice channel (issue 10), from the `calls:<figure>:<channel>` counters
    /// the call scripts keep: calls offered to humans, answered, answered within 15 s (GB/T 33358
    /// 人工应答及时率), abandoned and short abandons, connected, voicemails; the answer wait and
    /// talk time as seconds totals (average speed of answer = answer seconds / answered).
    private func renderCalls(_ counters: [String: Int64], _ line: (String) -> Void) {
        var figures: [String: [String: Int64]] = [:]   // channel → figure → value
        for (key, value) in counters where key.hasPrefix("calls:") {
            let parts = key.split(separator: ":", maxSplits: 2).map(String.init)
            guard parts.count == 3 else { continue }
            figures[parts[2], default: [:]][parts[1]] = value
        }
        guard !figures.isEmpty else { return }
        line("# TYPE switchboard_calls_total counter")
        for (channel, f) in figures.sorted(by: { $0.key < $1.key }) {
            for event in ["offered", "answered", "answered_15s", "abandoned", "abandoned_short", "connected", "voicemail", "agent_missed"] {
                line("switchboard_calls_total{channel=\"\(Self.escape(channel))\",event=\"\(event)\"} \(f[event] ?? 0)")
            }
        }
        line("# TYPE switchboard_call_answer_seconds_total counter")
        for (channel, f) in figures.sorted(by: { $0.key < $1.key }) {
            line("switchboard_call_answer_seconds_total{channel=\"\(Self.escape(channel))\"} \(Double(f["answer_ms"] ?? 0) / 1000)")
        }
        line("# TYPE switchboard_call_talk_seconds_total counter")
        for (channel, f) in figures.sorted(by: { $0.key < $1.key }) {
            line("switchboard_call_talk_seconds_total{channel=\"\(Self.escape(channel))\"} \(f["talk_seconds"] ?? 0)")
        }
    }

    /// Counters are `<name>_total` (Prometheus naming conventions).
    static func descriptor(_ name: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "total", helpText: help)
    }

    /// Label values escape backslash, quote and newline (Prometheus text format 0.0.4).
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}
