/// Pulls messages a provider holds for the broker after an `InboundEvent.fetch` (WeCom
/// customer service's `sync_msg`; DESIGN §10.3). Pure, like the adapter.
///
/// The server runs the pull loop for one `(channel, source)` on one node at a time (a Redis lock),
/// with the cursor kept in Redis: request a page from the stored cursor, store every event of it,
/// and only then advance the cursor, until `hasMore` is false. A node that dies mid-page leaves
/// the cursor where it was, and dedup on the messages' ids makes the repeated page harmless.
public protocol ChannelPuller: Sendable {
    /// The request for the page after `cursor` (nil: from the start), with the trigger's token
    /// and the channel's access token.
    func pageRequest(trigger: PullTrigger, cursor: String?, credential: String?) -> OutboundHTTPRequest
    /// The page's events and where the next page starts, or what went wrong.
    func parsePage(_ response: TransportResponse, trigger: PullTrigger) -> PullPageResult
}

public enum PullPageResult: Sendable, Equatable {
    case page(events: [InboundEvent], nextCursor: String?, hasMore: Bool)
    /// The access token was refused: refresh and repeat this page once.
    case refreshCredentials(String)
    /// The pull stops here; the cursor stays, and the next trigger resumes it.
    case failed(String)
}
