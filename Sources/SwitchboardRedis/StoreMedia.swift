import SwitchboardCore

/// Provider media kept as blobs in Redis (DESIGN §10.8), so every node serves them.
///
/// The conversation is recorded first (`claimMedia`, when the message is stored), so the media
/// route can check who may see it even while the bytes are still being fetched; the bytes follow
/// (`storeMedia`). Both expire with the conversation's retention.
public struct StoredMedia: Sendable, Equatable {
    public var conversationId: String
    public var mime: String?
    public var name: String?
    /// Nil until fetched.
    public var bytes: [UInt8]?

    public init(conversationId: String, mime: String?, name: String?, bytes: [UInt8]?) {
        self.conversationId = conversationId
        self.mime = mime
        self.name = name
        self.bytes = bytes
    }
}

extension Store {
    /// Records which conversation a media id belongs to; false when it was recorded already
    /// (a duplicate webhook: the first one fetches).
    public func claimMedia(channelId: String, mediaId: String, conversationId: String, ttlSeconds: Int,
                           completion: @escaping (Result<Bool, StoreError>) -> Void) {
        let key = keys.media(channel: channelId, mediaId: mediaId)
        command(["HSETNX", key, "conv", conversationId], completion: completion) { $0.int.map { $0 == 1 } }
        // Pipelined behind the HSETNX on the same connection; renewing a duplicate's TTL is harmless.
        runner.redis.send(["EXPIRE", key, String(max(1, ttlSeconds))])
    }

    public func storeMedia(channelId: String, mediaId: String, mime: String, name: String?, bytes: [UInt8],
                           completion: @escaping (Result<Void, StoreError>) -> Void) {
        let args: [[UInt8]] = [Array("HSET".utf8), Array(keys.media(channel: channelId, mediaId: mediaId).utf8),
                               Array("mime".utf8), Array(mime.utf8), Array("name".utf8), Array((name ?? "").utf8),
                               Array("size".utf8), Array(String(bytes.count).utf8), Array("data".utf8), bytes]
        runner.redis.send(bytes: args) { result in
            switch result {
            case .failure(let e): completion(.failure(StoreError(e)))
            case .success(.error(let m)): completion(.failure(StoreError(.server(m))))
            case .success: completion(.success(()))
            }
        }
    }

    /// The media record, nil when the id is unknown (or expired).
    public func media(channelId: String, mediaId: String, completion: @escaping (Result<StoredMedia?, StoreError>) -> Void) {
        command(["HMGET", keys.media(channel: channelId, mediaId: mediaId), "conv", "mime", "name", "data"], completion: completion) { reply in
            guard let f = reply.array, f.count == 4 else { return nil }
            guard case .bulk(let conv) = f[0] else { return .some(nil) }
            var data: [UInt8]?
            if case .bulk(let bytes) = f[3] { data = bytes }
            return .some(StoredMedia(conversationId: String(decoding: conv, as: UTF8.self), mime: f[1].string,
                                     name: f[2].string.flatMap { $0.isEmpty ? nil : $0 }, bytes: data))
        }
    }

    /// A voicemail recording kept by `voice_call`: its URL at the platform and its conversation,
    /// or nil when there is none (unknown, or past the retention).
    public func recording(channelId: String, recordingId: String,
                          completion: @escaping (Result<(url: String, conversationId: String)?, StoreError>) -> Void) {
        command(["HMGET", keys(.recording, channelId, recordingId), "url", "conv"], completion: completion) { reply in
            guard let f = reply.array, f.count == 2 else { return nil }
            guard let url = f[0].string, let conv = f[1].string, !url.isEmpty else { return .some(nil) }
            return .some((url: url, conversationId: conv))
        }
    }

    /// Who may see a conversation: its assignee (nil when none, or no such conversation).
    public func assignee(conversationId: String, completion: @escaping (Result<String?, StoreError>) -> Void) {
        command(["HGET", keys.conversation(conversationId), "assignee"], completion: completion) { reply in
            if reply == .null { return .some(nil) }
            return reply.string.map { $0.isEmpty ? nil : $0 }
        }
    }
}
