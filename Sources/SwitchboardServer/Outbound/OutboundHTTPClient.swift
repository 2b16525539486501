import Foundation
import SwitchboardCore

/// How the server's parts make provider requests (deliveries, tokens, pulls, media): one
/// `TransportResponse` per request, on the loop thread; status 0 with `error` when no answer came.
/// `OutboundHTTPClient` is the implementation; tests give the parts a scripted one.
protocol HTTPTransport: AnyObject {
    func perform(_ request: OutboundHTTPRequest, maxResponseBytes: Int, completion: @escaping (TransportResponse) -> Void)
}

extension HTTPTransport {
    /// With the request's own answer limit, else 64 KiB.
    func perform(_ request: OutboundHTTPRequest, completion: @escaping (TransportResponse) -> Void) {
        perform(request, maxResponseBytes: request.maxResponseBytes ?? HTTPClientRequest.maxResponseBytes, completion: completion)
    }
}

/// Makes provider API requests (deliveries, token refreshes, pulls) on the loop with lws' client,
/// resolving a host name on a worker thread first (DESIGN §5: DNS is synchronous in this lws
/// build). Every request ends in exactly one `TransportResponse`: status 0 with `error` when no
/// answer came (refused, timed out, unresolvable). Loop thread only.
final class OutboundHTTPClient: HTTPTransport {
    private let context: OpaquePointer
    private let vhost: OpaquePointer
    private let workers: WorkerPool
    private let timeout: Double

    init(context: OpaquePointer, vhost: OpaquePointer, workers: WorkerPool, timeout: Double) {
        self.context = context
        self.vhost = vhost
        self.workers = workers
        self.timeout = timeout
    }

    /// `maxResponseBytes` bounds the answer kept; a media fetch raises it, and an answer past a
    /// raised limit ends as an error rather than as a cut file.
    func perform(_ request: OutboundHTTPRequest, maxResponseBytes: Int, completion: @escaping (TransportResponse) -> Void) {
        guard let target = HTTPClientTarget(method: request.method, url: request.url) else {
            completion(TransportResponse(status: 0, body: [], error: "invalid URL '\(request.url)'"))
            return
        }
        let go: (HTTPClientTarget) -> Void = { [context, vhost, timeout] resolved in
            let client = HTTPClientRequest(target: resolved, headers: request.headers, body: request.body, context: context,
                                           maxResponseBytes: maxResponseBytes) { result in
                completion(TransportResponse(status: result.status, body: result.body, error: result.error))
            }
            client.start(context: context, vhost: vhost, timeout: timeout)
        }
        guard target.needsResolution else { return go(target) }
        let host = target.connectAddress
        workers.submit({ HostResolver.resolve(host) }, then: { address in
            guard let address else {
                completion(TransportResponse(status: 0, body: [], error: "cannot resolve \(host)"))
                return
            }
            var resolved = target
            resolved.connectAddress = address
            go(resolved)
        })
    }
}

/// getaddrinfo on a worker thread (DESIGN §5: DNS is synchronous in this lws build).
enum HostResolver {
    static func resolve(_ host: String) -> String? {
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return nil }
        defer { freeaddrinfo(result) }
        guard let sa = first.pointee.ai_addr else { return nil }
        return sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
            var addr = sin.pointee.sin_addr
            var buf = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            guard inet_ntop(AF_INET, &addr, &buf, socklen_t(buf.count)) != nil else { return nil }
            return String(cBuffer: buf)
        }
    }
}
