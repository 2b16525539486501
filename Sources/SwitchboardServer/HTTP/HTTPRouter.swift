import SwitchboardCore

/// The broker's HTTP entry point: each request goes to the endpoint mounted at the longest
/// matching path prefix (`/v1/channels/` before `/v1/`), or is answered 404. Loop thread only.
final class HTTPRouter {
    private var mounts: [(prefix: String, endpoint: HTTPEndpoint)] = []
    private let fallback: HTTPEndpoint
    let responder: HTTPResponder
    /// `limits.max_body_bytes`: the limit where an endpoint sets none.
    let defaultBodyLimit: Int

    /// `fallback` takes every path no prefix matches (health, metrics, static assets).
    init(responder: HTTPResponder, defaultBodyLimit: Int, fallback: HTTPEndpoint) {
        self.responder = responder
        self.defaultBodyLimit = defaultBodyLimit
        self.fallback = fallback
    }

    func mount(_ prefix: String, _ endpoint: HTTPEndpoint) {
        mounts.append((prefix, endpoint))
        mounts.sort { $0.prefix.count > $1.prefix.count }
    }

    private func endpoint(for path: String) -> HTTPEndpoint {
        mounts.first { path.hasPrefix($0.prefix) }?.endpoint ?? fallback
    }

    func bodyLimit(method: String, path: String) -> Int {
        endpoint(for: path).bodyLimit(method: method, path: path) ?? defaultBodyLimit
    }

    func handle(_ exchange: HTTPExchange) {
        endpoint(for: exchange.path).handle(exchange, responder: responder)
    }
}
