/// Media a provider keeps for a while and hands out by id (WeChat `media/get`; DESIGN §10.8).
///
/// A message that carries such media names it in a part by `MediaReference.url` and lists the
/// ids in `InboundMessage.mediaToFetch`. Once the message is stored, the server fetches each one
/// (with the channel's access token), keeps the bytes as a blob in Redis for the conversation's
/// retention, and serves them to agents who may see the conversation at that URL. A fetch that
/// failed is tried again when an agent first opens the media. Pure, like the adapter.
public protocol MediaSource: Sendable {
    func fetchRequest(mediaId: String, credential: String?) -> OutboundHTTPRequest
    func parseMedia(_ response: TransportResponse) -> MediaFetchResult
}

public enum MediaFetchResult: Sendable, Equatable {
    case media(bytes: [UInt8], mime: String, name: String?)
    /// The access token was refused: refresh and fetch again once.
    case refreshCredentials(String)
    case failed(String)
}

/// Where the console finds a provider's media: `/v1/media/<channelId>/<mediaId>`, the id
/// percent-encoded (`MediaReference.parse` reads it back).
public enum MediaReference {
    public static let prefix = "/v1/media/"

    public static func url(channelId: String, mediaId: String) -> String {
        prefix + FormURLEncoding.encodeComponent(channelId) + "/" + FormURLEncoding.encodeComponent(mediaId)
    }

    /// Where the console plays a call's recording (issue 10): `/v1/media/recording/<channelId>/<id>`,
    /// a proxy that fetches it from the platform with the channel's credentials, so the agent's
    /// browser never sees them. Recordings are kept as URLs, not bytes (minutes of audio each).
    public static let recordingPrefix = prefix + "recording/"

    public static func recordingURL(channelId: String, recordingId: String) -> String {
        recordingPrefix + FormURLEncoding.encodeComponent(channelId) + "/" + FormURLEncoding.encodeComponent(recordingId)
    }

    /// `(channelId, recordingId)` of a recording path, nil for anything else.
    public static func parseRecording(_ path: String) -> (channelId: String, recordingId: String)? {
        guard path.hasPrefix(recordingPrefix) else { return nil }
        let rest = path.dropFirst(recordingPrefix.count).split(separator: "/", omittingEmptySubsequences: false)
        guard rest.count == 2, !rest[0].isEmpty, !rest[1].isEmpty else { return nil }
        return (String(rest[0]), String(rest[1]))
    }

    /// `(channelId, mediaId)` of a media path, nil for anything else.
    public static func parse(_ path: String) -> (channelId: String, mediaId: String)? {
        guard path.hasPrefix(prefix) else { return nil }
        let rest = path.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false)
        guard rest.count == 2, !rest[0].isEmpty, !rest[1].isEmpty else { return nil }
        // lws has decoded the path once already; the ids are plain text by now.
        return (String(rest[0]), String(rest[1]))
    }
}
