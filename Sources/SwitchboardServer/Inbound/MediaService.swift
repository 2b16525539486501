import Logging
import SwitchboardCore
import SwitchboardRedis

/// Provider media by id (DESIGN §10.8; `MediaSource` in the Core says the flow): fetched as soon
/// as the message naming it is stored, kept as a blob in Redis for the retention, served by the
/// media route. A fetch that failed (the provider was down, the token was refused twice) is tried
/// again when an agent first opens the media; WeChat keeps temporary media for 3 days.
///
/// On one node, concurrent requests for the same media share one fetch. Loop thread only.
final class MediaService {
    private let store: Store
    private let http: HTTPTransport
    private let credentials: CredentialCache
    private let adapters: [String: any ChannelAdapter]
    private let maxBytes: Int
    private let retentionSeconds: Int
    private let logger: Logger
    private var fetching: [String: [(Result<StoredMedia, MediaError>) -> Void]] = [:]

    struct MediaError: Error {
        let status: Int
        let message: String
    }

    init(store: Store, http: HTTPTransport, credentials: CredentialCache, adapters: [String: any ChannelAdapter],
         maxBytes: Int, retentionSeconds: Int, logger: Logger) {
        self.store = store
        self.http = http
        self.credentials = credentials
        self.adapters = adapters
        self.maxBytes = maxBytes
        self.retentionSeconds = retentionSeconds
        self.logger = logger
    }

    /// A stored message named `mediaIds`: record their conversation and fetch them now.
    func stored(channelId: String, conversationId: String, mediaIds: [String]) {
        for id in mediaIds {
            store.claimMedia(channelId: channelId, mediaId: id, conversationId: conversationId, ttlSeconds: retentionSeconds) { [weak self] r in
                guard let self, case .success(true) = r else { return }   // a duplicate: the first claim fetches
                self.fetch(channelId: channelId, mediaId: id, conversationId: conversationId) { result in
                    if case .failure(let e) = result {
                        self.logger.warning("media fetch failed; it is retried when an agent opens it", metadata: [
                            "channel": "\(channelId)", "media": "\(id)", "reason": "\(e.message)",
                        ])
                    }
                }
            }
        }
    }

    /// A store failure for the media endpoint; an internal one by its incident id only (issue 9).
    private func mediaError(_ e: StoreError, channelId: String, mediaId: String) -> MediaError {
        let c = ClientFacingError(e, logger: logger, during: "media \(channelId)/\(mediaId)")
        return MediaError(status: c.status, message: c.incident.map { "internal error (incident \($0))" } ?? c.message)
    }

    /// The media with its bytes, fetching them first when they are not kept yet.
    func load(channelId: String, mediaId: String, completion: @escaping (Result<StoredMedia, MediaError>) -> Void) {
        store.media(channelId: channelId, mediaId: mediaId) { [weak self] result in
            guard let self else { return }
            switch result {
            case .failure(let e): completion(.failure(self.mediaError(e, channelId: channelId, mediaId: mediaId)))
            case .success(nil): completion(.failure(MediaError(status: 404, message: "no such media")))
            case .success(let media?) where media.bytes != nil: completion(.success(media))
            case .success(let media?): self.fetch(channelId: channelId, mediaId: mediaId, conversationId: media.conversationId, completion: completion)
            }
        }
    }

    private func fetch(channelId: String, mediaId: String, conversationId: String,
                       completion: @escaping (Result<StoredMedia, MediaError>) -> Void) {
        let key = channelId + "\n" + mediaId
        if fetching[key] != nil { fetching[key]!.append(completion); return }
        fetching[key] = [completion]
        let finish: (Result<StoredMedia, MediaError>) -> Void = { [weak self] result in
            (self?.fetching.removeValue(forKey: key) ?? []).forEach { $0(result) }
        }
        guard let adapter = adapters[channelId], let source = adapter.media else {
            return finish(.failure(MediaError(status: 404, message: "channel '\(channelId)' keeps no media")))
        }
        withToken(adapter) { [weak self] token in
            self?.request(source, adapter: adapter, mediaId: mediaId, token: token, refreshed: false) { [weak self] result in
                guard let self else { return }
                switch result {
                case .failure(let e): finish(.failure(e))
                case .success(let (bytes, mime, name)):
                    self.store.storeMedia(channelId: channelId, mediaId: mediaId, mime: mime, name: name, bytes: bytes) { stored in
                        if case .failure(let e) = stored { return finish(.failure(self.mediaError(e, channelId: channelId, mediaId: mediaId))) }
                        finish(.success(StoredMedia(conversationId: conversationId, mime: mime, name: name, bytes: bytes)))
                    }
                }
            }
        } failed: { message in
            finish(.failure(MediaError(status: 502, message: message)))
        }
    }

    /// A call's recording, fetched from the platform for one listener and not kept (recordings are
    /// minutes of audio: Redis keeps their URLs, DESIGN §10.5). 404 when it is unknown or past the
    /// retention; 502 when the platform does not hand it out.
    func recording(channelId: String, recordingId: String,
                   completion: @escaping (Result<(conversationId: String, bytes: [UInt8], mime: String), MediaError>) -> Void) {
        store.recording(channelId: channelId, recordingId: recordingId) { [weak self] result in
            guard let self else { return }
            switch result {
            case .failure(let e): completion(.failure(self.mediaError(e, channelId: channelId, mediaId: recordingId)))
            case .success(nil): completion(.failure(MediaError(status: 404, message: "no such recording")))
            case .success(let found?):
                guard let adapter = self.adapters[channelId], let source = adapter.media else {
                    return completion(.failure(MediaError(status: 404, message: "channel '\(channelId)' keeps no recordings")))
                }
                self.request(source, adapter: adapter, mediaId: found.url, token: nil, refreshed: false) { fetched in
                    completion(fetched.map { (conversationId: found.conversationId, bytes: $0.0, mime: $0.1) })
                }
            }
        }
    }

    private func withToken(_ adapter: any ChannelAdapter, _ body: @escaping (String?) -> Void, failed: @escaping (String) -> Void) {
        guard let source = adapter.credentials else { return body(nil) }
        credentials.token(for: source) { result in
            switch result {
            case .success(let token): body(token)
            case .failure(let e): failed("no access token: \(e.message)")
            }
        }
    }

    private func request(_ source: any MediaSource, adapter: any ChannelAdapter, mediaId: String, token: String?, refreshed: Bool,
                         completion: @escaping (Result<([UInt8], String, String?), MediaError>) -> Void) {
        http.perform(source.fetchRequest(mediaId: mediaId, credential: token), maxResponseBytes: maxBytes) { [weak self] response in
            guard let self else { return }
            switch source.parseMedia(response) {
            case .media(let bytes, let mime, let name):
                completion(.success((bytes, mime, name)))
            case .refreshCredentials(let reason):
                guard !refreshed, let credentialSource = adapter.credentials, let token else {
                    return completion(.failure(MediaError(status: 502, message: reason)))
                }
                self.credentials.replace(token, for: credentialSource) { [weak self] result in
                    guard case .success(let fresh) = result else { return completion(.failure(MediaError(status: 502, message: reason))) }
                    self?.request(source, adapter: adapter, mediaId: mediaId, token: fresh, refreshed: true, completion: completion)
                }
            case .failed(let reason):
                completion(.failure(MediaError(status: 502, message: reason)))
            }
        }
    }
}
