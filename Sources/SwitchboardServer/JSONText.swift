/// Building JSON text by concatenation for frames whose parts are already encoded (DESIGN §12:
/// encode once, share the bytes). Only the escaping of string values lives here.
enum JSONText {
    /// `s` as a JSON string literal, quotes included (RFC 8259 §7).
    static func quote(_ s: String) -> String {
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{2028}": out += "\\u2028"   // legal JSON, but breaks JavaScript string literals
            case "\u{2029}": out += "\\u2029"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
        return out
    }

    /// The error body of DESIGN §9: `{"error":{"code":…,"message":…}}`.
    static func errorBody(code: String, message: String) -> String {
        "{\"error\":{\"code\":\(quote(code)),\"message\":\(quote(message))}}"
    }

    /// An object from already-encoded values: `[("id", quote("x")), ("n", "3")]` → `{"id":"x","n":3}`.
    static func object(_ fields: [(String, String)]) -> String {
        "{" + fields.map { quote($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
    }

    static func array(_ encoded: [String]) -> String {
        "[" + encoded.joined(separator: ",") + "]"
    }
}
