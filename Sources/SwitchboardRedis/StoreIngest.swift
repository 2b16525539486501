import SwitchboardCore

/// One inbound message from a contact, as `Store.ingest` stores it (DESIGN §8 hot path).
public struct IngestRequest: Sendable, Equatable {
    /// The configured channel instance, e.g. `sms-main`: dedup keys and the open-conversation
    /// pointer are per channel.
    public var channelId: String
    /// The conversation kind (capacity and routing are per kind, DESIGN §6–7).
    public var channelKind: ChannelKind
    /// The skill a new conversation queues for.
    public var skill: String
    /// 0…9, for a new conversation.
    public var priority: Int
    /// Who wrote: the identity index key `(kind, address)`.
    public var from: Identity
    /// Updates the contact's display name when given.
    public var displayName: String?
    /// The provider's message id. Nil or empty: no dedup (nothing to dedup on).
    public var externalId: String?
    public var parts: [MessagePart]
    /// How long a provider id is remembered for dedup. Providers retry within minutes (Twilio) or
    /// seconds (WeChat: 3 tries within 15 s), so two days is generous.
    public var dedupTTLSeconds: Int
    /// The node holding a web visitor's socket, so replies reach it (DESIGN §8 `sb:node:<id>`).
    public var visitorNode: String?
    /// Email and mailbox subjects.
    public var subject: String?
    /// The address the contact wrote to (our gateway number, a WeCom `open_kfid`): a new
    /// conversation keeps it, and its replies leave from it.
    public var replyFrom: String?
    /// A new conversation on a `bot_first` channel starts in `bot` instead of `queued` (DESIGN §10).
    public var startWithBot: Bool

    public init(channelId: String, channelKind: ChannelKind, skill: String, priority: Int = 0, from: Identity,
                displayName: String? = nil, externalId: String? = nil, parts: [MessagePart],
                dedupTTLSeconds: Int = 172_800, visitorNode: String? = nil, subject: String? = nil,
                startWithBot: Bool = false, replyFrom: String? = nil) {
        self.channelId = channelId
        self.channelKind = channelKind
        self.skill = skill
        self.priority = priority
        self.from = from
        self.displayName = displayName
        self.externalId = externalId
        self.parts = parts
        self.dedupTTLSeconds = dedupTTLSeconds
        self.visitorNode = visitorNode
        self.subject = subject
        self.startWithBot = startWithBot
        self.replyFrom = replyFrom
    }

    /// The request for an adapter's normalized message on a configured channel.
    public init(channel: ChannelConfig, message: InboundMessage, visitorNode: String? = nil, startWithBot: Bool = false) {
        self.init(channelId: channel.id, channelKind: channel.kind, skill: message.skill ?? channel.skill, priority: channel.priority,
                  from: message.from, displayName: message.displayName, externalId: message.externalId,
                  parts: message.parts, visitorNode: visitorNode, subject: message.subject, startWithBot: startWithBot,
                  replyFrom: message.to)
    }
}

/// What `Store.ingest` did. A `created` conversation must be enqueued next (Router); a `duplicate`
/// was stored before, and its conversation's current `status` lets the caller re-run the enqueue
/// idempotently when the first attempt died between the two calls.
public struct IngestOutcome: Sendable, Equatable {
    public var conversationId: String
    public var messageId: String
    public var contactId: String
    public var created: Bool
    public var duplicate: Bool
    public var status: ConversationStatus
    /// The stored message with its id, ready to forward (bot webhook, visitor echo) without
    /// re-encoding. Empty for a duplicate whose original is no longer in the log.
    public var messageJSON: String

    public init(conversationId: String, messageId: String, contactId: String, created: Bool, duplicate: Bool,
                status: ConversationStatus, messageJSON: String) {
        self.conversationId = conversationId
        self.messageId = messageId
        self.contactId = contactId
        self.created = created
        self.duplicate = duplicate
        self.status = status
        self.messageJSON = messageJSON
    }
}
