import CLibWebSockets
import Glibc

/// What a scenario hears from its WebSocket clients. Loop thread only.
protocol WSOwner: AnyObject {
    func opened(_ c: WSClient)
    /// One complete text message (a server frame may hold several events separated by `\n`).
    func received(_ c: WSClient, _ frame: UnsafeRawBufferPointer)
    func failed(_ c: WSClient, _ reason: String)
    func closed(_ c: WSClient)
}

/// One lws client WebSocket (an agent console or a web visitor): a send queue written one frame
/// per writable callback, and reassembly of fragmented server frames.
final class WSClient: Peer {
    /// The first frame of the real protocol: agents authenticate (DESIGN §9), visitors say hello.
    func sendGreeting() {
        if agent >= 0 {
            send(#"{"type":"auth","token":"\#(BenchConfig.token(agent))"}"#)
        } else {
            send(#"{"type":"hello","channel":"web"}"#)
        }
    }

    enum State { case idle, connecting, open, closed }
    let index: Int
    /// Scenario data: agent number and console number (agents), or visitor number.
    var agent = 0
    var console = 0
    var state = State.idle
    /// The last event seq seen on this socket (broker agent streams): a repeat is a duplicate.
    var lastSeq: Int64 = 0
    private(set) var wsi: OpaquePointer?
    private unowned let owner: WSOwner
    private var out: [[UInt8]] = []
    private var outHead = 0
    private var rx: [UInt8] = []
    private var writeBuf: [UInt8] = []

    init(index: Int, owner: WSOwner) {
        self.index = index
        self.owner = owner
    }

    func connect(loop: Loop, host: String, port: Int, path: String, protocolName: String, sourceAddress: String?) -> Bool {
        var info = lws_client_connect_info()
        info.context = loop.context
        info.vhost = loop.vhost
        info.address = UnsafePointer(loop.cString(host))
        info.port = Int32(port)
        info.path = UnsafePointer(loop.cString(path))
        info.host = UnsafePointer(loop.cString("\(host):\(port)"))
        info.origin = UnsafePointer(loop.cString("http://\(host):\(port)"))
        info.protocol = UnsafePointer(loop.cString(protocolName))
        info.local_protocol_name = UnsafePointer(loop.cString(protocolName))
        if let sourceAddress { info.iface = UnsafePointer(loop.cString(sourceAddress)) }
        info.opaque_user_data = Unmanaged.passUnretained(self).toOpaque()
        state = .connecting
        guard let w = lws_client_connect_via_info(&info) else {
            state = .closed
            return false
        }
        wsi = w
        return true
    }

    /// Queues one text message.
    func send(_ text: String) {
        out.append(Array(text.utf8))
        if state == .open, let wsi { lws_callback_on_writable(wsi) }
    }

    var pendingSends: Int { out.count - outHead }

    override func lwsCallback(_ wsi: OpaquePointer, _ reason: lws_callback_reasons, _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
        switch reason {
        case LWS_CALLBACK_CLIENT_ESTABLISHED:
            self.wsi = wsi
            state = .open
            // Commands are small writes answered by small writes: without TCP_NODELAY, Nagle
            // holds a command until the previous segment is acknowledged (a delayed ACK: ~40 ms).
            let fd = lws_get_socket_fd(wsi)
            if fd >= 0 {
                var one: Int32 = 1
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            }
            owner.opened(self)
            if pendingSends > 0 { lws_callback_on_writable(wsi) }
            return 0
        case LWS_CALLBACK_CLIENT_RECEIVE:
            let complete = lws_is_final_fragment(wsi) != 0 && lws_remaining_packet_payload(wsi) == 0
            if rx.isEmpty && complete {
                owner.received(self, UnsafeRawBufferPointer(start: input, count: len))
            } else {
                rx.append(contentsOf: UnsafeRawBufferPointer(start: input, count: len))
                if complete {
                    rx.withUnsafeBytes { owner.received(self, $0) }
                    rx.removeAll(keepingCapacity: true)
                }
            }
            return 0
        case LWS_CALLBACK_CLIENT_WRITEABLE:
            guard outHead < out.count else { return 0 }
            let msg = out[outHead]
            out[outHead] = []
            outHead += 1
            if outHead == out.count { out.removeAll(keepingCapacity: true); outHead = 0 }
            let pre = sb_lws_pre()
            if writeBuf.count < pre + msg.count { writeBuf = [UInt8](repeating: 0, count: pre + msg.count + 256) }
            let n = writeBuf.withUnsafeMutableBufferPointer { buf -> Int32 in
                msg.withUnsafeBytes { src in
                    (buf.baseAddress! + pre).update(from: src.bindMemory(to: UInt8.self).baseAddress!, count: msg.count)
                }
                return lws_write(wsi, buf.baseAddress! + pre, msg.count, LWS_WRITE_TEXT)
            }
            if n < msg.count { return -1 }
            if pendingSends > 0 { lws_callback_on_writable(wsi) }
            return 0
        case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
            let reason = input.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? "connection error"
            state = .closed
            self.wsi = nil
            owner.failed(self, reason)
            return 0
        case LWS_CALLBACK_CLIENT_CLOSED:
            let was = state
            state = .closed
            self.wsi = nil
            if was == .open { owner.closed(self) }
            return 0
        case LWS_CALLBACK_WSI_DESTROY:
            self.wsi = nil
            if state == .connecting {
                state = .closed
                owner.failed(self, "destroyed before it connected")
            }
            return 0
        default:
            return lws_callback_http_dummy(wsi, reason, nil, input, len)
        }
    }
}
