import Foundation
import SwitchboardCore
import SwitchboardCrypto
import SwitchboardRedis

/// The REST API under `/v1/` (DESIGN §9), behind API-key authentication: queues, agents,
/// conversations and their messages, and replies from bots and integrations. Loop thread only.
final class RESTEndpoint: HTTPEndpoint {
    private let apiKeys: [APIKeyConfig]
    private let skills: [String]
    private unowned let readiness: ReadinessProbe
    private let store: Store
    private let router: Router
    private let replies: ReplySender
    private let clock: () -> Int64

    init(apiKeys: [APIKeyConfig], skills: [String], readiness: ReadinessProbe, store: Store, router: Router,
         replies: ReplySender, clock: @escaping () -> Int64) {
        self.apiKeys = apiKeys
        self.skills = skills
        self.readiness = readiness
        self.store = store
        self.router = router
        self.replies = replies
        self.clock = clock
    }

    func bodyLimit(method: String, path: String) -> Int? { nil }

    func handle(_ exchange: HTTPExchange, responder: HTTPResponder) {
        guard let key = authenticate(exchange) else {
            responder.fail(exchange, 401, "unauthorized", "missing or invalid API key (Authorization: Bearer <key>)")
            return
        }
        guard readiness.isReady else { return responder.unavailable(exchange) }
        let segments = exchange.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        switch (exchange.method, segments.dropFirst().first ?? "", segments.count) {
        case ("GET", "queues", 2), ("GET", "agents", 2):
            router.stats(skills: skills, now: clock()) { result in
                switch result {
                case .success(let stats):
                    responder.reply(exchange, HTTPResponse(text: segments[1] == "queues" ? RoutingStatsJSON.queues(stats) : RoutingStatsJSON.agents(stats)))
                case .failure(let e): responder.fail(exchange, e)
                }
            }
        case ("GET", "conversations", 3):
            store.conversation(id: segments[2]) { result in
                switch result {
                case .success(let json): responder.reply(exchange, HTTPResponse(text: json))
                case .failure(let e): responder.fail(exchange, e)
                }
            }
        case ("GET", "conversations", 4) where segments[3] == "messages":
            let request = exchange.request(subpath: "")
            let limitText: String?, before: String?
            do {
                (limitText, before) = (try request.queryValue("limit"), try request.queryValue("before"))
            } catch {
                return responder.fail(exchange, 400, "bad_request", error.message)
            }
            // The rules of the WebSocket `history` command: a malformed value is 400, never the
            // default and never passed on to Redis (issue 9).
            // `before=` (empty) is the newest page, as docs/openapi.yaml says; `limit=` is 400.
            if let before, !before.isEmpty, !AgentCommand.isStreamId(before) {
                return responder.fail(exchange, 400, "bad_request",
                                      "query parameter 'before' must be a message id such as 1700000000000-0, found '\(before.prefix(64))'")
            }
            var limit = AgentCommand.defaultHistoryLimit
            if let limitText {
                // Digits only: Int64 would also take "+5".
                guard limitText.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                      let n = Int64(limitText), AgentCommand.historyLimits.contains(n) else {
                    return responder.fail(exchange, 400, "bad_request", "query parameter 'limit' must be a whole number between "
                                          + "\(AgentCommand.historyLimits.lowerBound) and \(AgentCommand.historyLimits.upperBound), found '\(limitText.prefix(64))'")
                }
                limit = Int(n)
            }
            store.history(conversationId: segments[2], before: before?.isEmpty == false ? before : nil, limit: limit) { result in
                switch result {
                case .success(let messages):
                    responder.reply(exchange, HTTPResponse(text: "{\"conversationId\":\(JSONString.quote(segments[2])),\"messages\":\(JSONText.array(messages))}"))
                case .failure(let e): responder.fail(exchange, e)
                }
            }
        case ("POST", "conversations", 4) where segments[3] == "messages":
            postMessage(exchange, responder, conversationId: segments[2], apiKey: key)
        default:
            guard let allowed = Self.allowedMethods(segments) else {
                return responder.fail(exchange, 404, "not_found", "no such route: \(exchange.method) \(exchange.path)")
            }
            responder.fail(exchange, 405, "method_not_allowed", "\(exchange.method) is not accepted on \(exchange.path)",
                           headers: [("allow", allowed)])
        }
    }

    /// The methods a REST route takes (docs/openapi.yaml), for 405's `Allow`; nil for no route.
    private static func allowedMethods(_ segments: [String]) -> String? {
        switch (segments.dropFirst().first ?? "", segments.count) {
        case ("queues", 2), ("agents", 2), ("conversations", 3): return "GET"
        case ("conversations", 4) where segments[3] == "messages": return "GET, POST"
        default: return nil
        }
    }

    /// `POST /v1/conversations/{id}/messages` `{"text":…}` or `{"parts":[…]}`, optional
    /// `clientId` for idempotent retries: a bot or integration replies into a conversation.
    private func postMessage(_ exchange: HTTPExchange, _ responder: HTTPResponder, conversationId: String, apiKey: APIKeyConfig) {
        guard exchange.request(subpath: "").mediaType == "application/json" else {
            responder.fail(exchange, 415, "unsupported_media_type", "send application/json")
            return
        }
        let body: RESTMessageBody
        do {
            body = try RESTMessageBody.parse(exchange.body)
        } catch {
            responder.fail(exchange, 400, "bad_request", error.message)
            return
        }
        let request = SendRequest(conversationId: conversationId, author: .bot, authorId: apiKey.id, authorName: body.authorName,
                                  parts: body.parts, clientId: body.clientId, requiredAssignee: nil, mode: nil)
        replies.send(request) { result in
            switch result {
            case .success(let outcome):
                responder.reply(exchange, HTTPResponse(status: outcome.duplicate ? 200 : 201,
                                                       text: "{\"messageId\":\(JSONString.quote(outcome.messageId)),\"duplicate\":\(outcome.duplicate)}"))
            case .failure(let e): responder.fail(exchange, e)
            }
        }
    }

    /// API keys are stored as SHA-256 hashes (DESIGN §11) and compared in constant time.
    private func authenticate(_ exchange: HTTPExchange) -> APIKeyConfig? {
        guard let header = exchange.headers["authorization"], header.lowercased().hasPrefix("bearer ") else { return nil }
        let token = header.dropFirst(7).trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty else { return nil }
        let hash = Digest.sha256Hex(Array(token.utf8))
        return apiKeys.first { ConstantTime.equals($0.keySHA256, hash) }
    }
}
