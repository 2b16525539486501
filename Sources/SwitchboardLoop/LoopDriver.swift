import CLibWebSockets
import Glibc
import Synchronization

/// Creates an lws context and turns its loop: on libev with the epoll backend when the Debian
/// plugin `libwebsockets-evlib-ev` is installed, else on lws 4.1's built-in poll(2) loop.
///
/// Why epoll: poll(2) hands the kernel every descriptor on every turn. With 1,000 consoles
/// connected, `perf record -e cpu-clock -g -p <broker>` under Bench S5 put ~45% of the broker's
/// CPU in sock_poll, fdget, tcp_poll and do_sys_poll (Bench/README.md). The libev loop is
/// "foreign" (ours, handed to lws through `foreign_loops`), so the owner still decides when a turn
/// runs and when to stop. `SWITCHBOARD_EVENT_LOOP=poll` forces the poll(2) loop (for comparisons).
///
/// Loop thread only, except `evLoop(of:)`, which any thread may call.
public final class LoopDriver {
    public let context: OpaquePointer
    private let evLoop: UnsafeMutableRawPointer?
    private let foreignLoops: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
    private var kick: RepeatingLoopTimer?

    /// Context address → its libev loop, for LoopTimer (which is handed only the context).
    private static let registry = Mutex<[UInt: UInt]>([:])

    /// Whether descriptors are watched with epoll (libev) rather than poll(2).
    public var usesEpoll: Bool { evLoop != nil }
    /// Whether poll(2) was asked for (`SWITCHBOARD_EVENT_LOOP=poll`) rather than fallen back to.
    public let pollRequested: Bool

    /// Creates the context (nil when lws refuses `info`, e.g. the port is taken).
    public init?(_ info: inout lws_context_creation_info) {
        pollRequested = getenv("SWITCHBOARD_EVENT_LOOP").map { String(cString: $0) } == "poll"
        if !pollRequested, let loop = sb_ev_loop_new() {
            let loops = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: 1)
            loops.initialize(to: loop)
            var evInfo = info
            evInfo.options |= sb_lws_option_libev()
            evInfo.foreign_loops = loops
            if let ctx = lws_create_context(&evInfo) {
                context = ctx
                evLoop = loop
                foreignLoops = loops
                Self.registry.withLock { $0[UInt(bitPattern: Int(bitPattern: ctx))] = UInt(bitPattern: loop) }
                // lws' own timeouts (HTTP idle, handshakes) still live on its hrtimer, which is
                // only re-armed correctly after it fires or when an event is serviced (shim.h): a
                // wake-up once a second bounds how late they run on an otherwise idle loop.
                let kick = RepeatingLoopTimer(context: ctx, interval: 1) { lws_cancel_service(ctx) }
                kick.start()
                self.kick = kick
                lws_cancel_service(ctx)
                return
            }
            loops.deallocate()
            sb_ev_loop_destroy(loop)
        }
        guard let ctx = lws_create_context(&info) else { return nil }
        context = ctx
        evLoop = nil
        foreignLoops = nil
    }

    /// The libev loop of `context`, or nil when it runs on poll(2).
    public static func evLoop(of context: OpaquePointer) -> UnsafeMutableRawPointer? {
        registry.withLock { $0[UInt(bitPattern: Int(bitPattern: context))] }.flatMap { UnsafeMutableRawPointer(bitPattern: $0) }
    }

    /// One loop turn: waits for the next socket event or timer and services what is ready.
    /// False when lws reports the context unusable.
    public func turn() -> Bool {
        if let evLoop {
            sb_ev_run_once(evLoop)
            return true
        }
        return lws_service(context, 0) >= 0
    }

    /// Destroys the context (closing every socket), then the libev loop. Once only.
    public func destroy() {
        kick?.stop()
        kick = nil
        lws_context_destroy(context)
        if let evLoop {
            Self.registry.withLock { _ = $0.removeValue(forKey: UInt(bitPattern: Int(bitPattern: context))) }
            sb_ev_loop_destroy(evLoop)
        }
        foreignLoops?.deallocate()
    }
}
