/// An agent's presence (DESIGN §6). `away` carries a reason such as `"missed"` (set by the router
/// after `offer_missed_limit` consecutive offer timeouts), `"break"` or `"meeting"`.
public enum PresenceStatus: String, Codable, Sendable, CaseIterable {
    case available, away, offline
}

/// The console's categories for closing a conversation (DESIGN §1: monthly statistics).
public enum CloseCategory: String, Codable, Sendable, CaseIterable {
    case consultation = "业务咨询"
    case systemOperation = "系统操作"
    case suggestion = "需求建议"
    case complaint = "投诉申告"
    case emergency = "应急处理"
}
