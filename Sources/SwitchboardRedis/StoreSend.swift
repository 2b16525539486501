import SwitchboardCore

/// How a channel's outbound messages leave the broker: `DeliveryTransport` (SwitchboardCore) is
/// the one table of which kind delivers how.
public typealias DeliveryMode = DeliveryTransport

/// A reply into a conversation from an agent, a bot or the REST API (DESIGN §9 `message.send`,
/// `POST /v1/conversations/{id}/messages`).
public struct SendRequest: Sendable, Equatable {
    public var conversationId: String
    /// `.agent`, `.bot` or `.system`; the store refuses `.contact`.
    public var author: Message.Author
    public var authorId: String?
    public var authorName: String?
    public var parts: [MessagePart]
    /// Idempotency key: a retry with the same clientId returns the first message (DESIGN §9).
    public var clientId: String?
    /// For agents: the conversation must be assigned to this agent, else `.forbidden`
    /// (DESIGN §11: agents see only conversations assigned to them). Nil for API keys and bots.
    public var requiredAssignee: String?
    /// Nil: chosen by the conversation's kind in the script, from `DeliveryTransport.of`, so a console
    /// that only names the conversation needs no lookup first.
    public var mode: DeliveryMode?

    public init(conversationId: String, author: Message.Author, authorId: String? = nil, authorName: String? = nil,
                parts: [MessagePart], clientId: String? = nil, requiredAssignee: String? = nil, mode: DeliveryMode? = nil) {
        self.conversationId = conversationId
        self.author = author
        self.authorId = authorId
        self.authorName = authorName
        self.parts = parts
        self.clientId = clientId
        self.requiredAssignee = requiredAssignee
        self.mode = mode
    }
}

public struct SendOutcome: Sendable, Equatable {
    public var messageId: String
    /// The clientId was seen before: nothing was stored or sent again.
    public var duplicate: Bool
    /// The `sb:outbox` entry id for an outbox delivery; nil for socket delivery and duplicates.
    public var outboxEntryId: String?
    /// The stored message with its id (for a duplicate: the first one; empty if since trimmed).
    public var messageJSON: String

    public init(messageId: String, duplicate: Bool, outboxEntryId: String?, messageJSON: String) {
        self.messageId = messageId
        self.duplicate = duplicate
        self.outboxEntryId = outboxEntryId
        self.messageJSON = messageJSON
    }
}
