import Foundation
import SwitchboardCore

/// The body of `POST /v1/conversations/{id}/messages`: `{"text":"…"}` or `{"parts":[…]}`, with an
/// optional `clientId` (idempotency) and `authorName` (what the contact sees as the bot's name).
struct RESTMessageBody {
    var parts: [MessagePart]
    var clientId: String?
    var authorName: String?

    struct Invalid: Error { let message: String }

    static func parse(_ body: [UInt8]) throws(Invalid) -> RESTMessageBody {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
            throw Invalid(message: "body must be a JSON object")
        }
        var parts: [MessagePart] = []
        if let text = object["text"] {
            guard let t = text as? String, !t.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw Invalid(message: "text must be a non-empty string")
            }
            guard t.count <= AgentCommand.maxTextLength else { throw Invalid(message: "text is longer than \(AgentCommand.maxTextLength) characters") }
            parts.append(.text(t))
        }
        if let raw = object["parts"] {
            guard let array = raw as? [Any], let data = try? JSONSerialization.data(withJSONObject: array),
                  let decoded = try? JSONDecoder().decode([MessagePart].self, from: data) else {
                throw Invalid(message: "parts must be an array of message parts ({\"type\":\"text\",\"text\":…}, {\"type\":\"media\",…})")
            }
            if let url = decoded.lazy.compactMap(\.nonWebURL).first {
                throw Invalid(message: "parts name '\(url.prefix(64))' where an http:// or https:// URL belongs")
            }
            parts += decoded
        }
        guard !parts.isEmpty else { throw Invalid(message: "give text or parts") }
        let clientId = try optionalString(object, "clientId")
        if let clientId, clientId.isEmpty || clientId.count > AgentCommand.maxClientIdLength {
            throw Invalid(message: "clientId must be 1–\(AgentCommand.maxClientIdLength) characters")
        }
        return RESTMessageBody(parts: parts, clientId: clientId, authorName: try optionalString(object, "authorName"))
    }

    /// An optional string member: absent is nil, any other type is refused (not silently dropped).
    private static func optionalString(_ object: [String: Any], _ key: String) throws(Invalid) -> String? {
        guard let value = object[key] else { return nil }
        guard let text = value as? String else { throw Invalid(message: "\(key) must be a string") }
        return text
    }
}
