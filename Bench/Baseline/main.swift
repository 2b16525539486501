import CLibWebSockets
import Glibc
import SwitchboardLoop
import SwitchboardRedis

// Baseline: the ceiling of Switchboard's own stack, measured by the same LoadGen (Bench/README.md).
//
// One lws service thread and one async hiredis connection driven by it (SwitchboardRedis'
// RedisAsyncConnection, as in the broker), doing only:
//   HTTP POST → one XADD (to a per-sender stream) → 200 once Redis answered → push the body to the
//   sender's agent sockets,
// where a sender is assigned to the connected agents round-robin the first time it is seen. Agent
// sockets (`/agent`, subprotocol switchboard.agent.v1) send `{"type":"auth","token":…}` first; all
// sockets with the same token are one agent (fan-out). Writes are coalesced per writable callback
// like the broker's (DESIGN §12). No parsing, no signature check, no routing, no JSON.
//
//   Baseline --listen 127.0.0.1:8090 --redis 127.0.0.1:6379

class Attached {
    var wsi: OpaquePointer?
    init(wsi: OpaquePointer?) { self.wsi = wsi }

    func attach(_ wsi: OpaquePointer) {
        self.wsi = wsi
        lws_set_opaque_user_data(wsi, Unmanaged.passRetained(self).toOpaque())
    }

    static func attached(_ wsi: OpaquePointer) -> Attached? {
        guard let p = lws_get_opaque_user_data(wsi) else { return nil }
        return Unmanaged<Attached>.fromOpaque(p).takeUnretainedValue()
    }

    static func detach(_ wsi: OpaquePointer) {
        guard let p = lws_get_opaque_user_data(wsi) else { return }
        lws_set_opaque_user_data(wsi, nil)
        let u = Unmanaged<Attached>.fromOpaque(p)
        u.takeUnretainedValue().wsi = nil
        u.release()
    }
}

final class Exchange: Attached {
    var body: [UInt8] = []
    var status = 0
    var reply: [UInt8] = []
    var isGet = false
}

final class AgentSocket: Attached {
    var key: String?
    var queue: [[UInt8]] = []
    var frame: [UInt8] = []

    func push(_ event: [UInt8]) {
        guard let wsi else { return }
        queue.append(event)
        if queue.count == 1 { lws_callback_on_writable(wsi) }
    }
}

final class BaselineServer {
    var context: OpaquePointer!
    var vhost: OpaquePointer!
    var redis: RedisAsyncConnection!
    var agents: [String: [AgentSocket]] = [:]
    var agentOrder: [String] = []
    var assignment: [[UInt8]: String] = [:]
    var next = 0
    let okBody = Array(#"<?xml version="1.0" encoding="UTF-8"?><Response></Response>"#.utf8)
    static let from = Array("From=".utf8)

    func start(host: String, port: Int, redisHost: String, redisPort: Int) {
        let names = ["http", "switchboard.agent.v1", redisRawProtocolName]
        let table = UnsafeMutablePointer<lws_protocols>.allocate(capacity: names.count + 1)
        for (i, name) in names.enumerated() {
            var p = lws_protocols()
            p.name = UnsafePointer(strdup(name))
            if name == redisRawProtocolName {
                p.callback = redisRawProtocolCallback
            } else {
                p.callback = baselineCallback
            }
            (table + i).initialize(to: p)
        }
        (table + names.count).initialize(to: lws_protocols())
        lws_set_log_level(Int32(LLL_ERR), nil)
        var info = lws_context_creation_info()
        info.port = Int32(port)
        info.iface = UnsafePointer(strdup(host))
        info.protocols = UnsafePointer(table)
        info.user = Unmanaged.passUnretained(self).toOpaque()
        info.max_http_header_data = 4096
        info.pt_serv_buf_size = 32 * 1024
        info.count_threads = 1
        info.timeout_secs = 20
        info.keepalive_timeout = 30
        // The same loop as the broker's (LoopDriver: epoll through libev when installed), so the
        // ratio compares the work done per message, not the event loops.
        guard let driver = LoopDriver(&info) else {
            errWrite("Baseline: cannot listen on \(host):\(port)\n")
            exit(1)
        }
        let ctx = driver.context
        context = ctx
        vhost = lws_get_vhost_by_name(ctx, "default")
        redis = RedisAsyncConnection(endpoint: .tcp(host: redisHost, port: redisPort, db: 0), name: "baseline", context: ctx, vhost: vhost)
        redis.onConnect = { errWrite("Baseline: redis connected\n") }
        redis.start()
        errWrite("Baseline: listening on \(host):\(port) (\(driver.usesEpoll ? "epoll" : "poll"))\n")
        while driver.turn() {}
    }

    /// The raw (still form-encoded) From value: the sender key.
    func sender(_ body: [UInt8]) -> [UInt8] {
        let key = Self.from
        var i = 0
        while i + key.count <= body.count {
            if (i == 0 || body[i - 1] == UInt8(ascii: "&")) && body[i] == key[0] && Array(body[i..<(i + key.count)]) == key {
                var j = i + key.count
                while j < body.count && body[j] != UInt8(ascii: "&") { j += 1 }
                return Array(body[(i + key.count)..<j])
            }
            i += 1
        }
        return []
    }

    func handle(_ ex: Exchange) {
        let from = sender(ex.body)
        var agentKey = assignment[from]
        if agentKey == nil, !agentOrder.isEmpty {
            agentKey = agentOrder[next % agentOrder.count]
            next += 1
            assignment[from] = agentKey
        }
        let body = ex.body
        let stream = "bl:{" + String(decoding: from, as: UTF8.self) + "}:log"
        redis.send(["XADD", stream, "*", "m", String(decoding: body, as: UTF8.self)]) { [weak self] result in
            guard let self else { return }
            switch result {
            case .success(.error(let e)):
                ex.status = 503
                ex.reply = Array(e.utf8)
            case .success:
                ex.status = 200
                ex.reply = self.okBody
                if let agentKey { for s in self.agents[agentKey] ?? [] { s.push(body) } }
            case .failure(let e):
                ex.status = 503
                ex.reply = Array(e.message.utf8)
            }
            if let wsi = ex.wsi { lws_callback_on_writable(wsi) }
        }
    }

    func writeResponse(_ wsi: OpaquePointer, _ ex: Exchange) -> Int32 {
        guard ex.status != 0 else { return 0 }
        let pre = sb_lws_pre()
        var buf = [UInt8](repeating: 0, count: pre + 512 + ex.reply.count)
        let status = ex.status
        ex.status = 0
        let ok: Bool = buf.withUnsafeMutableBufferPointer { b in
            let start = b.baseAddress! + pre
            let end = b.baseAddress! + pre + 512
            var p: UnsafeMutablePointer<UInt8>? = start
            if lws_add_http_common_headers(wsi, UInt32(status), status == 200 ? "text/xml" : "text/plain", lws_filepos_t(ex.reply.count), &p, end) != 0 { return false }
            if lws_finalize_write_http_header(wsi, start, &p, end) != 0 { return false }
            return true
        }
        guard ok else { return -1 }
        if !ex.reply.isEmpty {
            var out = [UInt8](repeating: 0, count: pre + ex.reply.count)
            out.replaceSubrange(pre..<(pre + ex.reply.count), with: ex.reply)
            let n = out.withUnsafeMutableBufferPointer { lws_write(wsi, $0.baseAddress! + pre, ex.reply.count, LWS_WRITE_HTTP_FINAL) }
            if n < 0 { return -1 }
        }
        return lws_http_transaction_completed(wsi) != 0 ? -1 : 0
    }

    func writeAgent(_ wsi: OpaquePointer, _ s: AgentSocket) -> Int32 {
        guard !s.queue.isEmpty else { return 0 }
        let pre = sb_lws_pre()
        s.frame.removeAll(keepingCapacity: true)
        s.frame.append(contentsOf: repeatElement(0, count: pre))
        for (i, e) in s.queue.enumerated() {
            if i > 0 { s.frame.append(10) }
            s.frame.append(contentsOf: e)
        }
        s.queue.removeAll(keepingCapacity: true)
        let len = s.frame.count - pre
        let n = s.frame.withUnsafeMutableBufferPointer { lws_write(wsi, $0.baseAddress! + pre, len, LWS_WRITE_TEXT) }
        return n < len ? -1 : 0
    }

    func callback(_ wsi: OpaquePointer, _ reason: lws_callback_reasons, _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
        switch reason {
        case LWS_CALLBACK_HTTP:
            Attached.detach(wsi)
            let ex = Exchange(wsi: wsi)
            ex.attach(wsi)
            if lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0 { return 0 }
            ex.isGet = true
            ex.status = 200
            ex.reply = Array("{\"status\":\"ok\"}".utf8)
            lws_callback_on_writable(wsi)
            return 0
        case LWS_CALLBACK_HTTP_BODY:
            if let ex = Attached.attached(wsi) as? Exchange {
                ex.body.append(contentsOf: UnsafeRawBufferPointer(start: input, count: len))
            }
            return 0
        case LWS_CALLBACK_HTTP_BODY_COMPLETION:
            if let ex = Attached.attached(wsi) as? Exchange { handle(ex) }
            return 0
        case LWS_CALLBACK_HTTP_WRITEABLE:
            guard let ex = Attached.attached(wsi) as? Exchange else { return 0 }
            return writeResponse(wsi, ex)
        case LWS_CALLBACK_CLOSED_HTTP:
            Attached.detach(wsi)
            return 0
        case LWS_CALLBACK_ESTABLISHED:
            Attached.detach(wsi)
            AgentSocket(wsi: wsi).attach(wsi)
            return 0
        case LWS_CALLBACK_RECEIVE:
            guard let s = Attached.attached(wsi) as? AgentSocket else { return -1 }
            if s.key == nil {
                let text = String(decoding: UnsafeRawBufferPointer(start: input, count: len), as: UTF8.self)
                guard let r = text.range(of: "\"token\":\"") else { return -1 }
                let key = String(text[r.upperBound...].prefix { $0 != "\"" })
                s.key = key
                if agents[key] == nil { agentOrder.append(key) }
                agents[key, default: []].append(s)
                s.push(Array("{\"type\":\"welcome\"}".utf8))
            }
            return 0
        case LWS_CALLBACK_SERVER_WRITEABLE:
            guard let s = Attached.attached(wsi) as? AgentSocket else { return 0 }
            return writeAgent(wsi, s)
        case LWS_CALLBACK_CLOSED:
            if let s = Attached.attached(wsi) as? AgentSocket, let key = s.key {
                agents[key]?.removeAll { $0 === s }
            }
            Attached.detach(wsi)
            return 0
        default:
            return lws_callback_http_dummy(wsi, reason, nil, input, len)
        }
    }
}

private func baselineCallback(_ wsi: OpaquePointer?, _ reason: lws_callback_reasons, _ user: UnsafeMutableRawPointer?,
                              _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
    guard let wsi, let ctx = lws_get_context(wsi), let p = lws_context_user(ctx) else {
        return lws_callback_http_dummy(wsi, reason, user, input, len)
    }
    return Unmanaged<BaselineServer>.fromOpaque(p).takeUnretainedValue().callback(wsi, reason, input, len)
}

signal(SIGPIPE, SIG_IGN)
var listen = "127.0.0.1:8090"
var redisAddr = "127.0.0.1:6379"
var args = Array(CommandLine.arguments.dropFirst())
while args.count >= 2 {
    switch args[0] {
    case "--listen": listen = args[1]
    case "--redis": redisAddr = args[1]
    default: break
    }
    args.removeFirst(2)
}
func split(_ s: String) -> (String, Int) {
    (String(s.prefix { $0 != ":" }), Int(s.split(separator: ":").last ?? "") ?? 0)
}
let (h, p) = split(listen)
let (rh, rp) = split(redisAddr)
BaselineServer().start(host: h, port: p, redisHost: rh, redisPort: rp)

func errWrite(_ s: String) {
    var s = s
    s.withUTF8 { b in _ = write(2, b.baseAddress, b.count) }
}
