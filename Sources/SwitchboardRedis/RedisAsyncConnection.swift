import CHiredis
import CLibWebSockets
import SwitchboardLoop

/// The name of the lws protocol that carries adopted Redis sockets. The server lists it in its
/// protocol table with `redisRawProtocolCallback` as the callback.
public let redisRawProtocolName = "sb-redis"

/// One hiredis async connection driven by the lws loop (DESIGN §5, "Redis on the loop").
///
/// - The socket is adopted into lws as a raw file descriptor (a `dup`, so lws and hiredis each
///   close their own). lws always polls POLLIN on it; POLLOUT is requested only while connecting
///   or when a write could not complete.
/// - Commands issued during one loop turn are written together on the next turn (a zero-delay
///   timer), so a burst pipelines into one `write`.
/// - On disconnect every pending completion fails with `.unavailable`; the connection then
///   reconnects with capped exponential backoff and calls `onConnect` again (scripts are reloaded
///   and subscriptions renewed by the owner there).
///
/// Loop thread only: not Sendable.
public final class RedisAsyncConnection: RedisCommanding {
    public let endpoint: RedisEndpoint
    public let name: String
    /// Called on the loop after each successful (re)connect and SELECT.
    public var onConnect: (() -> Void)?
    /// Called on the loop when an established connection drops or a connect attempt fails.
    public var onDisconnect: ((String) -> Void)?
    public private(set) var isConnected = false

    private let context: OpaquePointer
    private let vhost: OpaquePointer
    private var ac: UnsafeMutablePointer<redisAsyncContext>?
    private var wsi: OpaquePointer?
    private let flushTimer: LoopTimer
    private let reconnectTimer: LoopTimer
    private var backoff: Double = RedisAsyncConnection.initialBackoff
    private var stopped = false
    private var inWriteCallback = false
    private var writePendingDuringCallback = false
    /// Raised while hiredis is tearing the context down, so late hooks touch nothing.
    private var tearingDown = false

    /// Reconnect delays: 50 ms doubling to 500 ms, so service resumes well within a second of
    /// Redis returning (issue 3's target) without spinning while it is down.
    static let initialBackoff = 0.05
    static let maxBackoff = 0.5

    public init(endpoint: RedisEndpoint, name: String, context: OpaquePointer, vhost: OpaquePointer) {
        self.endpoint = endpoint
        self.name = name
        self.context = context
        self.vhost = vhost
        flushTimer = LoopTimer(context: context)
        reconnectTimer = LoopTimer(context: context)
    }

    /// Starts connecting; returns at once. Failures are retried with backoff.
    public func start() {
        stopped = false
        connect()
    }

    /// Disconnects for good (shutdown). Pending completions fail with `.unavailable`.
    public func stop() {
        stopped = true
        reconnectTimer.cancel()
        flushTimer.cancel()
        if let ac, !tearingDown { redisAsyncDisconnect(ac) }
    }

    // MARK: RedisCommanding

    public func send(_ args: [String], completion: @escaping (Result<RedisReply, RedisError>) -> Void) {
        guard let ac, isConnected, !tearingDown else {
            completion(.failure(.unavailable("redis \(name) not connected")))
            return
        }
        let box = ReplyBox(persistent: false, completion: completion)
        let privdata = Unmanaged.passRetained(box).toOpaque()
        if !submit(ac, args, privdata) {
            Unmanaged<ReplyBox>.fromOpaque(privdata).release()
            completion(.failure(.unavailable("redis \(name): command not accepted")))
        }
    }

    /// A command whose arguments are bytes, not text (a media blob): sent as they are.
    public func send(bytes args: [[UInt8]], completion: @escaping (Result<RedisReply, RedisError>) -> Void) {
        guard let ac, isConnected, !tearingDown else {
            completion(.failure(.unavailable("redis \(name) not connected")))
            return
        }
        let box = ReplyBox(persistent: false, completion: completion)
        let privdata = Unmanaged.passRetained(box).toOpaque()
        if !submitFormatted(ac, RedisClientSupport.resp(bytes: args), privdata) {
            Unmanaged<ReplyBox>.fromOpaque(privdata).release()
            completion(.failure(.unavailable("redis \(name): command not accepted")))
        }
    }

    /// SUBSCRIBE: `onMessage(channel, payload)` runs for every message until the connection drops.
    /// Use a dedicated connection: a subscribed connection can issue nothing else (RESP2).
    public func subscribe(_ channel: String, onMessage: @escaping (String, [UInt8]) -> Void,
                          completion: @escaping (Result<Void, RedisError>) -> Void) {
        guard let ac, isConnected else {
            completion(.failure(.unavailable("redis \(name) not connected")))
            return
        }
        var confirmed = false
        let box = ReplyBox(persistent: true) { result in
            switch result {
            case .success(.array(let parts)) where parts.count == 3:
                if parts[0].string == "message", let ch = parts[1].string, case .bulk(let payload) = parts[2] {
                    onMessage(ch, payload)
                } else if parts[0].string == "subscribe", !confirmed {
                    confirmed = true
                    completion(.success(()))
                }
            case .failure(let e):
                if !confirmed { confirmed = true; completion(.failure(e)) }
            default:
                break
            }
        }
        let privdata = Unmanaged.passRetained(box).toOpaque()
        if !submit(ac, ["SUBSCRIBE", channel], privdata) {
            Unmanaged<ReplyBox>.fromOpaque(privdata).release()
            completion(.failure(.unavailable("redis \(name): subscribe not accepted")))
        }
    }

    /// Queues `args` (formatted as RESP here, see `RedisClientSupport.resp`) with the retained
    /// `ReplyBox` at `privdata` as the callback's context. False when hiredis refuses it.
    private func submit(_ ac: UnsafeMutablePointer<redisAsyncContext>, _ args: [String], _ privdata: UnsafeMutableRawPointer) -> Bool {
        submitFormatted(ac, RedisClientSupport.resp(args), privdata)
    }

    private func submitFormatted(_ ac: UnsafeMutablePointer<redisAsyncContext>, _ formatted: [UInt8], _ privdata: UnsafeMutableRawPointer) -> Bool {
        // NUL-terminated like hiredis' own sds commands: `__redisAsyncCommand` scans the command
        // with strchr (to spot SUBSCRIBE and its channels), which ran past an unterminated buffer
        // (an assertion failure in hiredis, seen in the e2e suite). The NUL is not sent.
        var command = formatted
        command.append(0)
        return command.withUnsafeBufferPointer { buf in
            buf.withMemoryRebound(to: CChar.self) { redisAsyncFormattedCommand(ac, redisReplyCallback, privdata, $0.baseAddress, $0.count - 1) }
        } == REDIS_OK
    }

    // MARK: connection lifecycle

    private func connect() {
        guard !stopped, ac == nil else { return }
        let newAC: UnsafeMutablePointer<redisAsyncContext>?
        switch endpoint {
        case .tcp(let host, let port, _): newAC = redisAsyncConnect(host, Int32(port))
        case .unix(let path, _): newAC = redisAsyncConnectUnix(path)
        }
        guard let newAC else { scheduleReconnect(reason: "out of memory"); return }
        if newAC.pointee.err != 0 {
            let reason = String(cString: newAC.pointee.errstr)
            redisAsyncFree(newAC)
            scheduleReconnect(reason: reason)
            return
        }
        // Adopt a dup of the socket into lws before installing the hooks: hiredis calls addWrite
        // from redisAsyncSetConnectCallback and that must find the wsi (DESIGN §5).
        let fd = dup(newAC.pointee.c.fd)
        var desc = lws_sock_file_fd_type()
        desc.filefd = fd
        guard fd >= 0, let adopted = redisRawProtocolName.withCString({ proto in
            lws_adopt_descriptor_vhost(vhost, LWS_ADOPT_RAW_FILE_DESC, desc, proto, nil)
        }) else {
            if fd >= 0 { close(fd) }
            redisAsyncFree(newAC)
            scheduleReconnect(reason: "could not adopt the redis socket into the loop")
            return
        }
        ac = newAC
        wsi = adopted
        tearingDown = false
        let me = Unmanaged.passUnretained(self).toOpaque()
        lws_set_opaque_user_data(adopted, me)
        newAC.pointee.data = me
        newAC.pointee.ev.data = me
        newAC.pointee.ev.addRead = { _ in }   // lws always polls POLLIN on a raw fd
        newAC.pointee.ev.delRead = { _ in }
        newAC.pointee.ev.delWrite = { _ in }
        newAC.pointee.ev.addWrite = { p in
            guard let p else { return }
            Unmanaged<RedisAsyncConnection>.fromOpaque(p).takeUnretainedValue().wantWrite()
        }
        newAC.pointee.ev.cleanup = { p in
            guard let p else { return }
            Unmanaged<RedisAsyncConnection>.fromOpaque(p).takeUnretainedValue().contextCleanup()
        }
        redisAsyncSetConnectCallback(newAC) { ctx, status in
            guard let ctx, let p = ctx.pointee.data else { return }
            Unmanaged<RedisAsyncConnection>.fromOpaque(p).takeUnretainedValue().connected(status: status)
        }
        redisAsyncSetDisconnectCallback(newAC) { ctx, status in
            guard let ctx, let p = ctx.pointee.data else { return }
            let errstr = ctx.pointee.errstr.map { String(cString: $0) } ?? "closed"
            Unmanaged<RedisAsyncConnection>.fromOpaque(p).takeUnretainedValue().disconnected(reason: status == REDIS_OK ? "closed" : errstr)
        }
    }

    private func connected(status: Int32) {
        guard status == REDIS_OK else {
            // hiredis frees the context itself after a failed connect callback.
            let reason = ac.flatMap { $0.pointee.errstr.map { String(cString: $0) } } ?? "connect failed"
            lostContext()
            onDisconnect?(reason)
            scheduleReconnect(reason: reason)
            return
        }
        let db = endpoint.db
        let finish = { [weak self] in
            guard let self else { return }
            self.backoff = Self.initialBackoff
            self.onConnect?()
        }
        isConnected = true
        if db != 0 {
            send(["SELECT", String(db)]) { _ in finish() }
        } else {
            finish()
        }
    }

    private func disconnected(reason: String) {
        let wasConnected = isConnected
        lostContext()
        if wasConnected { onDisconnect?(reason) }
        scheduleReconnect(reason: reason)
    }

    /// hiredis is freeing the context (after disconnect or a failed connect): forget it and let
    /// lws close its own descriptor.
    private func contextCleanup() {
        // `isConnected` is left alone: hiredis calls this hook before the disconnect callback,
        // which must still see that an established connection dropped (and report it).
        tearingDown = true
        if let wsi {
            lws_set_opaque_user_data(wsi, nil)
            lws_set_timeout(wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC)
        }
        wsi = nil
    }

    private func lostContext() {
        isConnected = false
        ac = nil
        flushTimer.cancel()
    }

    private func scheduleReconnect(reason: String) {
        guard !stopped else { return }
        let delay = backoff
        backoff = min(backoff * 2, Self.maxBackoff)
        reconnectTimer.schedule(after: delay) { [weak self] in self?.connect() }
    }

    // MARK: I/O from lws

    private func wantWrite() {
        guard let wsi, !tearingDown else { return }
        if inWriteCallback {
            // lws 4.1 clears POLLOUT after a raw-file WRITEABLE callback returns, so a request made
            // inside it is lost: re-arm from a zero-delay timer instead (DESIGN §5 pitfall).
            writePendingDuringCallback = true
        } else if isConnected {
            if !flushTimer.isScheduled {
                flushTimer.schedule(after: 0) { [weak self] in self?.flush() }
            }
        } else {
            lws_callback_on_writable(wsi)
        }
    }

    private func flush() {
        guard let ac, !tearingDown else { return }
        inWriteCallback = true
        redisAsyncHandleWrite(ac)
        inWriteCallback = false
        if writePendingDuringCallback, let wsi, !tearingDown {
            // The socket buffer is full: wait for real POLLOUT.
            writePendingDuringCallback = false
            lws_callback_on_writable(wsi)
        }
    }

    fileprivate func lwsReadable() {
        guard let ac, !tearingDown else { return }
        redisAsyncHandleRead(ac)
    }

    fileprivate func lwsWritable() {
        guard let ac, !tearingDown else { return }
        inWriteCallback = true
        redisAsyncHandleWrite(ac)
        inWriteCallback = false
        if writePendingDuringCallback, !tearingDown {
            writePendingDuringCallback = false
            flushTimer.schedule(after: 0) { [weak self] in self?.flush() }
        }
    }

    fileprivate func lwsClosed() {
        // lws dropped the descriptor (hang-up): let hiredis notice through a read.
        wsi = nil
        if let ac, !tearingDown { redisAsyncHandleRead(ac) }
    }
}

/// Holds a command's completion across the C boundary. Persistent boxes (SUBSCRIBE) live until
/// hiredis calls them with a NULL reply on teardown.
private final class ReplyBox {
    let persistent: Bool
    let completion: (Result<RedisReply, RedisError>) -> Void
    init(persistent: Bool, completion: @escaping (Result<RedisReply, RedisError>) -> Void) {
        self.persistent = persistent
        self.completion = completion
    }
}

private func redisReplyCallback(_ ac: UnsafeMutablePointer<redisAsyncContext>?, _ reply: UnsafeMutableRawPointer?, _ privdata: UnsafeMutableRawPointer?) {
    guard let privdata else { return }
    let unmanaged = Unmanaged<ReplyBox>.fromOpaque(privdata)
    let box = unmanaged.takeUnretainedValue()
    if let reply {
        box.completion(.success(RedisClientSupport.convert(reply.assumingMemoryBound(to: redisReply.self))))
        if !box.persistent { unmanaged.release() }
    } else {
        box.completion(.failure(.unavailable("redis connection lost")))
        unmanaged.release()
    }
}

/// The lws callback for the `sb-redis` raw protocol: forwards readiness to the connection.
///
/// The protocol sits in the server's protocol table, so a WebSocket client naming `sb-redis` in
/// Sec-WebSocket-Protocol would be bound to it: every upgrade is refused here (the broker's own
/// check answers such a handshake 400 before lws gets this far; this is the second lock).
public func redisRawProtocolCallback(_ wsi: OpaquePointer?, _ reason: lws_callback_reasons, _ user: UnsafeMutableRawPointer?,
                                     _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
    if reason == LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION || reason == LWS_CALLBACK_ESTABLISHED { return -1 }
    guard let wsi, let p = lws_get_opaque_user_data(wsi) else { return 0 }
    let connection = Unmanaged<RedisAsyncConnection>.fromOpaque(p).takeUnretainedValue()
    switch reason {
    case LWS_CALLBACK_RAW_RX_FILE: connection.lwsReadable()
    case LWS_CALLBACK_RAW_WRITEABLE_FILE: connection.lwsWritable()
    case LWS_CALLBACK_RAW_CLOSE_FILE: connection.lwsClosed()
    default: break
    }
    return 0
}
