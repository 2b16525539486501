import Foundation
import Logging
import SwitchboardCore
import SwitchboardCrypto
import SwitchboardRedis

/// `/v1/channels/<channelId>/<subpath>`: the routes every channel adapter declares (DESIGN §10.1).
///
/// In order, for each request: the route (404 unknown channel or sub-path, 405 with `Allow` for a
/// method the route does not take); the per-IP rate limit on unsigned routes (429); the route's
/// body limit (applied while reading: 413); `receive` (verification first: 403; on the worker pool
/// for a `heavy` route); readiness (503, so the provider retries); storing every event; then the
/// answer, built from what storing did. Nothing is acknowledged before it is in Redis.
///
/// Loop thread only.
final class ChannelWebhookEndpoint: HTTPEndpoint {
    static let prefix = "/v1/channels/"

    private let channels: [String: ChannelConfig]
    private let adapters: [String: any ChannelAdapter]
    private let ingest: IngestPipeline
    private unowned let readiness: ReadinessProbe
    private let workers: WorkerPool
    private let logger: Logger
    private let clock: () -> Int64
    private let limiter: RateLimiter

    init(channels: [ChannelConfig], adapters: [String: any ChannelAdapter], ingest: IngestPipeline, readiness: ReadinessProbe,
         workers: WorkerPool, limiter: RateLimiter, logger: Logger, clock: @escaping () -> Int64) {
        self.channels = Dictionary(channels.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        self.adapters = adapters
        self.ingest = ingest
        self.readiness = readiness
        self.workers = workers
        self.limiter = limiter
        self.logger = logger
        self.clock = clock
    }

    /// `(channel id, sub-path)` of a path below the prefix.
    private static func split(_ path: String) -> (String, String) {
        let rest = path.dropFirst(prefix.count)
        let channelId = String(rest.prefix { $0 != "/" })
        return (channelId, String(rest.dropFirst(channelId.count).drop { $0 == "/" }))
    }

    func bodyLimit(method: String, path: String) -> Int? {
        let (channelId, subpath) = Self.split(path)
        return adapters[channelId]?.route(for: subpath)?.maxBodyBytes
    }

    func handle(_ exchange: HTTPExchange, responder: HTTPResponder) {
        let (channelId, subpath) = Self.split(exchange.path)
        guard let channel = channels[channelId], let adapter = adapters[channelId] else {
            return responder.fail(exchange, 404, "not_found", "no channel '\(channelId)'")
        }
        guard let route = adapter.route(for: subpath) else {
            return responder.fail(exchange, 404, "not_found", "channel '\(channelId)' has no route '\(subpath)'")
        }
        guard route.methods.contains(exchange.method) else {
            return responder.fail(exchange, 405, "method_not_allowed", "\(exchange.method) is not accepted on '\(subpath)'",
                                  headers: [("allow", route.methods.joined(separator: ", "))])
        }
        if !route.signed {
            let now = Date().timeIntervalSince1970
            guard limiter.allow(exchange.remoteAddress, now: now) else {
                return responder.fail(exchange, 429, "rate_limited", "too many requests from \(exchange.remoteAddress)",
                                      headers: [("retry-after", String(limiter.retryAfter(exchange.remoteAddress)))])
            }
        }
        let request = exchange.request(subpath: subpath)
        guard route.heavy else {
            return received(Result { () throws(ChannelError) in try adapter.receive(request) }, exchange, responder, channel)
        }
        workers.submit({ Result { () throws(ChannelError) in try adapter.receive(request) } }, then: { [weak self] result in
            self?.received(result, exchange, responder, channel)
        })
    }

    private func received(_ result: Result<InboundBatch, ChannelError>, _ exchange: HTTPExchange, _ responder: HTTPResponder,
                          _ channel: ChannelConfig) {
        let batch: InboundBatch
        switch result {
        case .failure(let error):
            if error.httpStatus == 403 {
                logger.warning("webhook signature rejected", metadata: ["channel": "\(channel.id)", "from": "\(exchange.remoteAddress)"])
            }
            return responder.fail(exchange, error.httpStatus, error.code, error.message)
        case .success(let b):
            batch = b
        }
        guard readiness.isReady else { return responder.unavailable(exchange) }
        ingest.store(batch.events, channel: channel) { [weak self] stored in
            guard let self else { return }
            switch stored {
            case .failure(let e):
                responder.fail(exchange, e)
            case .success(let outcomes):
                let context = AnswerContext(nowSeconds: self.clock() / 1000, randomBytes: (try? SecureRandom.bytes(32)) ?? [])
                responder.reply(exchange, batch.answer.response(outcomes, context))
            }
        }
    }
}
