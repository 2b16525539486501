/// A returning contact's open conversation on a channel (`Store.openConversation`).
public struct OpenConversation: Sendable, Equatable {
    public var contactId: String
    public var conversationId: String
    /// The conversation's wire JSON (DESIGN §9), passed through as is.
    public var conversationJSON: String

    public init(contactId: String, conversationId: String, conversationJSON: String) {
        self.contactId = contactId
        self.conversationId = conversationId
        self.conversationJSON = conversationJSON
    }
}
