import Foundation
import Glibc

/// S3: new conversations through the whole routing cycle. K agents (one console each) go
/// available; webhooks from new contacts, spread over the skills' SMS channels, arrive as fast as
/// the broker answers on W connections. Each is ingested, enqueued and offered (Redis scripts); the
/// agent accepts the offer and, once the accept is acknowledged, closes the conversation
/// (wrap-up 0 in the bench config), which frees its capacity for the next offer.
///
/// Reports conversations accepted per second, webhook → offer latency and offer → accept-ack
/// latency, and checks that every acknowledged webhook was offered and accepted exactly once.
/// With `--voice`, S8: each webhook is an incoming call on the skill's voice channel (`call-<skill>`),
/// answered with TwiML once the call is queued; the accept also queues the bridge (update call).
/// `--rate R` paces the calls (R per second in total; 0: as fast as the broker answers).
/// Loop thread only.
final class RoutingRun: WSOwner, HTTPOwner {
    enum Phase { case connecting, hot, draining, done, aborted }
    static let acceptBase: Int64 = 2_000_000_000
    static let closeBase: Int64 = 3_000_000_000

    let loop: Loop
    let host: String
    let port: Int
    let label: String
    let agentsCount: Int
    let skills: Int
    let connections: Int
    let duration: Double
    let drainSeconds: Double
    let serverPid: Int32?
    let redis: (String, Int)?
    let webhook: WebhookBuilder
    let voice: VoiceWebhookBuilder?
    let rate: Double

    private var phase = Phase.connecting
    private var failure: String?
    private var agents: [WSClient] = []
    private var conns: [HTTPConn] = []
    private var idle: [Int] = []
    private var welcomed = 0, available = 0, wsFailures = 0, wsErrors = 0
    private var phaseStart = monoNs()

    private var sendNs: [UInt64] = []
    private var ackState: [UInt8] = []
    private var offered: [UInt8] = []
    private var accepted: [UInt8] = []
    private var offerSeen: [String: (k: Int, ns: UInt64)] = [:]
    private var acceptSent: [Int: UInt64] = [:]
    private var convOf: [Int: String] = [:]
    private var sent = 0, acked = 0, errors = 0, acceptedCount = 0, closedCount = 0, duplicates = 0
    private var errorStatuses: [Int: Int] = [:]
    private var routeLatency = Latency()
    private var acceptLatency = Latency()
    private var t0: UInt64 = 0, tSendEnd: UInt64 = 0, lastAccept: UInt64 = 0, lastProgress: UInt64 = 0
    private var cpu0: Double?
    private var stats0: CommandStats?
    private let contactBase: Int

    init(loop: Loop, options o: Options) {
        self.loop = loop
        (host, port) = o.endpoint("server", "127.0.0.1:8080")
        label = o.string("label", "routing")
        agentsCount = o.int("agents", 1000)
        skills = max(1, o.int("skills", 20))
        connections = o.int("connections", 32)
        duration = o.double("duration", 5)
        drainSeconds = o.double("drain", 5)
        serverPid = o.optional("server-pid").flatMap { Int32($0) }
        redis = o.optional("redis").map { _ in o.endpoint("redis", "") }
        webhook = WebhookBuilder(host: host, port: port, sidPrefix: "SM\(o.string("run-id", String(getpid())))r")
        contactBase = o.int("contact-base", 0)
        voice = o.optional("voice") == nil ? nil
            : VoiceWebhookBuilder(host: host, port: port, sidPrefix: "CA\(o.string("run-id", String(getpid())))v")
        rate = o.double("rate", 0)
    }

    func run() -> Int32 {
        for a in 0..<agentsCount {
            let c = WSClient(index: a, owner: self)
            c.agent = a
            agents.append(c)
            if !c.connect(loop: loop, host: host, port: port, path: "/v1/agent", protocolName: Loop.agentProtocol, sourceAddress: nil) {
                wsFailures += 1
            }
        }
        loop.run { advance() }
        return report()
    }

    private func abort(_ why: String) { failure = why; phase = .aborted }

    private func advance() -> Bool {
        let now = monoNs()
        switch phase {
        case .connecting:
            if wsFailures > 0 { abort("\(wsFailures) agent sockets failed"); return true }
            if available == agentsCount {
                log("\(label): \(agentsCount) agents available in \(ms(now - phaseStart)) ms; \(duration) s of new conversations on \(connections) connections")
                for i in 0..<connections {
                    guard let c = HTTPConn.open(index: i, loop: loop, host: host, port: port, source: nil, owner: self) else {
                        abort("cannot open HTTP connection \(i)")
                        return true
                    }
                    conns.append(c)
                    idle.append(i)
                }
                if let serverPid { cpu0 = ProcStats.cpuSeconds(pid: serverPid) }
                if let redis { stats0 = CommandStats.read(host: redis.0, port: redis.1) }
                phase = .hot
                t0 = monoNs()
                lastProgress = t0
                pump()
            } else if now - phaseStart > 60_000_000_000 {
                abort("connecting: \(welcomed)/\(agentsCount) welcomed, \(available) available after 60 s")
            }
        case .hot:
            if rate > 0 { pump() }
            if now >= t0 + UInt64(duration * 1e9) {
                phase = .draining
                tSendEnd = now
                lastProgress = now
            }
        case .draining:
            let inflight = conns.contains { $0.inflight >= 0 && $0.alive }
            if !inflight && acceptedCount >= acked && closedCount >= acceptedCount { phase = .done }
            else if now - lastProgress > UInt64(drainSeconds * 1e9) { phase = .done }
        case .done, .aborted:
            return true
        }
        return phase == .done || phase == .aborted
    }

    private func phone(_ k: Int) -> String { String(format: "+1666%07d", contactBase + k) }

    private func pump() {
        guard phase == .hot else { return }
        while let i = idle.popLast() {
            // Paced: no more than rate × elapsed calls so far; the loop's tick pumps again.
            if rate > 0, Double(sent) >= rate * Double(monoNs() - t0) / 1e9 {
                idle.append(i)
                return
            }
            let k = sent
            sent += 1
            let now = monoNs()
            sendNs.append(now)
            ackState.append(0)
            offered.append(0)
            accepted.append(0)
            let c = conns[i]
            c.inflight = k
            let skill = BenchConfig.skill(k % skills)
            let request = voice?.request(channel: "call-\(skill)", from: phone(k), id: k)
                ?? webhook.request(channel: "sms-\(skill)", from: phone(k), id: k, ns: now)
            let ok = request.withUnsafeBytes { c.send($0) }
            if !ok && c.inflight == k { response(c, status: 0) }
        }
    }

    func response(_ c: HTTPConn, status: Int) {
        let k = c.inflight
        guard k >= 0 else { return }
        c.inflight = -1
        if (200..<300).contains(status) { ackState[k] = 1; acked += 1 } else {
            ackState[k] = 2
            errors += 1
            errorStatuses[status, default: 0] += 1
        }
        lastProgress = monoNs()
        if c.alive { idle.append(c.index) }
        pump()
    }

    func opened(_ c: WSClient) {
        c.send(#"{"type":"auth","token":"\#(BenchConfig.token(c.agent))"}"#)
    }

    func failed(_ c: WSClient, _ reason: String) {
        wsFailures += 1
        if wsFailures <= 3 { log("\(label): agent socket \(c.index) failed: \(reason)") }
    }

    func closed(_ c: WSClient) {
        if phase != .done && phase != .aborted { abort("the broker closed agent socket \(c.index)") }
    }

    func received(_ c: WSClient, _ frame: UnsafeRawBufferPointer) {
        let now = monoNs()
        Scan.lines(frame) { line in
            if let seq = Scan.leadingSeq(line) {
                if seq <= c.lastSeq { duplicates += 1; return }
                c.lastSeq = seq
            }
            if Scan.has(line, Keys.typeOffer) {
                guard let offer = Scan.stringValue(line, after: Keys.offerId),
                      let address = Scan.stringValue(line, after: Keys.address), address.hasPrefix("+1666"),
                      let n = Int(address.dropFirst(5)), n - contactBase >= 0, n - contactBase < sent else { return }
                let k = n - contactBase
                offered[k] &+= 1
                if offered[k] > 1 { duplicates += 1 }
                routeLatency.record(ns: now &- sendNs[k])
                if let conv = Scan.stringValue(line, after: Keys.convIdC) { convOf[k] = "c" + conv }
                offerSeen[offer] = (k, now)
                acceptSent[k] = now
                c.send(#"{"type":"offer.accept","offerId":"\#(offer)","ref":\#(Self.acceptBase + Int64(k))}"#)
            } else if Scan.has(line, Keys.typeAck) {
                guard let ref = Scan.intValue(line, after: Keys.ref) else { return }
                if ref >= Self.closeBase {
                    closedCount += 1
                    lastProgress = now
                } else if ref >= Self.acceptBase {
                    let k = Int(ref - Self.acceptBase)
                    accepted[k] &+= 1
                    if accepted[k] > 1 { duplicates += 1; return }
                    acceptedCount += 1
                    lastAccept = now
                    lastProgress = now
                    if let at = acceptSent.removeValue(forKey: k) { acceptLatency.record(ns: now &- at) }
                    if let conv = convOf.removeValue(forKey: k) {
                        c.send(#"{"type":"conversation.close","conversationId":"\#(conv)","ref":\#(Self.closeBase + Int64(k))}"#)
                    }
                } else if ref == 1 {
                    available += 1
                }
            } else if Scan.has(line, Keys.typeWelcome) {
                welcomed += 1
                c.send(#"{"type":"presence.set","status":"available","ref":1}"#)
            } else if Scan.has(line, Keys.typeError) {
                wsErrors += 1
                if wsErrors <= 3 { log("\(label): error event: \(String(decoding: line, as: UTF8.self))") }
            }
        }
    }

    private func report() -> Int32 {
        if let failure {
            print("\(label): FAILED: \(failure)")
            fflush(nil)
            return 1
        }
        var lost = 0
        for k in 0..<sent where ackState[k] == 1 && accepted[k] == 0 { lost += 1 }
        let window = Double((lastAccept > t0 ? lastAccept : tSendEnd) - t0) / 1e9
        let rate = window > 0 ? Double(acceptedCount) / window : 0
        var fields: [String: Any] = [
            "label": label, "agents": agentsCount, "skills": skills, "connections": connections, "duration": duration,
            "sent": sent, "acked": acked, "errors": errors, "accepted": acceptedCount, "closed": closedCount, "lost": lost,
            "duplicates": duplicates, "ws_errors": wsErrors, "window_s": window, "conversations_per_s": rate,
            "offered_rate": self.rate, "voice": voice != nil,
        ]
        fields.merge(routeLatency.json("webhook_to_offer")) { a, _ in a }
        fields.merge(acceptLatency.json("offer_to_accept")) { a, _ in a }
        var extra = ""
        if let serverPid, let cpu0, let cpu1 = ProcStats.cpuSeconds(pid: serverPid) {
            fields["server_cpu_s"] = cpu1 - cpu0
            extra = String(format: "; broker CPU %.2f s (%.0f µs/conversation)", cpu1 - cpu0, (cpu1 - cpu0) / Double(max(acceptedCount, 1)) * 1e6)
        }
        if let redis, let stats0, let stats1 = CommandStats.read(host: redis.0, port: redis.1) {
            let d = stats1.delta(since: stats0)
            let n = Double(max(acceptedCount, 1))
            fields["redis_scripts_per_conversation"] = Double(d.scripts) / n
            fields["redis_commands_per_conversation"] = Double(d.total - 2) / n
            fields["redis_cpu_s"] = d.cpuSeconds
            fields["redis_cpu_us_per_conversation"] = d.cpuSeconds / n * 1e6
            let top = d.calls.sorted { $0.value > $1.value }.prefix(10).map { "\($0.key)=\(String(format: "%.1f", Double($0.value) / n))" }
            extra += String(format: "; redis CPU %.2f s (%.0f µs/conversation), %.1f scripts and %.1f commands per conversation [%@]", d.cpuSeconds,
                            d.cpuSeconds / n * 1e6, Double(d.scripts) / n, Double(d.total - 2) / n, top.joined(separator: " "))
        }
        let failed = lost > 0 || duplicates > 0 || errors > 0 || wsErrors > 0 || acceptedCount == 0
        fields["failed"] = failed
        let human = String(format: "%@: %.0f conversations/s over %.2f s; webhooks %d acked %d errors %d%@; accepted %d closed %d lost %d dup %d; webhook→offer %@; offer→accept %@%@",
                           label, rate, window, sent, acked, errors, errorStatuses.isEmpty ? "" : " \(errorStatuses)", acceptedCount, closedCount,
                           lost, duplicates, routeLatency.summary, acceptLatency.summary, extra)
        emitResult(fields, human: human + (failed ? "\n\(label): FAILED" : ""))
        return failed ? 1 : 0
    }
}
