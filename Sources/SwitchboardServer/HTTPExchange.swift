import CLibWebSockets
import SwitchboardCore

/// One HTTP request/response on a (keep-alive) connection: headers, a size-limited body and the
/// response that is written once the handler has it (DESIGN §5, "HTTP requests").
///
/// The body is buffered from `LWS_CALLBACK_HTTP_BODY` chunks up to `bodyLimit`; past it the
/// request is answered 413 and the connection closed, since the rest of the body is never read.
/// Loop thread only.
final class HTTPExchange: LoopConnection {
    let method: String
    let path: String
    let query: String
    let headers: [String: String]
    let remoteAddress: String
    let bodyLimit: Int
    private(set) var body: [UInt8] = []
    private(set) var overflowed = false
    private var response: HTTPResponse?
    private var closeAfterResponse = false
    private(set) var responded = false

    /// Headers lws does not parse into tokens that Switchboard reads (provider signatures).
    static let customHeaders = ["x-twilio-signature", "x-signature", "x-request-id"]

    init(wsi: OpaquePointer, method: String, path: String, bodyLimit: Int) {
        self.method = method
        self.path = path
        self.query = HTTPExchange.queryString(wsi)
        self.headers = HTTPExchange.readHeaders(wsi)
        self.remoteAddress = LoopConnection.peerAddress(wsi)
        self.bodyLimit = bodyLimit
        super.init(wsi: wsi)
    }

    var declaredLength: Int? { headers["content-length"].flatMap { Int($0) } }

    /// Appends a body chunk; false once the limit is passed (the caller answers 413).
    func appendBody(_ chunk: UnsafeRawBufferPointer) -> Bool {
        guard !overflowed else { return false }
        if body.count + chunk.count > bodyLimit {
            overflowed = true
            body = []
            return false
        }
        body.append(contentsOf: chunk)
        return true
    }

    func request(subpath: String) -> HTTPRequest {
        HTTPRequest(method: method, subpath: subpath, query: query, headers: headers, body: body, remoteAddress: remoteAddress)
    }

    /// Queues the response; it is written from the next `HTTP_WRITEABLE`. A second call is ignored.
    func respond(_ r: HTTPResponse, close: Bool = false) {
        guard !responded else { return }
        responded = true
        response = r
        closeAfterResponse = close
        if let wsi { lws_callback_on_writable(wsi) }
    }

    func respondError(status: Int, code: String, message: String, headers: [(String, String)] = [], close: Bool = false) {
        respond(HTTPResponse(status: status, contentType: "application/json; charset=utf-8",
                             body: Array(JSONText.errorBody(code: code, message: message).utf8), headers: headers), close: close)
    }

    /// Writes headers and body; returns -1 to close the connection (lws convention).
    func writeResponse() -> Int32 {
        guard let wsi, let r = response else { return 0 }
        response = nil
        let pre = sb_lws_pre()
        let headerSpace = 2048 + r.headers.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count + 4 }
        var buffer = [UInt8](repeating: 0, count: pre + headerSpace)
        let ok: Bool = buffer.withUnsafeMutableBufferPointer { buf in
            let start = buf.baseAddress! + pre
            let end = buf.baseAddress! + buf.count
            var p: UnsafeMutablePointer<UInt8>? = start
            if lws_add_http_common_headers(wsi, UInt32(r.status), r.contentType, lws_filepos_t(r.body.count), &p, end) != 0 {
                return false
            }
            for (name, value) in r.headers + [("cache-control", "no-store")] {
                let n = name.lowercased() + ":"
                let added = n.withCString { np in
                    value.withCString { vp in
                        lws_add_http_header_by_name(wsi, UnsafeRawPointer(np).assumingMemoryBound(to: UInt8.self),
                                                    UnsafeRawPointer(vp).assumingMemoryBound(to: UInt8.self), Int32(value.utf8.count), &p, end)
                    }
                }
                if added != 0 { return false }
            }
            return lws_finalize_write_http_header(wsi, start, &p, end) == 0
        }
        guard ok else { return -1 }
        if !r.body.isEmpty {
            var out = [UInt8](repeating: 0, count: pre + r.body.count)
            out.replaceSubrange(pre..<(pre + r.body.count), with: r.body)
            let written = out.withUnsafeMutableBufferPointer { buf in
                lws_write(wsi, buf.baseAddress! + pre, r.body.count, LWS_WRITE_HTTP_FINAL)
            }
            if written < 0 { return -1 }
        }
        if closeAfterResponse { return -1 }
        return lws_http_transaction_completed(wsi) != 0 ? -1 : 0
    }

    // MARK: header access

    static func readHeaders(_ wsi: OpaquePointer) -> [String: String] {
        var out: [String: String] = [:]
        let known: [(String, lws_token_indexes)] = [
            ("content-type", WSI_TOKEN_HTTP_CONTENT_TYPE), ("content-length", WSI_TOKEN_HTTP_CONTENT_LENGTH),
            ("authorization", WSI_TOKEN_HTTP_AUTHORIZATION), ("host", WSI_TOKEN_HOST),
            ("user-agent", WSI_TOKEN_HTTP_USER_AGENT), ("x-forwarded-for", WSI_TOKEN_X_FORWARDED_FOR),
            ("origin", WSI_TOKEN_ORIGIN),
        ]
        for (name, token) in known {
            if let v = copyHeader(wsi, token) { out[name] = v }
        }
        for name in customHeaders {
            let key = name + ":"
            let len = lws_hdr_custom_length(wsi, key, Int32(key.utf8.count))
            guard len >= 0 else { continue }
            var buf = [CChar](repeating: 0, count: Int(len) + 1)
            if lws_hdr_custom_copy(wsi, &buf, Int32(buf.count), key, Int32(key.utf8.count)) >= 0 {
                out[name] = String(cBuffer: buf)
            }
        }
        return out
    }

    static func copyHeader(_ wsi: OpaquePointer, _ token: lws_token_indexes) -> String? {
        let len = lws_hdr_total_length(wsi, token)
        guard len > 0 else { return nil }
        var buf = [CChar](repeating: 0, count: Int(len) + 1)
        guard lws_hdr_copy(wsi, &buf, Int32(buf.count), token) >= 0 else { return nil }
        return String(cBuffer: buf)
    }

    /// The query string as `a=1&b=2`. lws stores each argument as a fragment, already
    /// percent-decoded; they are re-joined in order.
    static func queryString(_ wsi: OpaquePointer) -> String {
        var parts: [String] = []
        var index: Int32 = 0
        var buf = [CChar](repeating: 0, count: 4096)
        while lws_hdr_copy_fragment(wsi, &buf, Int32(buf.count), WSI_TOKEN_HTTP_URI_ARGS, index) >= 0 {
            parts.append(String(cBuffer: buf))
            index += 1
        }
        return parts.joined(separator: "&")
    }

    /// The HTTP method and path of the request being parsed, from the lws URI tokens.
    static func methodAndPath(_ wsi: OpaquePointer) -> (String, String)? {
        let tokens: [(String, lws_token_indexes)] = [
            ("GET", WSI_TOKEN_GET_URI), ("POST", WSI_TOKEN_POST_URI), ("OPTIONS", WSI_TOKEN_OPTIONS_URI),
            ("PUT", WSI_TOKEN_PUT_URI), ("DELETE", WSI_TOKEN_DELETE_URI), ("PATCH", WSI_TOKEN_PATCH_URI),
            ("HEAD", WSI_TOKEN_HEAD_URI),
        ]
        for (method, token) in tokens {
            if let path = copyHeader(wsi, token) { return (method, path) }
        }
        return nil
    }
}
