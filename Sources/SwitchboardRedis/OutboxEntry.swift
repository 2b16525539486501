import Foundation
import SwitchboardCore

/// One pending delivery from the `sb:outbox` stream (DESIGN §11), as a delivery worker gets it from
/// `Store.outboxRead` or `Store.outboxClaim`.
public struct OutboxEntry: Sendable, Equatable {
    /// The stream entry id: what `Store.completeDelivery` acknowledges.
    public var id: String
    public var conversationId: String
    public var messageId: String
    public var channelId: String
    /// The contact's address on the channel.
    public var to: String
    /// 1 for the first try; retries come back as new entries with the next number.
    public var attempt: Int
    /// `<conv>:<msg>`: stable across retries, for providers that honour idempotency keys.
    public var idempotencyKey: String
    public var enqueuedAt: Int64
    /// The message with its id, as stored: carried in the entry so the worker renders without
    /// another round trip.
    public var messageJSON: String
    /// The delivery context the send script copied from the conversation: its kind, subject, and
    /// the address the contact wrote to (replies leave from it). Empty when the conversation had none.
    public var kind: String
    public var subject: String
    public var replyFrom: String
    /// The call a call-control entry acts on (the bridge at acceptance), else empty.
    public var callId: String

    public init(id: String, conversationId: String, messageId: String, channelId: String, to: String, attempt: Int,
                idempotencyKey: String, enqueuedAt: Int64, messageJSON: String, kind: String = "", subject: String = "",
                replyFrom: String = "", callId: String = "") {
        self.callId = callId
        self.id = id
        self.conversationId = conversationId
        self.messageId = messageId
        self.channelId = channelId
        self.to = to
        self.attempt = attempt
        self.idempotencyKey = idempotencyKey
        self.enqueuedAt = enqueuedAt
        self.messageJSON = messageJSON
        self.kind = kind
        self.subject = subject
        self.replyFrom = replyFrom
    }

    /// What the channel adapter renders (`ChannelAdapter.render`). Throws `.internal` when the
    /// carried message is unreadable; the worker then completes the entry as failed, so a corrupt
    /// entry ends in the dead-letter stream instead of being retried for ever.
    public func outboundMessage() throws(StoreError) -> OutboundMessage {
        let message: Message
        do {
            message = try JSONDecoder().decode(Message.self, from: Data(messageJSON.utf8))
        } catch {
            throw StoreError.internal("outbox entry \(id): unreadable message: \(error)")
        }
        return OutboundMessage(conversationId: conversationId, messageId: messageId, to: to, parts: message.parts,
                               idempotencyKey: idempotencyKey, attempt: attempt, subject: subject.isEmpty ? nil : subject,
                               replyFrom: replyFrom.isEmpty ? nil : replyFrom, callId: callId.isEmpty ? nil : callId)
    }
}
