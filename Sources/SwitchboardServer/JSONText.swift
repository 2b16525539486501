import SwitchboardCore

/// Building JSON text by concatenation for frames whose parts are already encoded (DESIGN §12:
/// encode once, share the bytes). String escaping is `JSONString.quote` from the Core.
enum JSONText {
    /// The error body of DESIGN §9: `{"error":{"code":…,"message":…}}`, with `"incident"` for an
    /// internal error (`ClientFacingError`).
    static func errorBody(code: String, message: String, incident: String? = nil) -> String {
        let extra = incident.map { ",\"incident\":\(JSONString.quote($0))" } ?? ""
        return "{\"error\":{\"code\":\(JSONString.quote(code)),\"message\":\(JSONString.quote(message))\(extra)}}"
    }

    /// An object from already-encoded values: `[("id", "\"x\""), ("n", "3")]` → `{"id":"x","n":3}`.
    static func object(_ fields: [(String, String)]) -> String {
        "{" + fields.map { JSONString.quote($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
    }

    static func array(_ encoded: [String]) -> String {
        "[" + encoded.joined(separator: ",") + "]"
    }
}
