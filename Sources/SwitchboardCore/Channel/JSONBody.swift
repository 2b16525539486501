import Foundation

/// Decodes a provider's JSON body and turns decoding failures into `ChannelError.malformed`
/// messages that name the field (`missing field 'phone_number' in [1]`), so a gateway operator
/// can see what their push got wrong (DESIGN §9: 400 bad input, with a clear message).
public enum JSONBody {
    public static func decode<T: Decodable>(_ type: T.Type, from body: [UInt8], what: String) throws(ChannelError) -> T {
        // RFC 8259 §8.1: JSON exchanged between systems is UTF-8. Checked first so the error says so.
        guard UTF8Text.decode(body) != nil else { throw .malformed("\(what): body is not valid UTF-8") }
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch let error as DecodingError {
            throw .malformed("\(what): \(describe(error))")
        } catch {
            throw .malformed("\(what): body is not valid JSON")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "missing field '\(path(context.codingPath + [key]))'"
        case .valueNotFound(_, let context):
            return "field '\(path(context.codingPath))' is null"
        case .typeMismatch(_, let context):
            return context.codingPath.isEmpty ? "body has the wrong JSON shape" : "field '\(path(context.codingPath))' has the wrong type"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "body is not valid JSON" : "field '\(path(context.codingPath))' is invalid: \(context.debugDescription)"
        @unknown default:
            return "body could not be decoded"
        }
    }

    /// `[1].phone_number`, `media[0].url`.
    private static func path(_ keys: [any CodingKey]) -> String {
        var out = ""
        for key in keys {
            if let index = key.intValue {
                out += "[\(index)]"
            } else {
                out += out.isEmpty ? key.stringValue : "." + key.stringValue
            }
        }
        return out
    }
}
