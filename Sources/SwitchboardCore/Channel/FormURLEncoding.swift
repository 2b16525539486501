/// `application/x-www-form-urlencoded` as Twilio sends it and as its Messages API takes it
/// (WHATWG URL Standard §5, "application/x-www-form-urlencoded").
///
/// Pairs keep their order and repeated names, because Twilio's signature covers every pair
/// (https://www.twilio.com/docs/usage/security#validating-requests) and a lossy dictionary would
/// make a valid request fail or a forged duplicate go unseen.
public enum FormURLEncoding {
    /// Decodes `name=value&…`: `+` is a space, `%XX` a byte, and the bytes must be UTF-8.
    /// Empty segments (`a=1&&b=2`) are skipped; a segment without `=` is a name with an empty
    /// value. `what` names the input in errors ("form body", "query").
    public static func decode(_ bytes: some Collection<UInt8>, what: String = "form body") throws(ChannelError) -> [(String, String)] {
        // One pass over the bytes with indices (no `split` into an array of slices first).
        let all = Array(bytes)
        var pairs: [(String, String)] = []
        pairs.reserveCapacity(24)   // Twilio's inbound SMS form has ~20 fields
        var start = 0
        while start <= all.count {
            let end = all[start...].firstIndex(of: UInt8(ascii: "&")) ?? all.count
            if end > start {
                let segment = all[start..<end]
                let eq = segment.firstIndex(of: UInt8(ascii: "="))
                let name = try decodeComponent(segment[start..<(eq ?? end)], what: what)
                var value = ""
                if let eq { value = try decodeComponent(all[(eq + 1)..<end], what: what) }
                pairs.append((name, value))
            }
            start = end + 1
        }
        return pairs
    }

    /// Encodes pairs in order. Only `A–Z a–z 0–9 * - . _` stay literal, a space becomes `+`, and
    /// every other byte of the UTF-8 is `%XX` (upper case), so `+8613…` travels as `%2B8613…`.
    public static func encode(_ pairs: [(String, String)]) -> String {
        // Straight into one byte buffer: mapping to a String per pair and `joined` was ~5% of the
        // broker's CPU in S7 (perf), where every callback's query goes through here.
        var out: [UInt8] = []
        out.reserveCapacity(pairs.reduce(pairs.count * 2) { $0 + $1.0.utf8.count + $1.1.utf8.count })
        for (name, value) in pairs {
            if !out.isEmpty { out.append(UInt8(ascii: "&")) }
            appendComponent(name, to: &out)
            out.append(UInt8(ascii: "="))
            appendComponent(value, to: &out)
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func encodeComponent(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        appendComponent(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private static func appendComponent(_ text: String, to out: inout [UInt8]) {
        var text = text
        text.withUTF8 { appendComponent($0, to: &out) }
    }

    /// `encodeComponent` of these UTF-8 bytes, appended to `out` (non-generic: a generic entry
    /// point would run unspecialized when called from another module).
    package static func appendComponent(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "*"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
                out.append(byte)
            case UInt8(ascii: " "):
                out.append(UInt8(ascii: "+"))
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hexDigit(byte >> 4))
                out.append(hexDigit(byte & 0x0F))
            }
        }
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "A") + nibble - 10
    }

    private static func decodeComponent(_ bytes: ArraySlice<UInt8>, what: String) throws(ChannelError) -> String {
        // Most components (names, ids, numbers) have nothing to unescape: no copy for them.
        if !bytes.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) {
            guard let text = UTF8Text.decode(bytes) else { throw .malformed("\(what): not valid UTF-8") }
            return text
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let byte = bytes[i]
            if byte == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
                i += 1
            } else if byte == UInt8(ascii: "%") {
                // A stray `%` is an error rather than a literal: Twilio always escapes it, so an
                // unescaped one means a broken or hand-made body.
                guard i + 2 < bytes.endIndex, let high = hexValue(bytes[i + 1]), let low = hexValue(bytes[i + 2]) else {
                    throw .malformed("\(what): invalid percent escape")
                }
                out.append(high << 4 | low)
                i += 3
            } else {
                out.append(byte)
                i += 1
            }
        }
        guard let text = UTF8Text.decode(out) else { throw .malformed("\(what): not valid UTF-8") }
        return text
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
