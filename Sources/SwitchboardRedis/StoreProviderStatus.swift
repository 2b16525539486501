import SwitchboardCore

/// What `Store.providerStatus` did with a provider's delivery callback.
public struct ProviderStatusOutcome: Sendable, Equatable {
    /// False when the provider id is unknown (never sent by us, or older than 7 days): the caller
    /// still answers 200 so the provider stops retrying.
    public var found: Bool
    /// True when the status moved forward (and the assignee got a `delivery` event).
    public var changed: Bool
    /// The message's status afterwards.
    public var status: DeliveryStatus?
    public var conversationId: String?
    public var messageId: String?

    public init(found: Bool, changed: Bool, status: DeliveryStatus?, conversationId: String?, messageId: String?) {
        self.found = found
        self.changed = changed
        self.status = status
        self.conversationId = conversationId
        self.messageId = messageId
    }
}
