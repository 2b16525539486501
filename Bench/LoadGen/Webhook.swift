import SMSChannel
import TwilioSupport

/// Builds Twilio-signed inbound SMS webhooks (form POST + `X-Twilio-Signature`, computed with
/// the broker's own `TwilioSignature`, i.e. Twilio's algorithm: base64 HMAC-SHA1 over the public
/// URL followed by the sorted name+value pairs).
struct WebhookBuilder {
    static let authToken = "bench-twilio-auth-token"
    static let to = "+8610690000"
    static let accountSid = "ACbench"

    let host: String
    let port: Int
    /// Per-run prefix of MessageSid, so a rerun against the same Redis is not deduplicated.
    let sidPrefix: String

    func path(channel: String) -> String { "/v1/channels/\(channel)/twilio" }
    func publicURL(channel: String) -> String { "http://\(host):\(port)" + path(channel: channel) }

    /// The message body: `LG_<id>_<sendNs>_`; only URL-unreserved characters, so the marker is
    /// the same in the form body (Baseline) and in the JSON event (broker).
    static func marker(id: Int, ns: UInt64) -> String { "LG_\(id)_\(ns)_" }

    /// The whole HTTP request.
    func request(channel: String, from phone: String, id: Int, ns: UInt64) -> [UInt8] {
        let body = Self.marker(id: id, ns: ns)
        let sid = sidPrefix + String(id)
        let params: [(String, String)] = [
            ("AccountSid", Self.accountSid), ("Body", body), ("From", phone), ("MessageSid", sid),
            ("NumMedia", "0"), ("To", Self.to),
        ]
        let signature = TwilioSignature.compute(authToken: Self.authToken, url: publicURL(channel: channel), parameters: params)
        var form = ""
        form.reserveCapacity(160)
        for (i, (k, v)) in params.enumerated() {
            if i > 0 { form += "&" }
            form += k
            form += "="
            form += Self.formEncode(v)
        }
        var head = "POST "
        head.reserveCapacity(400)
        head += path(channel: channel)
        head += " HTTP/1.1\r\nHost: \(host):\(port)\r\nContent-Type: application/x-www-form-urlencoded\r\nX-Twilio-Signature: "
        head += signature
        head += "\r\nContent-Length: \(form.utf8.count)\r\n\r\n"
        head += form
        return Array(head.utf8)
    }

    static func formEncode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            case UInt8(ascii: " "):
                out += "+"
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%"
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(b >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(b & 15)]))
            }
        }
        return out
    }
}

/// Byte scanning of server frames without decoding JSON.
enum Scan {
    /// Calls `body(id, ns)` for every `LG_<id>_<ns>_` marker in `b`.
    @inline(__always)
    static func markers(_ b: UnsafeRawBufferPointer, _ body: (Int, UInt64) -> Void) {
        let n = b.count
        var i = 0
        while i + 3 < n {
            if b[i] == 76 /* L */ && b[i + 1] == 71 /* G */ && b[i + 2] == 95 /* _ */ {
                var p = i + 3
                var id = 0
                var digits = 0
                while p < n && b[p] >= 48 && b[p] <= 57 { id = id * 10 + Int(b[p] - 48); p += 1; digits += 1 }
                if digits > 0 && p < n && b[p] == 95 {
                    p += 1
                    var ns: UInt64 = 0
                    var d2 = 0
                    while p < n && b[p] >= 48 && b[p] <= 57 { ns = ns &* 10 &+ UInt64(b[p] - 48); p += 1; d2 += 1 }
                    if d2 > 0 && p < n && b[p] == 95 {
                        body(id, ns)
                        i = p + 1
                        continue
                    }
                }
                i = p
                continue
            }
            i += 1
        }
    }

    /// Splits a coalesced frame into its `\n`-separated events.
    @inline(__always)
    static func lines(_ b: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        var start = 0
        let n = b.count
        var i = 0
        while i < n {
            if b[i] == 10 {
                if i > start { body(UnsafeRawBufferPointer(rebasing: b[start..<i])) }
                start = i + 1
            }
            i += 1
        }
        if n > start { body(UnsafeRawBufferPointer(rebasing: b[start..<n])) }
    }

    static func find(_ b: UnsafeRawBufferPointer, _ needle: [UInt8], from: Int = 0) -> Int? {
        let n = b.count, m = needle.count
        guard m > 0, n >= m else { return nil }
        var i = from
        let first = needle[0]
        while i <= n - m {
            if b[i] == first {
                var k = 1
                while k < m && b[i + k] == needle[k] { k += 1 }
                if k == m { return i }
            }
            i += 1
        }
        return nil
    }

    static func has(_ b: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool { find(b, needle) != nil }

    /// The string value after `key` (e.g. `"offerId":"`), up to the closing quote.
    static func stringValue(_ b: UnsafeRawBufferPointer, after key: [UInt8], from: Int = 0) -> String? {
        guard let at = find(b, key, from: from) else { return nil }
        var p = at + key.count
        let start = p
        while p < b.count && b[p] != 34 { p += 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: b[start..<p]), as: UTF8.self)
    }

    /// The integer after `key` (e.g. `"ref":` or `{"seq":`).
    static func intValue(_ b: UnsafeRawBufferPointer, after key: [UInt8]) -> Int64? {
        guard let at = find(b, key) else { return nil }
        var p = at + key.count
        var v: Int64 = 0
        var digits = 0
        while p < b.count && b[p] >= 48 && b[p] <= 57 { v = v * 10 + Int64(b[p] - 48); p += 1; digits += 1 }
        return digits > 0 ? v : nil
    }

    /// `{"seq":N,` at the very start of an event.
    static func leadingSeq(_ b: UnsafeRawBufferPointer) -> Int64? {
        let key: [UInt8] = Array("{\"seq\":".utf8)
        guard b.count > key.count else { return nil }
        for k in 0..<key.count where b[k] != key[k] { return nil }
        var p = key.count
        var v: Int64 = 0
        var digits = 0
        while p < b.count && b[p] >= 48 && b[p] <= 57 { v = v * 10 + Int64(b[p] - 48); p += 1; digits += 1 }
        return digits > 0 ? v : nil
    }
}

enum Keys {
    static let typeOffer = Array("\"type\":\"offer\"".utf8)
    static let typeAck = Array("\"type\":\"ack\"".utf8)
    static let typeError = Array("\"type\":\"error\"".utf8)
    static let typeWelcome = Array("\"type\":\"welcome\"".utf8)
    static let typeReady = Array("\"type\":\"ready\"".utf8)
    static let typeMessage = Array("\"type\":\"message\"".utf8)
    static let offerId = Array("\"offerId\":\"".utf8)
    static let address = Array("\"address\":\"".utf8)
    static let convIdC = Array("\"id\":\"c".utf8)
    static let ref = Array("\"ref\":".utf8)
}
