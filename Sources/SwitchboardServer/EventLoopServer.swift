import CLibWebSockets
import SwitchboardCore
import SwitchboardCrypto
import SwitchboardLoop
import SwitchboardRedis

/// What the broker plugs into the event loop. Every method runs on the loop thread.
protocol EventLoopDelegate: AnyObject {
    /// A complete request: for GET at once, for bodies after `HTTP_BODY_COMPLETION`. The delegate
    /// answers through `exchange.respond`, now or after an asynchronous Redis reply.
    func handle(_ exchange: HTTPExchange)
    /// The largest body accepted for `method path`, asked once the headers are in (the route's
    /// own limit, else `limits.max_body_bytes`).
    func bodyLimit(method: String, path: String) -> Int
    /// Whether to accept a WebSocket upgrade for `path` from `remoteAddress` (rate limits, routes):
    /// nil accepts; otherwise the HTTP answer to refuse with (404 unknown path, 429 rate limited
    /// with Retry-After, 503 shutting down).
    func refusalOfWebSocket(path: String, remoteAddress: String) -> HTTPResponse?
    /// The session for an accepted WebSocket, or nil to close it.
    func openWebSocket(wsi: OpaquePointer, path: String) -> WebSocketSession?
    /// `lws_cancel_service` was called (from another thread): drain cross-thread work.
    func loopWoke()
}

/// The lws context: one service thread for HTTP, WebSocket, TLS, Redis sockets and timers
/// (DESIGN §4, §5). Owns the protocol table for the life of the context.
///
/// Loop thread only, except `wake()` and `requestStop()`, which are safe from any thread
/// (`lws_cancel_service` is the only lws call that is).
final class EventLoopServer {
    let listen: ListenAddress
    let tls: TLSSettings?
    /// `limits.request_timeout` in whole seconds: how long a request's headers may take to arrive
    /// (lws' header-table idle timeout), and then its body (`HTTPExchange`'s deadline).
    let requestTimeout: Int
    private(set) var context: OpaquePointer?
    private(set) var vhost: OpaquePointer?
    weak var delegate: EventLoopDelegate?
    private var protocols: UnsafeMutablePointer<lws_protocols>?
    private var protocolNames: [UnsafeMutablePointer<CChar>] = []
    private let stopFlag = StopFlag()
    private var driver: LoopDriver?

    static let agentProtocol = "switchboard.agent.v1"
    static let visitorProtocol = "switchboard.visitor.v1"

    init(listen: ListenAddress, tls: TLSSettings?, requestTimeout: Int = 10) {
        self.listen = listen
        self.tls = tls
        self.requestTimeout = max(1, requestTimeout)
    }

    deinit {
        destroy()
    }

    /// Tears the context down (closing every socket). Called once the broker has stopped.
    func destroy() {
        guard context != nil else { return }
        driver?.destroy()
        driver = nil
        self.context = nil
        protocols?.deallocate()
        protocols = nil
        protocolNames.forEach { free($0) }
        protocolNames = []
    }

    /// Creates the context and starts listening. Throws with lws' reason on failure.
    func start() throws {
        // protocols[0] must be HTTP (DESIGN §5). Clients that send no Sec-WebSocket-Protocol bind
        // to it, so it routes WebSocket upgrades by path as well; the named protocols let
        // browsers negotiate the subprotocol the DESIGN specifies.
        let names = ["http", Self.agentProtocol, Self.visitorProtocol, redisRawProtocolName]
        protocolNames = names.map { strdup($0)! }
        let table = UnsafeMutablePointer<lws_protocols>.allocate(capacity: names.count + 1)
        for i in 0..<names.count {
            var p = lws_protocols()
            p.name = UnsafePointer(protocolNames[i])
            if names[i] == redisRawProtocolName {
                p.callback = redisRawProtocolCallback
            } else {
                p.callback = eventLoopCallback
            }
            p.per_session_data_size = 0
            p.rx_buffer_size = 0
            (table + i).initialize(to: p)
        }
        (table + names.count).initialize(to: lws_protocols())
        protocols = table

        // lws logs notices to stderr by default; keep errors and warnings only, the broker logs
        // its own structured lines.
        lws_set_log_level(Int32(LLL_ERR) | Int32(LLL_WARN), nil)
        var info = lws_context_creation_info()
        info.port = Int32(listen.port)
        info.protocols = UnsafePointer(table)
        info.user = Unmanaged.passUnretained(self).toOpaque()
        info.options = sb_lws_server_options(tls != nil ? 1 : 0)
        info.max_http_header_data = 4096
        info.pt_serv_buf_size = 32 * 1024
        info.count_threads = 1
        info.timeout_secs = 20
        info.keepalive_timeout = 30
        // From a request's first byte to its blank line (lws holds a header table meanwhile; the
        // default was 10 s whatever the configuration, issue 9). The body has its own deadline.
        info.timeout_secs_ah_idle = UInt32(requestTimeout)
        let iface = strdup(listen.host)
        defer { free(iface) }
        if listen.host != "0.0.0.0" && listen.host != "*" && !listen.host.isEmpty {
            info.iface = UnsafePointer(iface)
        }
        let cert = tls.map { strdup($0.cert) } ?? nil
        let key = tls.map { strdup($0.key) } ?? nil
        defer { free(cert); free(key) }
        if tls != nil {
            info.ssl_cert_filepath = UnsafePointer(cert)
            info.ssl_private_key_filepath = UnsafePointer(key)
        }
        guard let driver = LoopDriver(&info) else {
            throw ServerError.startFailed("could not listen on \(listen.host):\(listen.port)\(tls != nil ? " with TLS (check tls.cert/tls.key)" : "")")
        }
        self.driver = driver
        context = driver.context
        vhost = lws_get_vhost_by_name(driver.context, "default")
        guard vhost != nil else { throw ServerError.startFailed("lws created no default vhost") }
    }

    /// Whether descriptors are watched with epoll (libev) rather than poll(2): see `LoopDriver`.
    var usesEpoll: Bool { driver?.usesEpoll ?? false }
    /// Whether poll(2) was asked for rather than fallen back to.
    var pollRequested: Bool { driver?.pollRequested ?? false }

    /// Services the loop until `requestStop()`. Returns on the loop thread.
    func run() {
        guard let driver else { return }
        while !stopFlag.isSet {
            if !driver.turn() { break }
        }
    }

    /// Services pending work for up to about `milliseconds` more (used during shutdown).
    func serviceBriefly(until deadline: () -> Bool) {
        guard let context else { return }
        // A loop turn sleeps until the next socket event or timer, and by now the broker's timers
        // are stopped: without a tick of its own, an idle loop never came back to check the
        // deadline and SIGTERM hung until some packet arrived (or SIGKILL).
        let tick = RepeatingLoopTimer(context: context, interval: 0.02) {}
        tick.start()
        defer { tick.stop() }
        while !deadline() {
            if let driver, !driver.turn() { break }
        }
    }

    /// Safe from any thread.
    func wake() {
        if let context { lws_cancel_service(context) }
    }

    /// Safe from any thread: makes `run()` return after the current loop turn.
    func requestStop() {
        stopFlag.set()
        wake()
    }

    /// A Sendable closure that requests the stop, for signal handlers on other threads.
    var stopSignal: @Sendable () -> Void {
        let flag = stopFlag
        let waker = context.map(LoopWaker.init(context:))
        return {
            flag.set()
            waker?.wake()
        }
    }

    var stopRequested: Bool { stopFlag.isSet }

    // MARK: callback dispatch

    fileprivate func callback(_ wsi: OpaquePointer, _ reason: lws_callback_reasons, _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
        switch reason {
        case LWS_CALLBACK_RAW_ADOPT:
            // Only `CONNECT` gets here: lws turns its connection into a raw socket bound to
            // protocols[0] (the Redis sockets have their own callback) and left it open with no
            // timeout at all (issue 9). Answer 501 and close.
            lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, Int32(requestTimeout))
            lws_callback_on_writable(wsi)
            return 0

        case LWS_CALLBACK_RAW_WRITEABLE:
            Self.writeRaw(wsi, HTTPResponse(status: 501, contentType: "application/json; charset=utf-8",
                                            body: Array(JSONText.errorBody(code: "not_implemented", message: "CONNECT is not supported").utf8)))
            return -1

        case LWS_CALLBACK_RAW_RX:
            return 0   // a tunnel's bytes: ignored, the answer is on its way

        case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
            delegate?.loopWoke()
            return 0

        case LWS_CALLBACK_HTTP:
            guard let (method, path) = HTTPExchange.methodAndPath(wsi) else { return -1 }
            LoopConnection.detach(from: wsi)   // a previous keep-alive transaction's exchange
            let bodyLimit = delegate?.bodyLimit(method: method, path: path) ?? 0
            let exchange = HTTPExchange(wsi: wsi, method: method, path: path, bodyLimit: bodyLimit)
            exchange.attach(to: wsi)
            if let header = HTTPExchange.headerWithForbiddenByte(wsi) {
                // RFC 9110 §5.5; the body, if any, is never read: answer and close.
                exchange.respondError(status: 400, code: "bad_request", message: "the value of \(header) holds a NUL, CR or LF byte", close: true)
                return 0
            }
            if let length = exchange.headers["content-length"], exchange.declaredLength == nil || exchange.declaredLength! < 0 {
                // lws waited for a body of -1 or 2^64 bytes until its own timeout (issue 9).
                exchange.respondError(status: 400, code: "bad_request", message: "Content-Length must be a number of bytes, found '\(length.prefix(32))'", close: true)
                return 0
            }
            // A request with neither Content-Length nor Transfer-Encoding has no body (RFC 9112
            // §6.3), nor has one with Content-Length 0: lws sends no BODY_COMPLETION for those
            // (PUT and PATCH), so they are handled now, not left hanging until the client gives up.
            let hasBody = (exchange.declaredLength ?? 0) > 0 || lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0
            if method == "POST" || method == "PUT" || method == "PATCH", hasBody {
                if let declared = exchange.declaredLength, declared > bodyLimit {
                    exchange.respondError(status: 413, code: "too_large", message: "request body of \(declared) bytes exceeds the limit of \(bodyLimit) bytes", close: true)
                    return 0
                }
                // lws renews its own body timeout on every chunk: a body sent a byte at a time
                // never ended it. The whole body gets `requestTimeout`, then 408 (issue 9).
                if let context { exchange.startBodyDeadline(context: context, seconds: requestTimeout) }
                return 0   // wait for the body
            }
            exchange.dispatched = true
            exchange.closeAfterAnswer = hasBody
            delegate?.handle(exchange)
            return 0

        case LWS_CALLBACK_HTTP_BODY:
            guard let exchange = LoopConnection.attached(to: wsi) as? HTTPExchange, !exchange.responded else { return 0 }
            let chunk = UnsafeRawBufferPointer(start: input, count: len)
            if !exchange.appendBody(chunk) {
                exchange.respondError(status: 413, code: "too_large", message: "request body exceeds the limit of \(exchange.bodyLimit) bytes", close: true)
            }
            return 0

        case LWS_CALLBACK_HTTP_BODY_COMPLETION:
            guard let exchange = LoopConnection.attached(to: wsi) as? HTTPExchange, !exchange.responded, !exchange.dispatched else { return 0 }
            exchange.dispatched = true
            exchange.bodyArrived()
            delegate?.handle(exchange)
            return 0

        case LWS_CALLBACK_HTTP_WRITEABLE:
            guard let exchange = LoopConnection.attached(to: wsi) as? HTTPExchange else { return 0 }
            return exchange.writeResponse()

        case LWS_CALLBACK_CLOSED_HTTP:
            LoopConnection.detach(from: wsi)
            return 0

        case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
            // Before lws matches Sec-WebSocket-Protocol: it drops an upgrade naming none of its
            // protocols without a word, and would bind one naming `http` or `sb-redis` to them.
            if let refusal = Self.subprotocolRefusal(wsi) {
                Self.writeRefusal(wsi, refusal)
                return -1
            }
            return 0

        case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
            if let refusal = Self.handshakeRefusal(wsi) {
                Self.writeRefusal(wsi, refusal)
                return 1
            }
            let path = HTTPExchange.copyHeader(wsi, WSI_TOKEN_GET_URI) ?? ""
            guard let delegate else { return 1 }
            guard let refusal = delegate.refusalOfWebSocket(path: path, remoteAddress: LoopConnection.peerAddress(wsi)) else {
                return 0
            }
            // Answer the upgrade request with a plain HTTP response before lws drops it, so a
            // client sees 429 (and when to retry) or 404 rather than a bare disconnect.
            Self.writeRefusal(wsi, refusal)
            return 1

        case LWS_CALLBACK_ESTABLISHED:
            let path = HTTPExchange.copyHeader(wsi, WSI_TOKEN_GET_URI) ?? ""
            LoopConnection.detach(from: wsi)
            guard let session = delegate?.openWebSocket(wsi: wsi, path: path) else { return -1 }
            session.attach(to: wsi)
            return 0

        case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
            // lws answers a close by echoing its payload, after rewriting some invalid codes to
            // 1002 but not all (5000 passed) and not a 1-byte payload (RFC 6455 §5.5.1, §7.4).
            // A reason set with `lws_close_reason` is overwritten by that echo, and returning -1
            // after it closed without a frame: the close frame is written here, then the socket closed.
            guard !CloseCode.isValidClosePayload(UnsafeRawBufferPointer(start: input, count: len)) else { return 0 }
            let pre = sb_lws_pre()
            let code = CloseCode.protocolError.rawValue
            var frame = [UInt8](repeating: 0, count: pre) + [UInt8(code >> 8), UInt8(code & 0xFF)] + Array("invalid close frame".utf8)
            let length = frame.count - pre
            _ = frame.withUnsafeMutableBufferPointer { lws_write(wsi, $0.baseAddress! + pre, length, Self.writeClose) }
            return -1

        case LWS_CALLBACK_RECEIVE:
            guard let session = LoopConnection.attached(to: wsi) as? WebSocketSession else { return -1 }
            return session.receive(UnsafeRawBufferPointer(start: input, count: len))

        case LWS_CALLBACK_SERVER_WRITEABLE:
            guard let session = LoopConnection.attached(to: wsi) as? WebSocketSession else { return -1 }
            return session.writable()

        case LWS_CALLBACK_CLOSED:
            if let session = LoopConnection.attached(to: wsi) as? WebSocketSession {
                LoopConnection.detach(from: wsi)
                session.closed()
            }
            return 0

        default:
            if let client = LoopConnection.attached(to: wsi) as? HTTPClientRequest,
               let handled = client.callback(wsi, reason, input, len) {
                return handled
            }
            return lws_callback_http_dummy(wsi, reason, nil, input, len)
        }
    }
}

extension EventLoopServer {
    /// What RFC 6455 §4.2.1 requires of an opening handshake that lws 4.1 does not check: version
    /// 13 (else 426 with the version the server speaks, §4.4; missing: 400) and a key that is 16
    /// bytes in base64 (else 400); and header values without NUL, CR or LF (RFC 9110 §5.5). lws
    /// accepted version 8, no version, and a 3-character key (issue 9). nil: go on.
    static func handshakeRefusal(_ wsi: OpaquePointer) -> HTTPResponse? {
        if let header = HTTPExchange.headerWithForbiddenByte(wsi) {
            return refusal(400, "the value of \(header) holds a NUL, CR or LF byte")
        }
        guard let version = HTTPExchange.copyHeader(wsi, WSI_TOKEN_VERSION) else {
            return refusal(400, "Sec-WebSocket-Version is missing", [("sec-websocket-version", "13")])
        }
        guard version == "13" else {
            return refusal(426, "Sec-WebSocket-Version must be 13", [("sec-websocket-version", "13")])
        }
        guard let key = HTTPExchange.copyHeader(wsi, WSI_TOKEN_KEY),
              Base64.decode(key)?.count == 16 else {
            return refusal(400, "Sec-WebSocket-Key must be 16 bytes in base64")
        }
        return nil
    }

    /// A Sec-WebSocket-Protocol list must name a subprotocol the broker speaks (lws binds the first
    /// it knows, in the client's order) and none of its other protocols: `http` and `sb-redis`
    /// (the hiredis sockets' raw protocol) are in lws' table but are not WebSocket protocols
    /// (hostile-input tier, issue 9: `sb-redis` was upgraded and left as a dead socket). No list
    /// at all is fine: the path chooses.
    static func subprotocolRefusal(_ wsi: OpaquePointer) -> HTTPResponse? {
        guard let list = HTTPExchange.copyHeader(wsi, WSI_TOKEN_PROTOCOL) else { return nil }
        let offered = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let ours = [agentProtocol, visitorProtocol]
        guard let first = offered.first(where: { ours.contains($0) || $0 == "http" || $0 == redisRawProtocolName }),
              ours.contains(first) else {
            return refusal(400, "Sec-WebSocket-Protocol must name \(agentProtocol) or \(visitorProtocol), found '\(list.prefix(64))'")
        }
        return nil
    }

    static func refusal(_ status: Int, _ message: String, _ headers: [(String, String)] = []) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "application/json; charset=utf-8",
                     body: Array(JSONText.errorBody(code: status == 426 ? "upgrade_required" : "bad_request", message: message).utf8),
                     headers: headers)
    }

    /// An HTTP/1.1 response written as is. `lws_return_http_status` answers an upgrade request
    /// with an `HTTP/1.0` status line and no headers: strict WebSocket clients (python
    /// `websockets`) reject that as an invalid response, and there is no room for Retry-After.
    static func writeRefusal(_ wsi: OpaquePointer, _ r: HTTPResponse) {
        write(wsi, r, as: LWS_WRITE_HTTP_HEADERS)
    }

    /// The same response on a connection lws has turned into a raw socket (`CONNECT`).
    static func writeRaw(_ wsi: OpaquePointer, _ r: HTTPResponse) {
        write(wsi, r, as: LWS_WRITE_HTTP)   // LWS_WRITE_RAW is a #define of this
    }

    /// lws 4.1's `LWS_WRITE_CLOSE` (4): the header keeps its slot in `lws_write_protocol` but does
    /// not name it ("handled by lws_close_reason()"); `lws_write` frames it as a close frame.
    static let writeClose = lws_write_protocol(rawValue: 4)

    private static func write(_ wsi: OpaquePointer, _ r: HTTPResponse, as protocolKind: lws_write_protocol) {
        let reason: String
        switch r.status {
        case 400: reason = "Bad Request"
        case 404: reason = "Not Found"
        case 426: reason = "Upgrade Required"
        case 501: reason = "Not Implemented"
        case 429: reason = "Too Many Requests"
        case 503: reason = "Service Unavailable"
        default: reason = "Refused"
        }
        var head = "HTTP/1.1 \(r.status) \(reason)\r\ncontent-type: \(r.contentType)\r\ncontent-length: \(r.body.count)\r\n"
            + "connection: close\r\ncache-control: no-store\r\n"
        for (name, value) in r.headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        let pre = sb_lws_pre()
        var out = [UInt8](repeating: 0, count: pre)
        out.append(contentsOf: head.utf8)
        out.append(contentsOf: r.body)
        let length = out.count - pre
        _ = out.withUnsafeMutableBufferPointer { buf in
            lws_write(wsi, buf.baseAddress! + pre, length, protocolKind)
        }
    }
}

enum ServerError: Error, CustomStringConvertible {
    case startFailed(String)
    var description: String {
        switch self {
        case .startFailed(let m): return m
        }
    }
}

/// The C callback for every protocol but the Redis raw one: reaches the Swift server through the
/// context user pointer (DESIGN §5).
private func eventLoopCallback(_ wsi: OpaquePointer?, _ reason: lws_callback_reasons, _ user: UnsafeMutableRawPointer?,
                               _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
    guard let wsi, let context = lws_get_context(wsi), let p = lws_context_user(context) else {
        return lws_callback_http_dummy(wsi, reason, user, input, len)
    }
    return Unmanaged<EventLoopServer>.fromOpaque(p).takeUnretainedValue().callback(wsi, reason, input, len)
}
