import SwitchboardCore

/// What `Store.completeDelivery` did with an outbox entry.
public struct OutboxCompletion: Sendable, Equatable {
    public enum Result: String, Sendable, Equatable {
        /// Acknowledged and removed; the message is `sent`.
        case sent
        /// Acknowledged and parked until `retryAt`; `Store.promoteDelayed` puts it back.
        case retry
        /// Moved to the dead-letter stream; the message is `failed`.
        case failed
        /// The entry was no longer in the stream (another node completed it after a claim):
        /// nothing changed.
        case missing
    }

    public var result: Result
    /// The message's delivery status afterwards (nil for `.missing`).
    public var messageStatus: DeliveryStatus?
    /// Milliseconds since the epoch, for `.retry`.
    public var retryAt: Int64?

    public init(result: Result, messageStatus: DeliveryStatus?, retryAt: Int64?) {
        self.result = result
        self.messageStatus = messageStatus
        self.retryAt = retryAt
    }
}
