import Foundation
import SwitchboardCore
import SwitchboardCrypto
import SwitchboardRedis

/// HTTP routing (DESIGN §9, REST and channel webhooks). Every error is JSON
/// `{"error":{"code","message"}}` with the status DESIGN §9 names.
extension Broker {
    func handle(_ exchange: HTTPExchange) {
        let path = exchange.path
        if path.hasPrefix("/v1/channels/") {
            webhook(exchange)
            return
        }
        if path.hasPrefix("/v1/") {
            api(exchange)
            return
        }
        switch (exchange.method, path) {
        case ("GET", "/healthz"):
            reply(exchange, HTTPResponse(text: "{\"status\":\"ok\",\"node\":\(JSONString.quote(nodeId))}"))
        case ("GET", "/readyz"):
            let body = "{\"ready\":\(isReady),\"redis\":\(redis?.isConnected ?? false),\"node\":\(JSONString.quote(nodeId))}"
            reply(exchange, HTTPResponse(status: isReady ? 200 : 503, text: body))
        case ("GET", "/metrics"):
            metricsPage(exchange)
        case ("GET", _), ("HEAD", _):
            if let asset = assets.response(for: path) {
                reply(exchange, asset)
            } else {
                fail(exchange, 404, "not_found", "no such route: \(path)")
            }
        default:
            fail(exchange, 404, "not_found", "no such route: \(exchange.method) \(path)")
        }
    }

    func reply(_ exchange: HTTPExchange, _ response: HTTPResponse) {
        metrics.httpResponse(status: response.status)
        exchange.respond(response)
    }

    func fail(_ exchange: HTTPExchange, _ status: Int, _ code: String, _ message: String, headers: [(String, String)] = []) {
        metrics.httpResponse(status: status)
        exchange.respondError(status: status, code: code, message: message, headers: headers)
    }

    /// A store failure as an HTTP error; Redis being down is 503 with Retry-After so providers
    /// retry (DESIGN §9: nothing unstored is ever acknowledged).
    func fail(_ exchange: HTTPExchange, _ error: StoreError) {
        let headers: [(String, String)] = error.httpStatus == 503 ? [("retry-after", "1")] : []
        fail(exchange, error.httpStatus, error.code, error.message, headers: headers)
    }

    private func metricsPage(_ exchange: HTTPExchange) {
        let visitorSockets = sessions.allVisitors.count
        let agentSockets = sessions.agentSessionCount
        guard isReady else {
            reply(exchange, HTTPResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8",
                                         text: metrics.render(stats: nil, ready: false, agentSockets: agentSockets, visitorSockets: visitorSockets)))
            return
        }
        router.stats(skills: configuration.skills, now: now()) { [weak self] result in
            guard let self else { return }
            let text = self.metrics.render(stats: try? result.get(), ready: self.isReady, agentSockets: agentSockets, visitorSockets: visitorSockets)
            self.reply(exchange, HTTPResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", text: text))
        }
    }

    // MARK: channel webhooks

    /// `/v1/channels/<channelId>/<subpath>`: the adapter verifies and parses; every event is
    /// stored; only then the provider gets its expected answer.
    private func webhook(_ exchange: HTTPExchange) {
        let rest = exchange.path.dropFirst("/v1/channels/".count)
        let channelId = String(rest.prefix { $0 != "/" })
        let subpath = String(rest.dropFirst(channelId.count).drop { $0 == "/" })
        guard let channel = configuration.channel(id: channelId), let adapter = adapters[channelId] else {
            fail(exchange, 404, "not_found", "no channel '\(channelId)'")
            return
        }
        if !adapter.webhooksAreSigned {
            let now = Date().timeIntervalSince1970
            guard publicLimiter.allow(exchange.remoteAddress, now: now) else {
                fail(exchange, 429, "rate_limited", "too many requests from \(exchange.remoteAddress)",
                     headers: [("retry-after", String(publicLimiter.retryAfter(exchange.remoteAddress)))])
                return
            }
        }
        let batch: InboundBatch
        do {
            batch = try adapter.receive(exchange.request(subpath: subpath))
        } catch {
            if error.httpStatus == 403 {
                logger.warning("webhook signature rejected", metadata: ["channel": "\(channelId)", "from": "\(exchange.remoteAddress)"])
            }
            fail(exchange, error.httpStatus, error.code, error.message)
            return
        }
        guard isReady else {
            fail(exchange, .unavailable("redis is unavailable; retry later"))
            return
        }
        storeEvents(batch.events[...], channel: channel) { [weak self] result in
            guard let self else { return }
            switch result {
            case .success: self.reply(exchange, batch.response)
            case .failure(let e): self.fail(exchange, e)
            }
        }
    }

    /// Stores events one after another (order matters for a batch from one sender); stops at the
    /// first failure so the provider retries the whole batch — dedup makes that safe.
    private func storeEvents(_ events: ArraySlice<InboundEvent>, channel: ChannelConfig,
                             completion: @escaping (Result<Void, StoreError>) -> Void) {
        guard let first = events.first else {
            completion(.success(()))
            return
        }
        let next: (Result<Void, StoreError>) -> Void = { [weak self] r in
            switch r {
            case .success: self?.storeEvents(events.dropFirst(), channel: channel, completion: completion)
            case .failure: completion(r)
            }
        }
        switch first {
        case .message(let message):
            ingest(channel: channel, message: message, visitorNode: nil) { next($0.map { _ in () }) }
        case .deliveryStatus(let report):
            store.providerStatus(channelId: channel.id, providerId: report.externalId, status: report.status, error: report.error,
                                 now: now()) { next($0.map { _ in () }) }
        }
    }

    // MARK: REST

    private func api(_ exchange: HTTPExchange) {
        guard let key = authenticateAPIKey(exchange) else {
            fail(exchange, 401, "unauthorized", "missing or invalid API key (Authorization: Bearer <key>)")
            return
        }
        guard isReady else {
            fail(exchange, .unavailable("redis is unavailable; retry later"))
            return
        }
        let segments = exchange.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        switch (exchange.method, segments.dropFirst().first ?? "", segments.count) {
        case ("GET", "queues", 2), ("GET", "agents", 2):
            router.stats(skills: configuration.skills, now: now()) { [weak self] result in
                guard let self else { return }
                switch result {
                case .success(let stats):
                    self.reply(exchange, HTTPResponse(text: segments[1] == "queues" ? RoutingStatsJSON.queues(stats) : RoutingStatsJSON.agents(stats)))
                case .failure(let e): self.fail(exchange, e)
                }
            }
        case ("GET", "conversations", 3):
            store.conversation(id: segments[2]) { [weak self] result in
                switch result {
                case .success(let json): self?.reply(exchange, HTTPResponse(text: json))
                case .failure(let e): self?.fail(exchange, e)
                }
            }
        case ("GET", "conversations", 4) where segments[3] == "messages":
            let query = QueryString.parse(exchange.query)
            let limit = min(200, max(1, Int(query["limit"] ?? "") ?? 50))
            store.history(conversationId: segments[2], before: query["before"], limit: limit) { [weak self] result in
                switch result {
                case .success(let messages):
                    self?.reply(exchange, HTTPResponse(text: "{\"conversationId\":\(JSONString.quote(segments[2])),\"messages\":\(JSONText.array(messages))}"))
                case .failure(let e): self?.fail(exchange, e)
                }
            }
        case ("POST", "conversations", 4) where segments[3] == "messages":
            postMessage(exchange, conversationId: segments[2], apiKey: key)
        default:
            fail(exchange, 404, "not_found", "no such route: \(exchange.method) \(exchange.path)")
        }
    }

    /// `POST /v1/conversations/{id}/messages` `{"text":…}` or `{"parts":[…]}`, optional
    /// `clientId` for idempotent retries: a bot or integration replies into a conversation.
    private func postMessage(_ exchange: HTTPExchange, conversationId: String, apiKey: APIKeyConfig) {
        guard exchange.request(subpath: "").mediaType == "application/json" else {
            fail(exchange, 415, "unsupported_media_type", "send application/json")
            return
        }
        let body: RESTMessageBody
        do {
            body = try RESTMessageBody.parse(exchange.body)
        } catch {
            fail(exchange, 400, "bad_request", error.message)
            return
        }
        let request = SendRequest(conversationId: conversationId, author: .bot, authorId: apiKey.id, authorName: body.authorName,
                                  parts: body.parts, clientId: body.clientId, requiredAssignee: nil, mode: nil)
        send(request) { [weak self] result in
            switch result {
            case .success(let outcome):
                self?.reply(exchange, HTTPResponse(status: outcome.duplicate ? 200 : 201,
                                                   text: "{\"messageId\":\(JSONString.quote(outcome.messageId)),\"duplicate\":\(outcome.duplicate)}"))
            case .failure(let e): self?.fail(exchange, e)
            }
        }
    }

    /// API keys are stored as SHA-256 hashes (DESIGN §11) and compared in constant time.
    private func authenticateAPIKey(_ exchange: HTTPExchange) -> APIKeyConfig? {
        guard let header = exchange.headers["authorization"], header.lowercased().hasPrefix("bearer ") else { return nil }
        let token = header.dropFirst(7).trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty else { return nil }
        let hash = Digest.sha256Hex(Array(token.utf8))
        return configuration.apiKeys.first { ConstantTime.equals($0.keySHA256, hash) }
    }
}
