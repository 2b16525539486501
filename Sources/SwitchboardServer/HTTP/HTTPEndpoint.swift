import Logging
import SwitchboardCore
import SwitchboardRedis

/// One part of the HTTP surface, mounted by `HTTPRouter` at a path prefix (channel webhooks, REST,
/// operations). Loop thread only.
///
/// Semantics: `bodyLimit` is asked when the request line and headers are in, before any body byte
/// is read, so an oversize body is refused at once (413, from `Content-Length` or while reading).
/// `handle` is called once per request with the whole body, and must answer exactly once through
/// `responder`, now or after an asynchronous Redis reply.
protocol HTTPEndpoint: AnyObject {
    func bodyLimit(method: String, path: String) -> Int?
    func handle(_ exchange: HTTPExchange, responder: HTTPResponder)
}

/// Answers requests and counts every answer by status (the metrics middleware). Every error is
/// JSON `{"error":{"code","message"}}` with the status DESIGN §9 names. Loop thread only.
struct HTTPResponder {
    let metrics: BrokerMetrics
    /// Where internal errors are logged, under the incident id the client gets.
    let logger: Logger

    func reply(_ exchange: HTTPExchange, _ response: HTTPResponse) {
        metrics.httpResponse(status: response.status)
        exchange.respond(response)
    }

    func fail(_ exchange: HTTPExchange, _ status: Int, _ code: String, _ message: String, headers: [(String, String)] = []) {
        metrics.httpResponse(status: status)
        exchange.respondError(status: status, code: code, message: message, headers: headers)
    }

    /// A store failure as an HTTP error; Redis being down is 503 with Retry-After so providers
    /// retry (DESIGN §9: nothing unstored is ever acknowledged). An internal error's text stays in
    /// the log: the client gets a generic 500 with its incident id (`ClientFacingError`).
    func fail(_ exchange: HTTPExchange, _ error: StoreError) {
        let e = ClientFacingError(error, logger: logger, during: "\(exchange.method) \(exchange.path)")
        let headers: [(String, String)] = e.status == 503 ? [("retry-after", "1")] : []
        metrics.httpResponse(status: e.status)
        exchange.respondError(status: e.status, code: e.code, message: e.message, incident: e.incident, headers: headers)
    }

    /// 503 while Redis is not ready: a provider retries, nothing is acknowledged.
    func unavailable(_ exchange: HTTPExchange) {
        fail(exchange, .unavailable("redis is unavailable; retry later"))
    }
}

/// Whether this node can take work: Redis connected and prepared, its channel subscribed
/// (`Broker`'s readiness). What HTTP endpoints, sessions and workers ask before touching Redis.
protocol ReadinessProbe: AnyObject {
    var isReady: Bool { get }
}
