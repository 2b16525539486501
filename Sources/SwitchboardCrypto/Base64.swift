/// Base64 (RFC 4648 §4) and base64url (§5) with strict decoding.
///
/// Why strict: decoded values are signatures and tokens. A lenient decoder (skipping whitespace,
/// ignoring stray characters or non-zero trailing bits, as OpenSSL's `EVP_DecodeBlock` does) lets
/// many different strings decode to the same bytes, so a token could be altered without its MAC
/// check noticing and caches keyed by the text would split. Here exactly one text decodes to a
/// given byte string per alphabet and padding choice (RFC 4648 §3.5 canonical encoding).
public enum Base64 {
    public enum Alphabet: Sendable {
        /// `A–Z a–z 0–9 + /`
        case standard
        /// `A–Z a–z 0–9 - _`, safe in URLs and file names.
        case urlSafe
    }

    public enum Padding: Sendable {
        /// Text length is a multiple of 4, with `=` as needed (the standard form).
        case required
        /// No `=` at all (the usual form of base64url tokens, e.g. JWT).
        case forbidden
        /// Either of the above, but never partial padding.
        case optional
    }

    private static let standardTable: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let urlSafeTable: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let pad = UInt8(ascii: "=")

    // MARK: Encoding

    public static func encode(_ bytes: some Sequence<UInt8>, alphabet: Alphabet = .standard, padded: Bool = true) -> String {
        encode(Array(bytes), alphabet: alphabet, padded: padded)
    }

    /// `encode` for an array, without a generic entry point (which runs unspecialized when
    /// called from another module) or a copy.
    public static func encode(_ input: [UInt8], alphabet: Alphabet = .standard, padded: Bool = true) -> String {
        let table = alphabet == .standard ? standardTable : urlSafeTable
        var out: [UInt8] = []
        out.reserveCapacity((input.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= input.count {
            let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
            out.append(table[Int(n >> 18 & 63)])
            out.append(table[Int(n >> 12 & 63)])
            out.append(table[Int(n >> 6 & 63)])
            out.append(table[Int(n & 63)])
            i += 3
        }
        switch input.count - i {
        case 1:
            let n = UInt32(input[i]) << 16
            out.append(table[Int(n >> 18 & 63)])
            out.append(table[Int(n >> 12 & 63)])
            if padded { out.append(pad); out.append(pad) }
        case 2:
            let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
            out.append(table[Int(n >> 18 & 63)])
            out.append(table[Int(n >> 12 & 63)])
            out.append(table[Int(n >> 6 & 63)])
            if padded { out.append(pad) }
        default:
            break
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// base64url without padding: the form used in tokens.
    public static func encodeURLSafe(_ bytes: some Sequence<UInt8>) -> String {
        encode(bytes, alphabet: .urlSafe, padded: false)
    }

    // MARK: Decoding

    /// The decoded bytes, or nil when `text` is not the canonical encoding of some byte string:
    /// a character outside the alphabet (whitespace included), the other alphabet's `+/` or
    /// `-_`, padding that is missing/present against `padding`, `=` anywhere but the end, a
    /// length that leaves a single dangling character, or non-zero bits in the last character
    /// that the byte string does not use.
    public static func decode(_ text: some StringProtocol, alphabet: Alphabet = .standard, padding: Padding = .required) -> [UInt8]? {
        decode(Array(text.utf8), alphabet: alphabet, padding: padding)
    }

    /// `decode` for a `String`, the common case, without a generic entry point (called from
    /// another module, the generic one ran unspecialized: 2.6% of the broker's CPU in S7, perf)
    /// and without copying the text.
    public static func decode(_ text: String, alphabet: Alphabet = .standard, padding: Padding = .required) -> [UInt8]? {
        var text = text
        return text.withUTF8 { decode($0, alphabet: alphabet, padding: padding) }
    }

    private static func decode(_ text: [UInt8], alphabet: Alphabet, padding: Padding) -> [UInt8]? {
        text.withUnsafeBufferPointer { decode($0, alphabet: alphabet, padding: padding) }
    }

    private static func decode(_ text: UnsafeBufferPointer<UInt8>, alphabet: Alphabet, padding: Padding) -> [UInt8]? {
        // Strip and check padding first, so the body below contains alphabet characters only.
        var end = text.count
        while end > 0, text[end - 1] == pad { end -= 1 }
        let padCount = text.count - end
        let remainder = end % 4
        if remainder == 1 { return nil }
        let expectedPad = remainder == 0 ? 0 : 4 - remainder
        switch padding {
        case .required: guard padCount == expectedPad else { return nil }
        case .forbidden: guard padCount == 0 else { return nil }
        case .optional: guard padCount == 0 || padCount == expectedPad else { return nil }
        }
        let chars = UnsafeBufferPointer(rebasing: text[..<end])
        // Exactly `end * 6 / 8` bytes, written in place.
        var failed = false
        let out = [UInt8](unsafeUninitializedCapacity: end * 6 / 8) { buffer, initialized in
            var accumulator: UInt32 = 0
            var bits = 0
            var n = 0
            for c in chars {
                guard let v = value(of: c, alphabet: alphabet) else { failed = true; break }
                accumulator = accumulator << 6 | UInt32(v)
                bits += 6
                if bits >= 8 {
                    bits -= 8
                    buffer[n] = UInt8(truncatingIfNeeded: accumulator >> UInt32(bits))
                    n += 1
                    accumulator &= (1 << UInt32(bits)) - 1
                }
            }
            // Leftover bits (2 or 4) belong to no byte; a canonical encoder writes them as zero.
            if accumulator != 0 { failed = true }
            initialized = n
        }
        return failed ? nil : out
    }

    /// base64url, accepting text with or without padding.
    public static func decodeURLSafe(_ text: some StringProtocol) -> [UInt8]? {
        decode(text, alphabet: .urlSafe, padding: .optional)
    }

    private static func value(of c: UInt8, alphabet: Alphabet) -> UInt8? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return c - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return c - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): return alphabet == .standard ? 62 : nil
        case UInt8(ascii: "/"): return alphabet == .standard ? 63 : nil
        case UInt8(ascii: "-"): return alphabet == .urlSafe ? 62 : nil
        case UInt8(ascii: "_"): return alphabet == .urlSafe ? 63 : nil
        default: return nil
        }
    }
}
