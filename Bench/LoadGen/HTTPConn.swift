import CLibWebSockets
import Glibc

/// What a scenario hears from its webhook connections. Loop thread only.
protocol HTTPOwner: AnyObject {
    /// One complete response (status 0: the connection failed with the request in flight).
    func response(_ c: HTTPConn, status: Int)
}

/// One keep-alive HTTP/1.1 connection on a raw socket adopted into the lws loop: requests are
/// written straight to the socket (one in flight per connection), responses are parsed from
/// `RAW_RX_FILE` reads (status line and Content-Length only). Loop thread only.
final class HTTPConn: Peer {
    let index: Int
    let fd: Int32
    private var wsi: OpaquePointer?
    private unowned let owner: HTTPOwner
    private var rbuf: [UInt8]
    private var rlen = 0
    private(set) var alive = true
    /// Scenario data for the request in flight (message id), -1 when idle.
    var inflight = -1
    var sentAt: UInt64 = 0

    private init(index: Int, fd: Int32, owner: HTTPOwner) {
        self.index = index
        self.fd = fd
        self.owner = owner
        rbuf = [UInt8](repeating: 0, count: 16 << 10)
    }

    /// Connects (blocking: loopback) from `source` if given, then adopts the socket.
    static func open(index: Int, loop: Loop, host: String, port: Int, source: String?, owner: HTTPOwner) -> HTTPConn? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            inet_pton(AF_INET, source, &local.sin_addr)
            let ok = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if ok != 0 { close(fd); return nil }
        }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &addr.sin_addr)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 { close(fd); return nil }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        let conn = HTTPConn(index: index, fd: fd, owner: owner)
        var desc = lws_sock_file_fd_type()
        desc.filefd = fd
        guard let w = Loop.rawProtocol.withCString({ lws_adopt_descriptor_vhost(loop.vhost, LWS_ADOPT_RAW_FILE_DESC, desc, $0, nil) }) else {
            close(fd)
            return nil
        }
        conn.wsi = w
        lws_set_opaque_user_data(w, Unmanaged.passUnretained(conn).toOpaque())
        return conn
    }

    /// Writes a whole request. The socket has at most one small request queued, so a short write
    /// means the connection is broken.
    func send(_ request: UnsafeRawBufferPointer) -> Bool {
        guard alive else { return false }
        var off = 0
        while off < request.count {
            let n = write(fd, request.baseAddress! + off, request.count - off)
            if n > 0 { off += n; continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                // Extremely unlikely with one request in flight; wait for the socket briefly.
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&p, 1, 100)
                continue
            }
            fail()
            return false
        }
        return true
    }

    private func fail() {
        guard alive else { return }
        alive = false
        if let wsi { lws_set_timeout(wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC) }
        if inflight >= 0 { owner.response(self, status: 0) }
    }

    func shutdown() {
        guard alive else { return }
        alive = false
        if let wsi { lws_set_timeout(wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC) }
    }

    override func lwsCallback(_ wsi: OpaquePointer, _ reason: lws_callback_reasons, _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
        switch reason {
        case LWS_CALLBACK_RAW_RX_FILE:
            readAll()
        case LWS_CALLBACK_RAW_CLOSE_FILE:
            self.wsi = nil
            fail()
        default:
            break
        }
        return 0
    }

    private func readAll() {
        while alive {
            if rlen == rbuf.count { rbuf.append(contentsOf: repeatElement(0, count: rbuf.count)) }
            let n = rbuf.withUnsafeMutableBytes { read(fd, $0.baseAddress! + rlen, $0.count - rlen) }
            if n > 0 {
                rlen += n
                parse()
            } else if n == 0 {
                fail()
            } else {
                if errno == EINTR { continue }
                if errno != EAGAIN && errno != EWOULDBLOCK { fail() }
                return
            }
        }
    }

    /// Consumes every complete response in the buffer.
    private func parse() {
        while true {
            guard let (status, total) = rbuf.withUnsafeBytes({ Self.response(in: UnsafeRawBufferPointer(rebasing: $0[0..<rlen])) }) else { return }
            if total < rlen {
                rbuf.withUnsafeMutableBytes { b in
                    _ = memmove(b.baseAddress!, b.baseAddress! + total, rlen - total)
                }
            }
            rlen -= total
            owner.response(self, status: status)
        }
    }

    /// (status, total bytes) of the first complete response in `b`, or nil if incomplete.
    static func response(in b: UnsafeRawBufferPointer) -> (Int, Int)? {
        let n = b.count
        guard n >= 16 else { return nil }
        var end = -1
        var i = 3
        while i < n {
            if b[i] == 10 && b[i - 1] == 13 && b[i - 2] == 10 && b[i - 3] == 13 { end = i + 1; break }
            i += 1
        }
        guard end > 0 else { return nil }
        let status = Int(b[9] &- 48) * 100 + Int(b[10] &- 48) * 10 + Int(b[11] &- 48)
        // content-length, case-insensitive
        var length = 0
        let key = Array("content-length:".utf8)
        var j = 0
        search: while j + key.count < end {
            var k = 0
            while k < key.count {
                var c = b[j + k]
                if c >= 65 && c <= 90 { c += 32 }
                if c != key[k] { j += 1; continue search }
                k += 1
            }
            var p = j + key.count
            while p < end && b[p] == 32 { p += 1 }
            while p < end && b[p] >= 48 && b[p] <= 57 { length = length * 10 + Int(b[p] - 48); p += 1 }
            break
        }
        guard n >= end + length else { return nil }
        return (status, end + length)
    }
}
