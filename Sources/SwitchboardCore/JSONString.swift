/// Builds JSON string literals for frames assembled by concatenation (DESIGN §12: encode once,
/// splice pre-encoded parts instead of re-encoding them).
///
/// Escapes what JSON requires (`"`, `\`, U+0000–U+001F) plus U+2028 and U+2029, which are legal
/// JSON but end a line in JavaScript source, so a frame pasted into a `<script>` stays valid.
/// Everything else, Chinese text included, is written as UTF-8 unchanged.
public enum JSONString {
    /// `s` as a quoted JSON string literal.
    public static func quote(_ s: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count + 2)
        append(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `s` as a quoted JSON string literal to a UTF-8 buffer.
    public static func append(_ s: String, to out: inout [UInt8]) {
        out.append(quoteMark)
        for scalar in s.unicodeScalars {
            switch scalar.value {
            case 0x22: out.append(contentsOf: [backslash, quoteMark])
            case 0x5C: out.append(contentsOf: [backslash, backslash])
            case 0x0A: out.append(contentsOf: [backslash, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [backslash, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [backslash, UInt8(ascii: "t")])
            case 0x08: out.append(contentsOf: [backslash, UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [backslash, UInt8(ascii: "f")])
            case 0x00..<0x20, 0x2028, 0x2029: appendUnicodeEscape(scalar.value, to: &out)
            case 0x20..<0x80: out.append(UInt8(truncatingIfNeeded: scalar.value))
            default:
                // A valid scalar always encodes; the optional only covers the general API.
                if let encoded = UTF8.encode(scalar) { out.append(contentsOf: encoded) }
            }
        }
        out.append(quoteMark)
    }

    private static let quoteMark = UInt8(ascii: "\"")
    private static let backslash = UInt8(ascii: "\\")

    /// `\uXXXX` for a code point below U+10000.
    private static func appendUnicodeEscape(_ value: UInt32, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(contentsOf: [backslash, UInt8(ascii: "u")])
        for shift in stride(from: 12, through: 0, by: -4) {
            out.append(hex[Int((value >> UInt32(shift)) & 0xF)])
        }
    }
}
