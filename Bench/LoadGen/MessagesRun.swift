import Foundation
import Glibc
import SwitchboardLoop
import SwitchboardRedis

/// S1 / S2 / S5 (and the smoke run): inbound SMS on conversations that are already assigned.
///
/// 1. K agents × F consoles connect and authenticate; console 0 of each agent sets itself
///    available (broker). V idle visitors connect and say hello.
/// 2. Seeding: one webhook per contact (C contacts) opens C conversations; console 0 accepts every
///    offer (broker). A contact whose conversation is already assigned (the Baseline; a rerun
///    against the same broker state) is seeded when that first message arrives instead.
/// 3. Hot phase: for `duration` seconds, webhooks round-robin over the contacts, as fast as the
///    server answers on W keep-alive connections (`rate` 0) or at a fixed `rate` per second.
///    Each body is `LG_<id>_<sendNs>_`.
/// 4. Drain: until every acknowledged message reached all F consoles of its agent, or nothing
///    arrived for `drain` seconds (the rest is lost).
///
/// Latency = the `message` event's arrival at a console − the send time in the body (for a fixed
/// rate, the time the message was due, so a stalled server cannot hide latency: no coordinated
/// omission). Loop thread only.
final class MessagesRun: WSOwner, HTTPOwner {
    enum Phase { case connecting, seeding, hot, draining, done, aborted }
    enum Target: String { case broker, baseline }

    let loop: Loop
    let target: Target
    let host: String
    let port: Int
    let label: String
    let agentsCount: Int
    let agentOffset: Int
    let consoles: Int
    let visitorsCount: Int
    let contacts: Int
    let connections: Int
    let rate: Double
    let duration: Double
    let warmup: Double
    let drainSeconds: Double
    let channel: String
    let sources: Int
    let serverPid: Int32?
    let redis: (String, Int)?
    let webhook: WebhookBuilder
    /// S7: WeChat safe-mode callbacks instead of Twilio SMS, for a `wx-…` channel.
    let wechat: WeChatWebhookBuilder?

    private(set) var phase = Phase.connecting
    private var failure: String?
    private var agents: [WSClient] = []
    private var visitors: [WSClient] = []
    private var conns: [HTTPConn] = []
    private var idle: [Int] = []
    private var phoneOf: [String] = []

    // connection phase
    private var welcomed = 0
    private var available = 0
    private var visitorsReady = 0
    private var wsFailures = 0
    private var wsErrors = 0
    private var phaseStart = monoNs()

    // seeding
    private var nextSeed = 0
    private var seedAcked = 0
    private var seeded = 0
    private var seedDone: [Bool]

    // hot phase, indexed by message id - contacts
    private var sendNs: [UInt64] = []
    private var ackState: [UInt8] = []   // 0 in flight, 1 acknowledged (2xx), 2 refused
    private var got: [UInt16] = []
    private var sentMeasured = 0
    private var acked = 0
    private var errors = 0
    private var errorStatuses: [Int: Int] = [:]
    private var deliveries = 0
    private var fullyDelivered = 0
    private var duplicates = 0
    private var seqDuplicates = 0
    private var unknown = 0
    private var latency = Latency()
    private var t0: UInt64 = 0
    private var tSendEnd: UInt64 = 0
    private var lastDelivery: UInt64 = 0
    private var lastProgress: UInt64 = 0
    private var ticker: RepeatingLoopTimer?
    private var cpu0: Double?
    private var stats0: CommandStats?

    init(loop: Loop, options o: Options) {
        self.loop = loop
        target = Target(rawValue: o.string("target", "broker")) ?? .broker
        (host, port) = o.endpoint("server", "127.0.0.1:8080")
        label = o.string("label", "messages")
        agentsCount = o.int("agents", 10)
        agentOffset = o.int("agent-offset", 0)
        consoles = max(1, o.int("consoles", 1))
        visitorsCount = o.int("visitors", 0)
        contacts = o.int("contacts", 100)
        connections = o.int("connections", 32)
        rate = o.double("rate", 0)
        duration = o.double("duration", 5)
        warmup = o.double("warmup", 0)
        drainSeconds = o.double("drain", 5)
        channel = o.string("channel", "sms-main")
        sources = o.int("source-ips", 0)
        serverPid = o.optional("server-pid").flatMap { Int32($0) }
        redis = o.optional("redis").map { _ in o.endpoint("redis", "") }
        webhook = WebhookBuilder(host: host, port: port, sidPrefix: "SM\(o.string("run-id", String(getpid())))x")
        wechat = channel.hasPrefix("wx-")
            ? WeChatWebhookBuilder(host: host, port: port, runNumber: UInt64(bitPattern: Int64(o.string("run-id", String(getpid())).hashValue)) % 1_000_000_000)
            : nil
        seedDone = [Bool](repeating: false, count: contacts)
        phoneOf = (0..<contacts).map { String(format: "+1555%07d", $0) }
    }

    // MARK: running

    /// Returns the process exit status.
    func run() -> Int32 {
        for a in 0..<agentsCount {
            for k in 0..<consoles {
                let c = WSClient(index: agents.count, owner: self)
                c.agent = a + agentOffset
                c.console = k
                agents.append(c)
            }
        }
        for v in 0..<visitorsCount {
            let c = WSClient(index: v, owner: self)
            c.agent = -1
            visitors.append(c)
        }
        for c in agents {
            if !c.connect(loop: loop, host: host, port: port, path: target == .broker ? "/v1/agent" : "/agent",
                          protocolName: Loop.agentProtocol, sourceAddress: sourceAddress(c.index, count: sources)) {
                wsFailures += 1
            }
        }
        for c in visitors {
            if !c.connect(loop: loop, host: host, port: port, path: "/v1/visitor", protocolName: Loop.visitorProtocol,
                          sourceAddress: sourceAddress(c.index, count: sources)) {
                wsFailures += 1
            }
        }
        loop.run { advance() }
        ticker?.stop()
        return report()
    }

    private func abort(_ why: String) {
        failure = why
        phase = .aborted
    }

    private func advance() -> Bool {
        let now = monoNs()
        switch phase {
        case .connecting:
            if wsFailures > 0 { abort("\(wsFailures) WebSocket connections failed"); return true }
            let agentsReady = welcomed == agents.count && available == agentsCount
            if agentsReady && visitorsReady == visitors.count {
                log("\(label): \(agents.count) agent sockets, \(visitors.count) visitors connected in \(ms(now - phaseStart)) ms; seeding \(contacts) conversations")
                openConnections()
                if phase == .aborted { return true }
                phase = .seeding
                phaseStart = now
                pump()
            } else if now - phaseStart > 60_000_000_000 {
                abort("connecting: \(welcomed)/\(agents.count) welcomed, \(available)/\(agentsCount) available, \(visitorsReady)/\(visitors.count) visitors ready after 60 s")
            }
        case .seeding:
            if seeded == contacts && seedAcked == contacts {
                log("\(label): seeded in \(ms(now - phaseStart)) ms; hot phase \(duration) s at \(rate > 0 ? "\(Int(rate))/s" : "max rate") on \(conns.count) connections")
                startHot()
            } else if now - phaseStart > 60_000_000_000 {
                abort("seeding: \(seeded)/\(contacts) conversations assigned, \(seedAcked) webhooks acknowledged after 60 s")
            }
        case .hot:
            if now >= t0 + UInt64(duration * 1e9) {
                phase = .draining
                tSendEnd = now
                lastProgress = now
                ticker?.stop()
            }
        case .draining:
            let inflight = conns.contains { $0.inflight >= 0 && $0.alive }
            if !inflight && fullyDelivered >= acked { phase = .done }
            else if now - lastProgress > UInt64(drainSeconds * 1e9) { phase = .done }
        case .done, .aborted:
            return true
        }
        return phase == .done || phase == .aborted
    }

    private func openConnections() {
        for i in 0..<connections {
            guard let c = HTTPConn.open(index: i, loop: loop, host: host, port: port, source: sourceAddress(i, count: sources), owner: self) else {
                abort("cannot open HTTP connection \(i) to \(host):\(port): \(String(cString: strerror(errno)))")
                return
            }
            conns.append(c)
            idle.append(i)
        }
    }

    private func startHot() {
        if let serverPid { cpu0 = ProcStats.cpuSeconds(pid: serverPid) }
        if let redis { stats0 = CommandStats.read(host: redis.0, port: redis.1) }
        phase = .hot
        t0 = monoNs()
        lastProgress = t0
        let expected = rate > 0 ? Int(rate * duration) + 16 : 1 << 16
        sendNs.reserveCapacity(expected)
        ackState.reserveCapacity(expected)
        got.reserveCapacity(expected)
        if rate > 0 {
            ticker = RepeatingLoopTimer(context: loop.context, interval: 0.001) { [weak self] in self?.pump() }
            ticker?.start()
        }
        pump()
    }

    /// Sends whatever is due on idle connections.
    private func pump() {
        switch phase {
        case .seeding:
            while nextSeed < contacts, let i = idle.popLast() {
                let id = nextSeed
                nextSeed += 1
                send(on: conns[i], id: id, contact: id, ns: monoNs())
            }
        case .hot:
            if rate > 0 {
                let now = monoNs()
                let due = min(Int(Double(now - t0) * rate / 1e9), Int(rate * duration))
                while sentMeasured < due, let i = idle.popLast() {
                    let intended = t0 + UInt64(Double(sentMeasured) * 1e9 / rate)
                    sendMeasured(on: conns[i], ns: intended)
                }
            } else {
                while let i = idle.popLast() { sendMeasured(on: conns[i], ns: monoNs()) }
            }
        default:
            break
        }
    }

    private func sendMeasured(on c: HTTPConn, ns: UInt64) {
        let id = contacts + sentMeasured
        sentMeasured += 1
        sendNs.append(ns)
        ackState.append(0)
        got.append(0)
        send(on: c, id: id, contact: (id - contacts) % contacts, ns: ns)
    }

    private func send(on c: HTTPConn, id: Int, contact: Int, ns: UInt64) {
        let request = wechat?.request(channel: channel, from: "oBench" + phoneOf[contact].dropFirst(), id: id, ns: ns)
            ?? webhook.request(channel: channel, from: phoneOf[contact], id: id, ns: ns)
        c.inflight = id
        c.sentAt = monoNs()
        let ok = request.withUnsafeBytes { c.send($0) }
        if !ok && c.inflight == id { response(c, status: 0) }
    }

    // MARK: HTTPOwner

    func response(_ c: HTTPConn, status: Int) {
        let id = c.inflight
        guard id >= 0 else { return }
        c.inflight = -1
        let ok = (200..<300).contains(status)
        if id < contacts {
            if ok { seedAcked += 1 } else { abort("seed webhook for contact \(id) answered \(status)"); return }
        } else {
            let k = id - contacts
            if ok { ackState[k] = 1; acked += 1 } else {
                ackState[k] = 2
                errors += 1
                errorStatuses[status, default: 0] += 1
            }
            lastProgress = monoNs()
        }
        if c.alive { idle.append(c.index) }
        if phase == .seeding || phase == .hot { pump() }
    }

    // MARK: WSOwner

    func opened(_ c: WSClient) {
        c.sendGreeting()
    }

    func failed(_ c: WSClient, _ reason: String) {
        wsFailures += 1
        if wsFailures <= 3 { log("\(label): socket \(c.index) failed: \(reason)") }
    }

    func closed(_ c: WSClient) {
        if phase != .done && phase != .aborted { abort("the server closed socket \(c.index) (agent \(c.agent))") }
    }

    func received(_ c: WSClient, _ frame: UnsafeRawBufferPointer) {
        let now = monoNs()
        if c.agent < 0 {
            if Scan.has(frame, Keys.typeReady) { visitorsReady += 1 }
            return
        }
        Scan.lines(frame) { line in
            if target == .broker, let seq = Scan.leadingSeq(line) {
                if seq <= c.lastSeq { seqDuplicates += 1; return }
                c.lastSeq = seq
            }
            if Scan.has(line, Keys.typeMessage) || target == .baseline && !Scan.has(line, Keys.typeWelcome) {
                Scan.markers(line) { id, ns in deliver(id: id, ns: ns, now: now) }
            } else if Scan.has(line, Keys.typeOffer) {
                if c.console == 0, let offer = Scan.stringValue(line, after: Keys.offerId) {
                    c.send(#"{"type":"offer.accept","offerId":"\#(offer)","ref":2}"#)
                }
            } else if Scan.has(line, Keys.typeAck) {
                switch Scan.intValue(line, after: Keys.ref) {
                case 1: available += 1
                case 2: seeded += 1
                default: break
                }
            } else if Scan.has(line, Keys.typeWelcome) {
                welcomed += 1
                if c.console == 0 {
                    if target == .broker {
                        c.send(#"{"type":"presence.set","status":"available","ref":1}"#)
                    } else {
                        available += 1
                    }
                }
            } else if Scan.has(line, Keys.typeError) {
                wsErrors += 1
                if wsErrors <= 3 { log("\(label): error event: \(String(decoding: line, as: UTF8.self))") }
            }
        }
    }

    private func deliver(id: Int, ns: UInt64, now: UInt64) {
        if id < contacts {
            // A seed that reached an agent as a `message`: its conversation was already assigned
            // (the Baseline's first message, or a rerun against the same broker state).
            if !seedDone[id] { seedDone[id] = true; seeded += 1 }
            return
        }
        let k = id - contacts
        guard k < got.count else { unknown += 1; return }
        got[k] &+= 1
        if Int(got[k]) > consoles { duplicates += 1; return }
        deliveries += 1
        if ns >= t0 + UInt64(warmup * 1e9) { latency.record(ns: now &- ns) }
        if Int(got[k]) == consoles { fullyDelivered += 1 }
        lastDelivery = now
        lastProgress = now
    }

    // MARK: report

    private func report() -> Int32 {
        if let failure {
            print("\(label): FAILED: \(failure)")
            fflush(nil)
            return 1
        }
        let cpu1 = serverPid.flatMap { ProcStats.cpuSeconds(pid: $0) }
        let stats1 = redis.flatMap { CommandStats.read(host: $0.0, port: $0.1) }
        var lost = 0
        var deliveredUnacked = 0
        for k in 0..<got.count {
            if ackState[k] == 1 && Int(got[k]) < consoles { lost += 1 }
            if ackState[k] != 1 && got[k] > 0 { deliveredUnacked += 1 }
        }
        let window = Double((lastDelivery > t0 ? lastDelivery : tSendEnd) - t0) / 1e9
        let throughput = window > 0 ? Double(fullyDelivered) / window : 0
        var fields: [String: Any] = [
            "label": label, "target": target.rawValue, "agents": agentsCount, "consoles": consoles, "contacts": contacts,
            "connections": connections, "rate": rate, "duration": duration, "sent": sentMeasured, "acked": acked,
            "errors": errors, "delivered": fullyDelivered, "deliveries": deliveries, "lost": lost,
            "duplicates": duplicates + seqDuplicates, "unknown": unknown, "ws_errors": wsErrors,
            "delivered_unacked": deliveredUnacked, "window_s": window, "msgs_per_s": throughput,
        ]
        fields.merge(latency.json("latency")) { a, _ in a }
        var extra = ""
        if let cpu0, let cpu1 {
            let cpu = cpu1 - cpu0
            fields["server_cpu_s"] = cpu
            if deliveries > 0 {
                fields["cpu_us_per_event"] = cpu / Double(deliveries) * 1e6
                extra += String(format: " server CPU %.2f s = %.2f µs/event (%.1f%% of a core)", cpu, cpu / Double(deliveries) * 1e6, cpu / window * 100)
            }
        }
        if let stats0, let stats1, sentMeasured > 0 {
            let d = stats1.delta(since: stats0)
            let n = Double(max(acked, 1))
            fields["redis_scripts_per_msg"] = Double(d.scripts) / n
            fields["redis_commands_per_msg"] = Double(d.total - 2) / n   // less the INFO calls of the first reading
            let top = d.calls.sorted { $0.value > $1.value }.prefix(12).map { "\($0.key)=\(String(format: "%.2f", Double($0.value) / n))" }
            fields["redis_top"] = top.joined(separator: " ")
            fields["redis_cpu_s"] = d.cpuSeconds
            fields["redis_cpu_us_per_msg"] = d.cpuSeconds / n * 1e6
            extra += String(format: " redis: %.2f scripts/msg, %.2f commands/msg, CPU %.2f s = %.1f µs/msg [%@]", Double(d.scripts) / n,
                            Double(d.total - 2) / n, d.cpuSeconds, d.cpuSeconds / n * 1e6, top.joined(separator: " "))
        }
        let failed = lost > 0 || duplicates + seqDuplicates > 0 || errors > 0 || unknown > 0 || wsErrors > 0 || fullyDelivered == 0
        fields["failed"] = failed
        let errorText = errorStatuses.isEmpty ? "" : " statuses \(errorStatuses)"
        let human = String(format: "%@ [%@]: %.0f msgs/s over %.2f s; sent %d acked %d errors %d%@ delivered %d lost %d dup %d; latency %@%@",
                           label, target.rawValue, throughput, window, sentMeasured, acked, errors, errorText, fullyDelivered, lost,
                           duplicates + seqDuplicates, latency.summary, extra)
        emitResult(fields, human: human + (failed ? "\n\(label): FAILED (loss, duplicates, errors or nothing delivered)" : ""))
        return failed ? 1 : 0
    }
}

func ms(_ ns: UInt64) -> Int { Int(ns / 1_000_000) }
