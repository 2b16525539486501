/// A message in a conversation's log (DESIGN §6). `id` is the Redis stream entry id of
/// `sb:conv:{<conv>}:log`, so it is assigned by the store, not by the caller.
public struct Message: Codable, Sendable, Hashable {
    public enum Direction: String, Codable, Sendable { case `in`, out }
    public enum Author: String, Codable, Sendable { case contact, agent, bot, system }

    public var id: String?
    public var conversationId: String
    public var direction: Direction
    public var author: Author
    /// The agent id or bot id for `agent`/`bot` authors.
    public var authorId: String?
    public var authorName: String?
    public var parts: [MessagePart]
    /// The provider's id (Twilio MessageSid, WeChat MsgId, …), used for dedup.
    public var externalId: String?
    /// The sender's idempotency key for outbound messages (`message.send{clientId}`).
    public var clientId: String?
    public var status: DeliveryStatus
    /// Milliseconds since the Unix epoch.
    public var createdAt: Int64

    public init(id: String? = nil, conversationId: String, direction: Direction, author: Author, authorId: String? = nil,
                authorName: String? = nil, parts: [MessagePart], externalId: String? = nil, clientId: String? = nil,
                status: DeliveryStatus, createdAt: Int64) {
        self.id = id
        self.conversationId = conversationId
        self.direction = direction
        self.author = author
        self.authorId = authorId
        self.authorName = authorName
        self.parts = parts
        self.externalId = externalId
        self.clientId = clientId
        self.status = status
        self.createdAt = createdAt
    }

    /// All text parts joined by newlines: what an SMS body or a bot payload carries.
    public var plainText: String {
        parts.compactMap(\.text).joined(separator: "\n")
    }
}
