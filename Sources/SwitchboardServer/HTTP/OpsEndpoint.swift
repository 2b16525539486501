import SwitchboardCore
import SwitchboardRedis

/// `GET /healthz`, `/readyz`, `/metrics`, and the console's static files: everything outside `/v1/`.
/// Loop thread only.
final class OpsEndpoint: HTTPEndpoint {
    private let nodeId: String
    private unowned let readiness: ReadinessProbe
    private let redisConnected: () -> Bool
    private let metrics: BrokerMetrics
    private let sessions: SessionRegistry
    private let assets: StaticAssets
    private let skills: [String]
    private let router: Router
    private let clock: () -> Int64

    init(nodeId: String, readiness: ReadinessProbe, redisConnected: @escaping () -> Bool, metrics: BrokerMetrics,
         sessions: SessionRegistry, assets: StaticAssets, skills: [String], router: Router, clock: @escaping () -> Int64) {
        self.nodeId = nodeId
        self.readiness = readiness
        self.redisConnected = redisConnected
        self.metrics = metrics
        self.sessions = sessions
        self.assets = assets
        self.skills = skills
        self.router = router
        self.clock = clock
    }

    func bodyLimit(method: String, path: String) -> Int? { nil }

    func handle(_ exchange: HTTPExchange, responder: HTTPResponder) {
        let path = exchange.path
        switch (exchange.method, path) {
        case ("GET", "/healthz"):
            responder.reply(exchange, HTTPResponse(text: "{\"status\":\"ok\",\"node\":\(JSONString.quote(nodeId))}"))
        case ("GET", "/readyz"):
            let ready = readiness.isReady
            let body = "{\"ready\":\(ready),\"redis\":\(redisConnected()),\"node\":\(JSONString.quote(nodeId))}"
            responder.reply(exchange, HTTPResponse(status: ready ? 200 : 503, text: body))
        case ("GET", "/metrics"):
            metricsPage(exchange, responder)
        case ("GET", _), ("HEAD", _):
            if let asset = assets.response(for: path) {
                responder.reply(exchange, asset)
            } else {
                responder.fail(exchange, 404, "not_found", "no such route: \(path)")
            }
        case (_, "/healthz"), (_, "/readyz"), (_, "/metrics"):
            responder.fail(exchange, 405, "method_not_allowed", "\(exchange.method) is not accepted on \(path)", headers: [("allow", "GET")])
        default:
            responder.fail(exchange, 404, "not_found", "no such route: \(exchange.method) \(path)")
        }
    }

    private func metricsPage(_ exchange: HTTPExchange, _ responder: HTTPResponder) {
        let visitorSockets = sessions.allVisitors.count
        let agentSockets = sessions.agentSessionCount
        let contentType = "text/plain; version=0.0.4; charset=utf-8"
        guard readiness.isReady else {
            responder.reply(exchange, HTTPResponse(status: 200, contentType: contentType,
                                                   text: metrics.render(stats: nil, ready: false, agentSockets: agentSockets,
                                                                        visitorSockets: visitorSockets)))
            return
        }
        router.stats(skills: skills, now: clock()) { [weak self] result in
            guard let self else { return }
            let text = self.metrics.render(stats: try? result.get(), ready: self.readiness.isReady, agentSockets: agentSockets,
                                           visitorSockets: visitorSockets)
            responder.reply(exchange, HTTPResponse(status: 200, contentType: contentType, text: text))
        }
    }
}
