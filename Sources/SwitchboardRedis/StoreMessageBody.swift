import SwitchboardCore

/// The part of a `Message` the Swift side encodes once: everything but `id` (the stream entry id),
/// `conversationId` (unknown for a conversation the ingest script creates) and `status` (decided by
/// the script). The scripts splice it behind `{"conversationId":…,"status":…,` (Scripts/_d_store.lua),
/// so the stored text decodes as a `Message` once the id is injected.
struct StoreMessageBody: Encodable {
    var direction: Message.Direction
    var author: Message.Author
    var authorId: String?
    var authorName: String?
    var parts: [MessagePart]
    var externalId: String?
    var clientId: String?
    var createdAt: Int64
}
