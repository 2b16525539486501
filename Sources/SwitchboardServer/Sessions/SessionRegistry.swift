/// Which sockets this node holds: agents by id (an agent may have several consoles open) and
/// visitors by conversation. Pub/sub pushes from any node's scripts are routed through it
/// (DESIGN §8: `sb:node:<id>` carries pushes to sockets held there).
///
/// Loop thread only.
final class SessionRegistry {
    private(set) var agents: [String: [AgentSession]] = [:]
    private(set) var visitors: [String: [VisitorSession]] = [:]
    private(set) var allVisitors: [ObjectIdentifier: VisitorSession] = [:]

    func add(agent session: AgentSession, id: String) {
        agents[id, default: []].append(session)
    }

    /// Removes the session; returns how many sessions that agent still has on this node.
    @discardableResult
    func remove(agent session: AgentSession, id: String) -> Int {
        var list = agents[id] ?? []
        list.removeAll { $0 === session }
        agents[id] = list.isEmpty ? nil : list
        return list.count
    }

    func add(visitor session: VisitorSession) {
        allVisitors[ObjectIdentifier(session)] = session
    }

    func bind(visitor session: VisitorSession, conversationId: String) {
        var list = visitors[conversationId] ?? []
        if !list.contains(where: { $0 === session }) { list.append(session) }
        visitors[conversationId] = list
    }

    /// Removes the visitor; returns how many sockets still follow its conversation here.
    @discardableResult
    func remove(visitor session: VisitorSession, conversationId: String?) -> Int {
        allVisitors.removeValue(forKey: ObjectIdentifier(session))
        guard let conversationId else { return 0 }
        var list = visitors[conversationId] ?? []
        list.removeAll { $0 === session }
        visitors[conversationId] = list.isEmpty ? nil : list
        return list.count
    }

    var agentSessionCount: Int { agents.values.reduce(0) { $0 + $1.count } }

    /// Routes one pub/sub payload `a:<agent>\n<json>` or `v:<conversation>\n<json>`.
    func dispatch(_ payload: [UInt8]) {
        guard payload.count > 2, let newline = payload.firstIndex(of: UInt8(ascii: "\n")) else { return }
        let target = String(decoding: payload[2..<newline], as: UTF8.self)
        let body = Array(payload[(newline + 1)...])
        switch payload[0] {
        case UInt8(ascii: "a"):
            guard let sessions = agents[target] else { return }
            let seq = AgentEventFraming.seq(of: body)
            for s in sessions { s.deliver(event: body, seq: seq) }
        case UInt8(ascii: "v"):
            for s in visitors[target] ?? [] { s.deliver(event: body) }
        default:
            break
        }
    }
}

/// Reads the `seq` of an agent event without decoding it: every script-emitted event starts with
/// `{"seq":N,` (see `emit_agent` in `_b_events.lua`), so a prefix scan is exact.
enum AgentEventFraming {
    private static let seqPrefix = Array("{\"seq\":".utf8)
    static let offerType = Array("\"type\":\"offer\"".utf8)

    /// Whether `needle` occurs in `event` (a plain byte scan).
    static func contains(_ event: [UInt8], _ needle: [UInt8]) -> Bool {
        let n = event.count, m = needle.count
        guard m > 0, n >= m else { return false }
        return event.withUnsafeBufferPointer { e in
            needle.withUnsafeBufferPointer { k in
                let first = k[0]
                var i = 0
                while i <= n - m {
                    if e[i] == first {
                        var j = 1
                        while j < m && e[i + j] == k[j] { j += 1 }
                        if j == m { return true }
                    }
                    i += 1
                }
                return false
            }
        }
    }

    static func seq(of event: [UInt8]) -> Int64? {
        let prefix = seqPrefix
        guard event.count > prefix.count, event.starts(with: prefix) else { return nil }
        var value: Int64 = 0
        var i = prefix.count
        var digits = 0
        while i < event.count, event[i] >= 48, event[i] <= 57 {
            value = value * 10 + Int64(event[i] - 48)
            i += 1
            digits += 1
        }
        return digits > 0 ? value : nil
    }
}
