/// A message an agent or bot sends to a contact, as the outbox holds it (DESIGN §10.1 "Outbox
/// entries carry their delivery context").
public struct OutboundMessage: Sendable, Equatable {
    public var conversationId: String
    public var messageId: String
    /// The contact's address on this channel (E.164 number, openid, external_userid, …).
    public var to: String
    public var parts: [MessagePart]
    /// Stable across retries of the same delivery, for providers that honour idempotency keys.
    public var idempotencyKey: String
    /// 1 for the first attempt.
    public var attempt: Int
    /// The conversation's subject (email, mailbox), if it has one.
    public var subject: String?
    /// Where the contact wrote to (the account, the gateway number, the `open_kfid`): a reply
    /// leaves from the same place.
    public var replyFrom: String?
    /// For call control (the bridge an agent's acceptance sends, DESIGN §10.5): the platform's id
    /// of the call to act on; `to` is then where to connect it (the agent's phone or SIP address).
    public var callId: String?

    public init(conversationId: String, messageId: String, to: String, parts: [MessagePart], idempotencyKey: String,
                attempt: Int = 1, subject: String? = nil, replyFrom: String? = nil, callId: String? = nil) {
        self.callId = callId
        self.conversationId = conversationId
        self.messageId = messageId
        self.to = to
        self.parts = parts
        self.idempotencyKey = idempotencyKey
        self.attempt = attempt
        self.subject = subject
        self.replyFrom = replyFrom
    }

    /// The message's text parts joined by blank lines, or nil when it has none.
    public var text: String? {
        let texts = parts.compactMap(\.text).filter { !$0.isEmpty }
        return texts.isEmpty ? nil : texts.joined(separator: "\n\n")
    }
}
