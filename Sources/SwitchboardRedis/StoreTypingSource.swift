/// Who is typing (DESIGN §9 `typing`).
public enum TypingSource: Sendable, Equatable {
    /// The agent, who must be the conversation's assignee; the visitor's socket is told.
    case agent(String)
    /// The web visitor; the assignee's consoles are told.
    case visitor
}
