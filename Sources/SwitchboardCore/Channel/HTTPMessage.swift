/// A buffered inbound HTTP request as a channel adapter sees it. The server has already applied
/// the body size limit; adapters only parse and verify.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The path below the channel's mount point, without a leading slash:
    /// for `POST /v1/channels/sms-main/twilio/status?x=1` it is `twilio/status`.
    public var subpath: String
    /// The query string without `?`, or empty, form-encoded (`FormURLEncoding`): each argument as
    /// the server received it, decoded once by lws (which splits on the `&` and the first `=` that
    /// were literal on the wire) and encoded again, so decoding it gives exactly the values sent,
    /// `%26` and `%3D` inside a value included. lws 4.1 keeps no copy of the undecoded bytes
    /// (docs/architecture.md "HTTP").
    public var query: String
    /// Header names are lower-cased.
    public var headers: [String: String]
    public var body: [UInt8]
    public var remoteAddress: String

    public init(method: String, subpath: String, query: String = "", headers: [String: String] = [:],
                body: [UInt8] = [], remoteAddress: String = "") {
        self.method = method
        self.subpath = subpath
        self.query = query
        self.headers = headers
        self.body = body
        self.remoteAddress = remoteAddress
    }

    /// The query's arguments in order, repeated names kept.
    public func queryItems() throws(ChannelError) -> [(String, String)] {
        try FormURLEncoding.decode(Array(query.utf8), what: "query string")
    }

    /// The value of the query argument `name` when it appears exactly once; nil when absent.
    /// Throws when it is repeated (a forged duplicate must not pick which copy is checked).
    public func queryValue(_ name: String) throws(ChannelError) -> String? {
        let values = try queryItems().filter { $0.0 == name }.map(\.1)
        guard values.count <= 1 else { throw .malformed("the query argument '\(name)' is repeated") }
        return values.first
    }

    /// The media type of `Content-Type` without parameters, lower-cased (`application/json`).
    public var mediaType: String {
        // Byte-level (every webhook asks): up to `;`, ASCII blanks trimmed, ASCII lower-cased;
        // a non-ASCII value (never a valid media type) takes the general path.
        let raw = headers["content-type"] ?? ""
        var bytes: [UInt8] = []
        for b in raw.utf8 {
            if b == UInt8(ascii: ";") { break }
            if b >= 0x80 {
                let base = raw.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
                return base.trimmingCharacters(in: .whitespaces).lowercased()
            }
            bytes.append(b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b + 32 : b)
        }
        let blank: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        guard let first = bytes.firstIndex(where: { !blank($0) }), let last = bytes.lastIndex(where: { !blank($0) }) else { return "" }
        return String(decoding: bytes[first...last], as: UTF8.self)
    }
}

/// A response to send: what a provider expects as the synchronous answer to its webhook.
public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]
    public var headers: [(String, String)]

    public init(status: Int, contentType: String, body: [UInt8], headers: [(String, String)] = []) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.headers = headers
    }

    public init(status: Int = 200, contentType: String = "application/json; charset=utf-8", text: String) {
        self.init(status: status, contentType: contentType, body: Array(text.utf8))
    }

    public static func == (a: HTTPResponse, b: HTTPResponse) -> Bool {
        a.status == b.status && a.contentType == b.contentType && a.body == b.body
            && a.headers.map { "\($0.0):\($0.1)" } == b.headers.map { "\($0.0):\($0.1)" }
    }
}

/// An HTTP request the broker must make (an outbound delivery through a provider API).
public struct OutboundHTTPRequest: Sendable, Equatable {
    public var method: String
    public var url: String
    public var headers: [String: String]
    public var body: [UInt8]
    /// The most of the answer the adapter needs: nil for a provider's small JSON answer (64 KiB
    /// kept); a media download asks for more, and an answer past it ends the request as an error.
    public var maxResponseBytes: Int?

    public init(method: String = "POST", url: String, headers: [String: String], body: [UInt8], maxResponseBytes: Int? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.maxResponseBytes = maxResponseBytes
    }
}

extension String {
    /// `trimmingCharacters(in: .whitespaces)` without Foundation in the Core.
    func trimmingCharacters(in _: WhitespaceSet) -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}

enum WhitespaceSet { case whitespaces }
