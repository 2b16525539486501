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
    /// Each channel's routes by sub-path, read once: `ChannelAdapter.routes` may build its list on
    /// every call, and the route is looked up twice a request (body limit, then handling) —
    /// callgrind counted ~9k instructions per SMS webhook for doing that afresh.
    private let routes: [String: [String: ChannelRoute]]
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
        self.routes = adapters.mapValues { adapter in
            Dictionary(adapter.routes.map { ($0.subpath, $0) }, uniquingKeysWith: { first, _ in first })
        }
        self.ingest = ingest
        self.readiness = readiness
        self.workers = workers
        self.limiter = limiter
        self.logger = logger
        self.clock = clock
    }

    /// `(channel id, sub-path)` of a path below the prefix. Byte-level: the Character-based
    /// `prefix(while:)`/`drop(while:)` version cost ~6k instructions a call (callgrind), and it
    /// runs twice a request.
    private static let prefixBytes = prefix.utf8.count

    private static func split(_ path: String) -> (String, String) {
        let utf8 = path.utf8
        guard utf8.count > prefixBytes else { return ("", "") }
        let start = utf8.index(utf8.startIndex, offsetBy: prefixBytes)
        let slash = utf8[start...].firstIndex(of: UInt8(ascii: "/")) ?? utf8.endIndex
        var rest = slash
        while rest < utf8.endIndex, utf8[rest] == UInt8(ascii: "/") { rest = utf8.index(after: rest) }
        return (String(Substring(utf8[start..<slash])), String(Substring(utf8[rest...])))
    }

    func bodyLimit(method: String, path: String) -> Int? {
        let (channelId, subpath) = Self.split(path)
        return routes[channelId]?[subpath]?.maxBodyBytes
    }

    func handle(_ exchange: HTTPExchange, responder: HTTPResponder) {
        let (channelId, subpath) = Self.split(exchange.path)
        guard let channel = channels[channelId], let adapter = adapters[channelId] else {
            return responder.fail(exchange, 404, "not_found", "no channel '\(channelId)'")
        }
        guard let route = routes[channelId]?[subpath] else {
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
                guard case .computed(let build) = batch.answer else { return responder.reply(exchange, batch.answer.response(outcomes, .none)) }
                // Fresh random bytes only for the answers that use them (a WeChat passive reply).
                let context = AnswerContext(nowSeconds: self.clock() / 1000, randomBytes: (try? SecureRandom.bytes(32)) ?? [])
                responder.reply(exchange, build(outcomes, context))
            }
        }
    }
}
