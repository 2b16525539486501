import CLibWebSockets
import Glibc
import SwitchboardLoop

/// Monotonic clock in nanoseconds (CLOCK_MONOTONIC): every latency in the LoadGen is a difference
/// of two readings of it in this one process.
@inline(__always) func monoNs() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Something attached to an lws connection through its opaque user pointer. The owner keeps a
/// strong reference for the whole run, so the pointer is unretained.
class Peer {
    func lwsCallback(_ wsi: OpaquePointer, _ reason: lws_callback_reasons, _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
        0
    }
}

/// A client-only lws context (no listening socket), one service thread: WebSocket clients and
/// adopted raw sockets for the HTTP webhooks all run on it. Loop thread only.
final class Loop {
    static let agentProtocol = "switchboard.agent.v1"
    static let visitorProtocol = "switchboard.visitor.v1"
    static let rawProtocol = "bench-raw"

    let context: OpaquePointer
    let vhost: OpaquePointer
    /// epoll (libev) like the broker: with 1,000 sockets open, a poll(2) loop in the LoadGen
    /// would take CPU from the broker on the same two cores.
    private let driver: LoopDriver
    private let table: UnsafeMutablePointer<lws_protocols>
    private var strings: [String: UnsafeMutablePointer<CChar>] = [:]

    init() {
        let names = ["http", Self.agentProtocol, Self.visitorProtocol, Self.rawProtocol]
        table = .allocate(capacity: names.count + 1)
        for (i, name) in names.enumerated() {
            var p = lws_protocols()
            p.name = UnsafePointer(strdup(name))
            p.callback = loadgenCallback
            (table + i).initialize(to: p)
        }
        (table + names.count).initialize(to: lws_protocols())
        lws_set_log_level(Int32(LLL_ERR), nil)
        var info = lws_context_creation_info()
        info.port = -1   // CONTEXT_PORT_NO_LISTEN
        info.protocols = UnsafePointer(table)
        info.count_threads = 1
        info.timeout_secs = 30
        info.pt_serv_buf_size = 64 * 1024
        guard let driver = LoopDriver(&info) else { fatal("lws_create_context failed") }
        self.driver = driver
        let ctx = driver.context
        context = ctx
        guard let vh = lws_get_vhost_by_name(ctx, "default") else { fatal("lws created no default vhost") }
        vhost = vh
    }

    /// A C string that lives as long as the loop (lws keeps some connect-info pointers).
    func cString(_ s: String) -> UnsafeMutablePointer<CChar> {
        if let p = strings[s] { return p }
        let p = strdup(s)!
        strings[s] = p
        return p
    }

    /// Services the loop until `done()` is true. A 5 ms ticker keeps the loop turns returning.
    func run(until done: () -> Bool) {
        let tick = RepeatingLoopTimer(context: context, interval: 0.005) {}
        tick.start()
        defer { tick.stop() }
        while !done() {
            if !driver.turn() { break }
        }
    }

    func destroy() {
        driver.destroy()
    }
}

private func loadgenCallback(_ wsi: OpaquePointer?, _ reason: lws_callback_reasons, _ user: UnsafeMutableRawPointer?,
                             _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
    guard let wsi, let p = lws_get_opaque_user_data(wsi) else {
        return lws_callback_http_dummy(wsi, reason, user, input, len)
    }
    return Unmanaged<Peer>.fromOpaque(p).takeUnretainedValue().lwsCallback(wsi, reason, input, len)
}

func fatal(_ message: String) -> Never {
    errWrite("LoadGen: \(message)\n")
    exit(2)
}

func log(_ message: String) {
    errWrite("[loadgen] \(message)\n")
}

/// Writes to standard error without touching C's global `stderr` (not concurrency-safe in Swift 6).
func errWrite(_ s: String) {
    var s = s
    s.withUTF8 { b in _ = write(2, b.baseAddress, b.count) }
}
