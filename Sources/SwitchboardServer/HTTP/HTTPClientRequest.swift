import CLibWebSockets
import SwitchboardCore
import SwitchboardLoop
import SwitchboardRedis

/// The outcome of an outbound HTTP request: status 0 means no HTTP answer (connection refused,
/// TLS failure, timeout), with the reason in `error`.
struct HTTPClientResult: Sendable {
    var status: Int
    var body: [UInt8]
    var error: String?
}

/// One outbound HTTP request on the loop with `lws_client_connect_via_info` (DESIGN §5,
/// "Outbound HTTP"): provider API calls for deliveries. No connection reuse: deliveries are few
/// per second per gateway, and a fresh connection keeps failure handling simple.
///
/// `completion` runs exactly once on the loop thread. The host must already be an IP literal or
/// `localhost`: DNS is synchronous in this lws build, so `OutboundHTTPClient` resolves names on a
/// worker thread first. Loop thread only.
final class HTTPClientRequest: LoopConnection {
    let request: HTTPClientTarget
    private let body: [UInt8]
    private var completion: ((HTTPClientResult) -> Void)?
    private var status = 0
    private var received: [UInt8] = []
    private let timer: LoopTimer
    private var headerLines: [(String, String)]
    /// The reference lws holds through the opaque user pointer; released exactly once.
    private var lwsReference: Unmanaged<HTTPClientRequest>?

    /// Bounded response capture: provider answers are small JSON; more is not needed to decide.
    static let maxResponseBytes = 64 << 10
    /// The most of the answer kept; past it the request ends as an error (a media fetch must not
    /// be mistaken for a whole file when it was cut).
    private let responseLimit: Int
    private var overflowed = false

    init(target: HTTPClientTarget, headers: [String: String], body: [UInt8], context: OpaquePointer,
         maxResponseBytes: Int = HTTPClientRequest.maxResponseBytes, completion: @escaping (HTTPClientResult) -> Void) {
        self.responseLimit = maxResponseBytes
        self.request = target
        self.body = body
        self.completion = completion
        self.timer = LoopTimer(context: context)
        var lines = headers.map { ($0.key.lowercased(), $0.value) }.filter { $0.0 != "host" && $0.0 != "content-length" }
        lines.append(("content-length", String(body.count)))
        self.headerLines = lines
        super.init(wsi: nil)
    }

    /// Starts the request; `timeout` bounds the whole exchange.
    func start(context: OpaquePointer, vhost: OpaquePointer, timeout: Double) {
        var info = lws_client_connect_info()
        let address = strdup(request.connectAddress)
        let path = strdup(request.pathAndQuery)
        let host = strdup(request.hostHeader)
        let method = strdup(request.method)
        let proto = strdup("http")
        let alpn = strdup("http/1.1")
        defer { for p in [address, path, host, method, proto, alpn] { free(p) } }
        info.context = context
        info.vhost = vhost
        info.address = UnsafePointer(address)
        info.port = Int32(request.port)
        info.path = UnsafePointer(path)
        info.host = UnsafePointer(host)
        info.origin = UnsafePointer(host)
        info.method = UnsafePointer(method)
        info.local_protocol_name = UnsafePointer(proto)
        info.alpn = UnsafePointer(alpn)
        info.ssl_connection = request.tls ? sb_lws_client_ssl_flags() : 0
        // Retained for lws (released in `finish`/CLOSED); lws may report a connection error
        // synchronously from inside lws_client_connect_via_info.
        let me = Unmanaged.passRetained(self)
        lwsReference = me
        info.opaque_user_data = me.toOpaque()
        timer.schedule(after: timeout) { [weak self] in
            guard let self else { return }
            if let wsi = self.wsi { lws_set_timeout(wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC) }
            self.finish(HTTPClientResult(status: 0, body: [], error: "timed out after \(timeout)s"))
        }
        var created: OpaquePointer?
        info.pwsi = withUnsafeMutablePointer(to: &created) { $0 }
        let wsi = lws_client_connect_via_info(&info)
        if wsi == nil {
            finish(HTTPClientResult(status: 0, body: [], error: "could not connect to \(request.connectAddress):\(request.port)"))
            releaseLwsReference(nil)
            return
        }
        if completion != nil { self.wsi = wsi }
    }

    private func releaseLwsReference(_ wsi: OpaquePointer?) {
        if let wsi { lws_set_opaque_user_data(wsi, nil) }
        self.wsi = nil
        guard let ref = lwsReference else { return }
        lwsReference = nil
        ref.release()
    }

    private func finish(_ result: HTTPClientResult) {
        timer.cancel()
        guard let c = completion else { return }
        completion = nil
        c(result)
    }

    /// Client-side lws reasons; nil for reasons this request does not handle.
    func callback(_ wsi: OpaquePointer, _ reason: lws_callback_reasons, _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32? {
        switch reason {
        case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
            self.wsi = wsi
            guard let input else { return -1 }
            let pp = input.assumingMemoryBound(to: UnsafeMutablePointer<UInt8>?.self)
            guard let start = pp.pointee else { return -1 }
            let end = start + len
            for (name, value) in headerLines {
                let n = name + ":"
                let rc = n.withCString { np in
                    value.withCString { vp in
                        lws_add_http_header_by_name(wsi, UnsafeRawPointer(np).assumingMemoryBound(to: UInt8.self),
                                                    UnsafeRawPointer(vp).assumingMemoryBound(to: UInt8.self), Int32(value.utf8.count), pp, end)
                    }
                }
                if rc != 0 { return -1 }
            }
            if !body.isEmpty {
                lws_client_http_body_pending(wsi, 1)
                lws_callback_on_writable(wsi)
            }
            return 0

        case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE:
            let pre = sb_lws_pre()
            var out = [UInt8](repeating: 0, count: pre + body.count)
            out.replaceSubrange(pre..<(pre + body.count), with: body)
            let n = out.withUnsafeMutableBufferPointer { lws_write(wsi, $0.baseAddress! + pre, body.count, LWS_WRITE_HTTP_FINAL) }
            lws_client_http_body_pending(wsi, 0)
            return n < 0 ? -1 : 0

        case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
            status = Int(lws_http_client_http_response(wsi))
            return 0

        case LWS_CALLBACK_RECEIVE_CLIENT_HTTP:
            let pre = sb_lws_pre()
            var buffer = [CChar](repeating: 0, count: pre + 4096)
            return buffer.withUnsafeMutableBufferPointer { buf -> Int32 in
                var px: UnsafeMutablePointer<CChar>? = buf.baseAddress! + pre
                var lenx = Int32(4096)
                return lws_http_client_read(wsi, &px, &lenx) < 0 ? -1 : 0
            }

        case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
            if let input, len > 0 {
                let room = responseLimit - received.count
                if room > 0 { received.append(contentsOf: UnsafeRawBufferPointer(start: input, count: min(len, room))) }
                if len > room { overflowed = true }
            }
            return 0

        case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
            finish(overflowed && responseLimit > Self.maxResponseBytes
                   ? HTTPClientResult(status: 0, body: [], error: "the answer is larger than \(responseLimit) bytes")
                   : HTTPClientResult(status: status, body: received, error: nil))
            return -1

        case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
            let reason = input.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? "connection error"
            finish(HTTPClientResult(status: 0, body: [], error: reason))
            releaseLwsReference(wsi)
            return 0

        case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
            if status > 0 {
                finish(HTTPClientResult(status: status, body: received, error: nil))
            } else {
                finish(HTTPClientResult(status: 0, body: [], error: "connection closed before a response"))
            }
            releaseLwsReference(wsi)
            return 0

        default:
            return nil
        }
    }
}

/// A parsed outbound URL. `connectAddress` is what lws connects to (an IP after resolution);
/// `hostHeader` keeps the original name for the Host header and TLS SNI.
struct HTTPClientTarget: Sendable {
    var method: String
    var tls: Bool
    var hostHeader: String
    var connectAddress: String
    var port: Int
    var pathAndQuery: String

    init?(method: String, url: String) {
        let tls: Bool
        var rest: Substring
        if url.hasPrefix("https://") { tls = true; rest = url.dropFirst(8) } else if url.hasPrefix("http://") { tls = false; rest = url.dropFirst(7) } else { return nil }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        rest = rest[slash...]
        var host = String(authority)
        var port = tls ? 443 : 80
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { guard let p = Int(after.dropFirst()) else { return nil }; port = p }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            guard let p = Int(authority[authority.index(after: colon)...]) else { return nil }
            port = p
        }
        guard !host.isEmpty, (1...65535).contains(port) else { return nil }
        self.method = method
        self.tls = tls
        self.hostHeader = (port == (tls ? 443 : 80)) ? host : "\(host):\(port)"
        self.connectAddress = host
        self.port = port
        self.pathAndQuery = rest.isEmpty ? "/" : String(rest)
    }

    /// Whether the host needs a DNS lookup before lws may connect (lws resolves synchronously).
    var needsResolution: Bool {
        let h = connectAddress
        if h == "localhost" { return false }
        if h.contains(":") { return false }   // IPv6 literal
        return !h.allSatisfy { $0.isNumber || $0 == "." }
    }
}
