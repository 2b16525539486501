import Foundation
import SwitchboardCore
import SwitchboardLoop
import SwitchboardRedis
import XCTest
@testable import SwitchboardServer

/// The event loop over real sockets: body buffering and its limit, answers sent after an
/// asynchronous step (a timer standing in for Redis), keep-alive, and the outbound HTTP client
/// calling back into the same loop.
final class EventLoopServerTests: XCTestCase {
    private var server: EventLoopServer!
    private var delegate: TestDelegate!
    private var thread: Thread!
    private var port = 0

    override func setUpWithError() throws {
        port = try TestSockets.freePort()
        server = EventLoopServer(listen: ListenAddress(host: "127.0.0.1", port: port), tls: nil)
        delegate = TestDelegate()
        server.delegate = delegate
        try server.start()
        delegate.server = server
        let box = UncheckedBox(server!)
        thread = Thread { box.value.run() }
        thread.start()
    }

    override func tearDown() {
        server.requestStop()
        while !thread.isFinished { usleep(1000) }
        server = nil
    }

    func testEchoesABufferedBody() throws {
        let body = String(repeating: "字", count: 200)   // 600 bytes, under the 1 KiB limit
        let r = try TestSockets.request(port: port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.body, body)
    }

    func testOversizeBodyIs413WithAJSONError() throws {
        let body = String(repeating: "x", count: 2000)
        let r = try TestSockets.request(port: port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.count)\r\n\r\n\(body)")
        XCTAssertEqual(r.status, 413)
        XCTAssertTrue(r.body.contains("\"code\":\"too_large\""), r.body)
        XCTAssertEqual(r.headers["connection"], "close", "the connection closes after it: the client must not reuse it")
        XCTAssertEqual(delegate.handled.withLock { $0 }, 0, "the handler never sees an oversize request")
    }

    func testThePathsOwnLimitApplies() throws {
        let body = String(repeating: "z", count: 100)   // under the default 1 KiB, over /small's 64 bytes
        let r = try TestSockets.request(port: port, "POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.count)\r\n\r\n\(body)")
        XCTAssertEqual(r.status, 413)
        XCTAssertTrue(r.body.contains("64 bytes"), r.body)
        let ok = try TestSockets.request(port: port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.count)\r\n\r\n\(body)")
        XCTAssertEqual(ok.status, 200)
    }

    func testTheQueryIsKeptAsItCameOnTheWire() throws {
        let raw = "a=%26b%3Dc&sig=x%2By+z&n=%E4%BD%A0&empty=&flag"
        let r = try TestSockets.request(port: port, "GET /query?\(raw) HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(r.status, 200)
        // Each argument decoded exactly once: an encoded & and = stay inside their value.
        let request = HTTPRequest(method: "GET", subpath: "", query: r.body)
        let items = try request.queryItems()
        XCTAssertEqual(items.map(\.0), ["a", "sig", "n", "empty", "flag"])
        XCTAssertEqual(items.map(\.1), ["&b=c", "x+y z", "你", "", ""])
    }

    func testChunkedOversizeBodyIs413() throws {
        let chunk = String(repeating: "y", count: 700)
        let r = try TestSockets.request(port: port, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2bc\r\n\(chunk)\r\n2bc\r\n\(chunk)\r\n0\r\n\r\n")
        XCTAssertEqual(r.status, 413)
    }

    func testAnswerAfterAnAsynchronousStep() throws {
        let r = try TestSockets.request(port: port, "GET /later HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(r.status, 202)
        XCTAssertEqual(r.body, "later")
        XCTAssertEqual(r.headers["retry-after"], "7")
    }

    func testOutboundClientPostsThroughTheLoop() throws {
        let r = try TestSockets.request(port: port, "GET /proxy HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.body, "upstream=200 body=ping-from-client header=yes")
    }

    func testOutboundClientReportsAConnectionFailure() throws {
        let r = try TestSockets.request(port: port, "GET /proxy-dead HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(r.status, 200)
        XCTAssertTrue(r.body.hasPrefix("upstream=0 error="), r.body)
    }
}

/// Loop-thread delegate for the tests; `handled` is read from the test thread.
private final class TestDelegate: EventLoopDelegate {
    weak var server: EventLoopServer?
    let handled = MutexBox(0)
    private var timers: [LoopTimer] = []

    /// 1 KiB everywhere but `/small` (64 bytes): the per-route limit the channel routes use.
    func bodyLimit(method: String, path: String) -> Int { path == "/small" ? 64 : 1024 }

    func handle(_ exchange: HTTPExchange) {
        handled.withLock { $0 += 1 }
        switch exchange.path {
        case "/echo":
            exchange.respond(HTTPResponse(status: 200, contentType: "text/plain", body: exchange.body))
        case "/query":
            exchange.respond(HTTPResponse(status: 200, contentType: "text/plain", body: Array(exchange.query.utf8)))
        case "/later":
            let timer = LoopTimer(context: server!.context!)
            timers.append(timer)
            timer.schedule(after: 0.05) {
                exchange.respond(HTTPResponse(status: 202, contentType: "text/plain", body: Array("later".utf8), headers: [("retry-after", "7")]))
            }
        case "/proxy", "/proxy-dead":
            let port = exchange.path == "/proxy" ? server!.listen.port : 1
            let target = HTTPClientTarget(method: "POST", url: "http://127.0.0.1:\(port)/upstream")!
            let request = HTTPClientRequest(target: target, headers: ["content-type": "text/plain", "x-request-id": "yes"],
                                            body: Array("ping-from-client".utf8), context: server!.context!) { result in
                let text = result.error.map { "upstream=\(result.status) error=\($0)" }
                    ?? "upstream=\(result.status) body=\(String(decoding: result.body, as: UTF8.self))"
                exchange.respond(HTTPResponse(status: 200, contentType: "text/plain", body: Array(text.utf8)))
            }
            request.start(context: server!.context!, vhost: server!.vhost!, timeout: 5)
        case "/upstream":
            let body = String(decoding: exchange.body, as: UTF8.self) + " header=" + (exchange.headers["x-request-id"] == nil ? "no" : "yes")
            exchange.respond(HTTPResponse(status: 200, contentType: "text/plain", body: Array(body.utf8)))
        default:
            exchange.respondError(status: 404, code: "not_found", message: "no route")
        }
    }

    func refusalOfWebSocket(path: String, remoteAddress: String) -> HTTPResponse? {
        HTTPResponse(status: 404, contentType: "application/json", body: Array("{}".utf8))
    }
    func openWebSocket(wsi: OpaquePointer, path: String) -> WebSocketSession? { nil }
    func loopWoke() {}
}
