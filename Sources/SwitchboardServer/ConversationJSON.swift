import Foundation
import SwitchboardCore

/// Reads single fields out of a conversation's wire JSON (as the scripts encode it) where the
/// server must decide something from it. Not on the message hot path.
enum ConversationJSON {
    static func fields(_ json: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]) ?? [:]
    }

    static func status(of json: String) -> ConversationStatus? {
        (fields(json)["status"] as? String).flatMap(ConversationStatus.init(rawValue:))
    }

    static func assignee(of json: String) -> String? {
        fields(json)["assignee"] as? String
    }
}
