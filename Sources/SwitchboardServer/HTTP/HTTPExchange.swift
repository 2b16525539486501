import CLibWebSockets
import SwitchboardCore
import SwitchboardLoop

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
    /// Armed while a body is awaited (`startBodyDeadline`); answers 408 when it fires.
    private var bodyDeadline: LoopTimer?
    /// Handed to the endpoint: once per request, whether at the headers (no body) or at the body's end.
    var dispatched = false
    /// The request carries a body that is never read (a GET, DELETE, OPTIONS or HEAD with one): the
    /// connection closes after the answer. Kept open, lws took the unread bytes for the next request
    /// on the connection and spun the loop at 100% CPU, and the broker answered no one.
    var closeAfterAnswer = false

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

    /// Answers 408 and closes unless the whole body has arrived within `seconds` (`bodyArrived`).
    func startBodyDeadline(context: OpaquePointer, seconds: Int) {
        let timer = LoopTimer(context: context)
        bodyDeadline = timer
        timer.schedule(after: Double(seconds)) { [weak self] in
            self?.respondError(status: 408, code: "request_timeout", message: "the request body did not arrive within \(seconds) s", close: true)
        }
    }

    func bodyArrived() {
        bodyDeadline?.cancel()
        bodyDeadline = nil
    }

    /// Queues the response; it is written from the next `HTTP_WRITEABLE`. A second call is ignored.
    func respond(_ r: HTTPResponse, close: Bool = false) {
        guard !responded else { return }
        bodyArrived()
        responded = true
        response = r
        closeAfterResponse = close || closeAfterAnswer
        if let wsi { lws_callback_on_writable(wsi) }
    }

    func respondError(status: Int, code: String, message: String, incident: String? = nil, headers: [(String, String)] = [],
                      close: Bool = false) {
        respond(HTTPResponse(status: status, contentType: "application/json; charset=utf-8",
                             body: Array(JSONText.errorBody(code: code, message: message, incident: incident).utf8), headers: headers),
                close: close)
    }

    /// Writes headers and body; returns -1 to close the connection (lws convention).
    ///
    /// Both writes go through stack buffers (`withUnsafeTemporaryAllocation`): this runs once per
    /// webhook, and the heap buffers it used cost ~14k instructions a response (callgrind).
    func writeResponse() -> Int32 {
        guard let wsi, let r = response else { return 0 }
        response = nil
        let pre = sb_lws_pre()
        let headerSpace = 2048 + r.headers.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count + 4 }
        let ok: Bool = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: pre + headerSpace) { buf in
            let start = buf.baseAddress! + pre
            let end = buf.baseAddress! + buf.count
            var p: UnsafeMutablePointer<UInt8>? = start
            if lws_add_http_common_headers(wsi, UInt32(r.status), r.contentType, lws_filepos_t(r.body.count), &p, end) != 0 {
                return false
            }
            func add(_ name: String, _ value: String) -> Bool {
                // lws matches the name as given, with its colon; HTTP/1.1 names are case-insensitive
                // and HTTP/2 needs them lower-case (RFC 9113 §8.2.1).
                let n = name.lowercased() + ":"
                return n.withCString { np in
                    value.withCString { vp in
                        lws_add_http_header_by_name(wsi, UnsafeRawPointer(np).assumingMemoryBound(to: UInt8.self),
                                                    UnsafeRawPointer(vp).assumingMemoryBound(to: UInt8.self), Int32(value.utf8.count), &p, end)
                    }
                } == 0
            }
            for (name, value) in r.headers where !add(name, value) { return false }
            // A response after which the connection closes (a 413 whose body was never read)
            // says so: a keep-alive client would otherwise send its next request on a dead socket.
            if closeAfterResponse && !add("connection", "close") { return false }
            return add("cache-control", "no-store") && lws_finalize_write_http_header(wsi, start, &p, end) == 0
        }
        guard ok else { return -1 }
        if !r.body.isEmpty {
            let written = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: pre + r.body.count) { buf in
                let start = buf.baseAddress! + pre
                r.body.withUnsafeBufferPointer { start.update(from: $0.baseAddress!, count: $0.count) }
                return lws_write(wsi, start, r.body.count, LWS_WRITE_HTTP_FINAL)
            }
            if written < 0 { return -1 }
        }
        if closeAfterResponse { return -1 }
        return lws_http_transaction_completed(wsi) != 0 ? -1 : 0
    }

    // MARK: header access

    /// Headers lws parses into tokens that Switchboard reads.
    private static let knownHeaders: [(String, lws_token_indexes)] = [
        ("content-type", WSI_TOKEN_HTTP_CONTENT_TYPE), ("content-length", WSI_TOKEN_HTTP_CONTENT_LENGTH),
        ("authorization", WSI_TOKEN_HTTP_AUTHORIZATION), ("host", WSI_TOKEN_HOST),
        ("user-agent", WSI_TOKEN_HTTP_USER_AGENT), ("x-forwarded-for", WSI_TOKEN_X_FORWARDED_FOR),
        ("origin", WSI_TOKEN_ORIGIN),
    ]
    /// `customHeaders` as the `name:` C strings lws' custom-header calls take.
    private static let customHeaderKeys: [(String, [CChar])] = customHeaders.map { ($0, Array(($0 + ":").utf8CString)) }

    static func readHeaders(_ wsi: OpaquePointer) -> [String: String] {
        var out: [String: String] = [:]
        out.reserveCapacity(knownHeaders.count + customHeaders.count)
        for (name, token) in knownHeaders {
            if let v = copyHeader(wsi, token) { out[name] = v }
        }
        for (name, key) in customHeaderKeys {
            let keyLength = Int32(key.count - 1)
            let len = lws_hdr_custom_length(wsi, key, keyLength)
            guard len >= 0 else { continue }
            let value: String? = withUnsafeTemporaryAllocation(of: CChar.self, capacity: Int(len) + 1) { buf in
                guard lws_hdr_custom_copy(wsi, buf.baseAddress, Int32(buf.count), key, keyLength) >= 0 else { return nil }
                return String(cString: buf.baseAddress!)
            }
            if let value { out[name] = value }
        }
        return out
    }

    /// The tokens that are the request line, not header values (method URIs, arguments, version).
    private static let requestLineTokens: Set<UInt32> = Set([
        WSI_TOKEN_GET_URI, WSI_TOKEN_POST_URI, WSI_TOKEN_OPTIONS_URI, WSI_TOKEN_PUT_URI, WSI_TOKEN_PATCH_URI,
        WSI_TOKEN_DELETE_URI, WSI_TOKEN_HEAD_URI, WSI_TOKEN_CONNECT, WSI_TOKEN_HTTP_URI_ARGS, WSI_TOKEN_HTTP,
        WSI_TOKEN_HTTP1_0, WSI_TOKEN_HTTP_COLON_PATH, WSI_TOKEN_HTTP_COLON_METHOD,
    ].map(\.rawValue))

    /// The header tokens to check, worked out once.
    private static let checkedTokens: [lws_token_indexes] = (0..<_WSI_TOKEN_CLIENT_SENT_PROTOCOLS.rawValue)
        .filter { !requestLineTokens.contains($0) }.map { lws_token_indexes(rawValue: $0) }

    /// The first header whose value holds a NUL, CR or LF, which RFC 9110 §5.5 forbids in a field
    /// value; nil if none. lws keeps the value's bytes as they came and `String(cString:)` cut a
    /// value at its NUL, so `Content-Type: application/x-www-form-urlencoded\0x` passed as a form
    /// (issue 9). Every header lws parses into a token is checked (the client-side tokens from
    /// `_WSI_TOKEN_CLIENT_SENT_PROTOCOLS` on are never a request's), and the custom ones Switchboard
    /// reads; lws 4.1 cannot enumerate other unknown headers, and nothing reads them.
    static func headerWithForbiddenByte(_ wsi: OpaquePointer) -> String? {
        func forbidden(_ buf: UnsafeMutableBufferPointer<CChar>, _ count: Int32) -> Bool {
            // A value longer than the header space cannot be copied: it cannot be valid either.
            guard count >= 0 else { return true }
            // libc's scans: a generic `contains` over the bytes cost ~12k instructions a request
            // (callgrind, S1), more than the Twilio signature check.
            let n = Int(count)
            guard let base = buf.baseAddress else { return false }
            return strnlen(base, n) != n || memchr(base, 0x0A, n) != nil || memchr(base, 0x0D, n) != nil
        }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 4097) { buf -> String? in
            for token in checkedTokens {
                guard lws_hdr_total_length(wsi, token) > 0 else { continue }
                if forbidden(buf, lws_hdr_copy(wsi, buf.baseAddress, Int32(buf.count), token)) {
                    let name = lws_token_to_string(token).map { String(cString: $0) } ?? "header \(token.rawValue)"
                    return name.hasSuffix(":") ? String(name.dropLast()) : name
                }
            }
            for (name, key) in customHeaderKeys where lws_hdr_custom_length(wsi, key, Int32(key.count - 1)) >= 0 {
                if forbidden(buf, lws_hdr_custom_copy(wsi, buf.baseAddress, Int32(buf.count), key, Int32(key.count - 1))) {
                    return name
                }
            }
            return nil
        }
    }

    /// One header lws parsed into a token, copied through a stack buffer (headers are read for
    /// every request; a heap buffer per header showed in callgrind).
    static func copyHeader(_ wsi: OpaquePointer, _ token: lws_token_indexes) -> String? {
        let len = lws_hdr_total_length(wsi, token)
        guard len > 0 else { return nil }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: Int(len) + 1) { buf in
            guard lws_hdr_copy(wsi, buf.baseAddress, Int32(buf.count), token) >= 0 else { return nil }
            return String(cString: buf.baseAddress!)
        }
    }

    /// The query string, form-encoded again (`HTTPRequest.query`). lws stores each argument as a
    /// fragment, split on the `&` that were literal on the wire and already percent-decoded (a
    /// literal `+` becomes a space); each fragment is split at its first `=` and both halves are
    /// encoded, so an encoded `&` or `=` inside a value survives. Joining the decoded fragments as
    /// they were, and decoding that again, turned `a=%26b%3Dc` into two arguments.
    static func queryString(_ wsi: OpaquePointer) -> String {
        let total = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS)
        guard total > 0 else { return "" }
        var out: [UInt8] = []
        out.reserveCapacity(Int(total) * 2)
        var index: Int32 = 0
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 4096) { buf in
            while true {
                let copied = lws_hdr_copy_fragment(wsi, buf.baseAddress, Int32(buf.count), WSI_TOKEN_HTTP_URI_ARGS, index)
                guard copied >= 0 else { break }
                index += 1
                let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(buf.baseAddress!).assumingMemoryBound(to: UInt8.self),
                                                count: Int(copied))
                // Up to the first NUL, as `String(cString:)` read it.
                let fragment = UnsafeBufferPointer(rebasing: bytes[..<(bytes.firstIndex(of: 0) ?? bytes.endIndex)])
                if !out.isEmpty { out.append(UInt8(ascii: "&")) }
                guard fragment.allSatisfy({ $0 < 0x80 }) else {
                    // Not ASCII: through `String` as before (invalid UTF-8 repaired to U+FFFD, the
                    // split at the first `=` Character), then encoded.
                    let text = String(decoding: fragment, as: UTF8.self)
                    let pair = text.firstIndex(of: "=").map { (String(text[..<$0]), String(text[text.index(after: $0)...])) } ?? (text, "")
                    out.append(contentsOf: FormURLEncoding.encode([pair]).utf8)
                    continue
                }
                appendArgument(fragment, to: &out)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// One decoded argument, split at its first `=`, each half encoded; bytes, no `String`s
    /// (building pairs of Strings and `FormURLEncoding.encode`-ing them was ~5% of the broker's
    /// CPU in S7, perf).
    private static func appendArgument(_ fragment: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        let eq = fragment.firstIndex(of: UInt8(ascii: "=")) ?? fragment.endIndex
        FormURLEncoding.appendComponent(UnsafeBufferPointer(rebasing: fragment[..<eq]), to: &out)
        out.append(UInt8(ascii: "="))
        if eq < fragment.endIndex {
            FormURLEncoding.appendComponent(UnsafeBufferPointer(rebasing: fragment[(eq + 1)...]), to: &out)
        }
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
