import Foundation
import SwitchboardCore
import SwitchboardCrypto
import SwitchboardRedis

/// `GET /v1/media/<channelId>/<mediaId>` (DESIGN §10.8): a provider's media kept for a
/// conversation, to agents who may see that conversation — its assignee, and supervisors and
/// admins — with their console token (`Authorization: Bearer <agent token>`; the console fetches
/// with it and shows a blob URL). Images are served inline; anything else as an attachment, and
/// never sniffed by the browser. Unknown media and conversations the agent may not see are both
/// 404, so ids cannot be probed. Loop thread only.
final class MediaEndpoint: HTTPEndpoint {
    private let agents: [AgentConfig]
    private unowned let readiness: ReadinessProbe
    private let store: Store
    private let media: MediaService

    init(agents: [AgentConfig], readiness: ReadinessProbe, store: Store, media: MediaService) {
        self.agents = agents
        self.readiness = readiness
        self.store = store
        self.media = media
    }

    func bodyLimit(method: String, path: String) -> Int? { 0 }

    func handle(_ exchange: HTTPExchange, responder: HTTPResponder) {
        guard exchange.method == "GET" else {
            return responder.fail(exchange, 405, "method_not_allowed", "media is read with GET", headers: [("allow", "GET")])
        }
        guard let agent = authenticate(exchange) else {
            return responder.fail(exchange, 401, "unauthorized", "missing or invalid agent token (Authorization: Bearer <token>)")
        }
        if let (channelId, recordingId) = MediaReference.parseRecording(exchange.path) {
            guard readiness.isReady else { return responder.unavailable(exchange) }
            return playRecording(exchange, responder: responder, agent: agent, channelId: channelId, recordingId: recordingId)
        }
        guard let (channelId, mediaId) = MediaReference.parse(exchange.path) else {
            return responder.fail(exchange, 404, "not_found", "no such media")
        }
        guard readiness.isReady else { return responder.unavailable(exchange) }
        media.load(channelId: channelId, mediaId: mediaId) { [weak self] result in
            guard let self else { return }
            switch result {
            case .failure(let e):
                Self.fail(exchange, responder, e, what: "media")
            case .success(let item):
                self.mayView(agent, item.conversationId) { allowed in
                    guard allowed, let bytes = item.bytes else { return responder.fail(exchange, 404, "not_found", "no such media") }
                    let mime = item.mime ?? "application/octet-stream"
                    var headers: [(String, String)] = [("x-content-type-options", "nosniff"), ("cache-control", "private, max-age=3600")]
                    if !mime.hasPrefix("image/") {
                        headers.append(("content-disposition", "attachment; filename=\"\(item.name ?? "media")\""))
                    }
                    responder.reply(exchange, HTTPResponse(status: 200, contentType: mime, body: bytes, headers: headers))
                }
            }
        }
    }

    /// The recording proxy: the platform's credentials stay here; the agent gets the audio.
    private func playRecording(_ exchange: HTTPExchange, responder: HTTPResponder, agent: AgentConfig, channelId: String, recordingId: String) {
        media.recording(channelId: channelId, recordingId: recordingId) { [weak self] result in
            guard let self else { return }
            switch result {
            case .failure(let e):
                Self.fail(exchange, responder, e, what: "recording")
            case .success(let recording):
                self.mayView(agent, recording.conversationId) { allowed in
                    guard allowed else { return responder.fail(exchange, 404, "not_found", "no such recording") }
                    responder.reply(exchange, HTTPResponse(status: 200, contentType: recording.mime, body: recording.bytes,
                                                           headers: [("x-content-type-options", "nosniff"), ("cache-control", "private, no-store")]))
                }
            }
        }
    }

    /// 404 for what is unknown (never "forbidden": ids cannot be probed), 502 when the provider
    /// would not hand it out.
    private static func fail(_ exchange: HTTPExchange, _ responder: HTTPResponder, _ e: MediaService.MediaError, what: String) {
        if e.status == 404 { return responder.fail(exchange, 404, "not_found", "no such \(what)") }
        responder.fail(exchange, e.status, "bad_gateway", "the provider did not hand out the \(what): \(e.message)")
    }

    private func mayView(_ agent: AgentConfig, _ conversationId: String, _ done: @escaping (Bool) -> Void) {
        if agent.role != .agent { return done(true) }
        store.assignee(conversationId: conversationId) { result in
            done((try? result.get()) == agent.id)
        }
    }

    /// Agent tokens are stored as SHA-256 hashes (DESIGN §11) and compared in constant time.
    private func authenticate(_ exchange: HTTPExchange) -> AgentConfig? {
        guard let header = exchange.headers["authorization"], header.lowercased().hasPrefix("bearer ") else { return nil }
        let token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty else { return nil }
        let hash = Digest.sha256Hex(Array(token.utf8))
        return agents.first { ConstantTime.equals($0.tokenSHA256, hash) }
    }
}
