/// Lifecycle of a conversation (DESIGN §6):
/// `bot` → `queued` → `offered` → `assigned` → `wrapup` → `closed`; `abandoned` when the contact
/// leaves before assignment. `queued` ↔ `offered` repeats on reject or timeout.
public enum ConversationStatus: String, Codable, Sendable, CaseIterable {
    case bot, queued, offered, assigned, wrapup, closed, abandoned

    /// Open conversations take new inbound messages; closed or abandoned ones do not, and a new
    /// message from the same contact opens a new conversation.
    public var isOpen: Bool {
        switch self {
        case .bot, .queued, .offered, .assigned: return true
        case .wrapup, .closed, .abandoned: return false
        }
    }
}
