import XCTest
import Logging
import SwitchboardCore
import SwitchboardRedis
@testable import SwitchboardServer

final class ServerUnitTests: XCTestCase {
    func testOutboundTargetParsesURLs() throws {
        let t = try XCTUnwrap(HTTPClientTarget(method: "POST", url: "http://127.0.0.1:9000/2010-04-01/Accounts/AC1/Messages.json"))
        XCTAssertEqual(t.connectAddress, "127.0.0.1")
        XCTAssertEqual(t.port, 9000)
        XCTAssertFalse(t.tls)
        XCTAssertEqual(t.pathAndQuery, "/2010-04-01/Accounts/AC1/Messages.json")
        XCTAssertEqual(t.hostHeader, "127.0.0.1:9000")
        XCTAssertFalse(t.needsResolution)

        let s = try XCTUnwrap(HTTPClientTarget(method: "POST", url: "https://api.example.org"))
        XCTAssertTrue(s.tls)
        XCTAssertEqual(s.port, 443)
        XCTAssertEqual(s.pathAndQuery, "/")
        XCTAssertEqual(s.hostHeader, "api.example.org")
        XCTAssertTrue(s.needsResolution)

        let v6 = try XCTUnwrap(HTTPClientTarget(method: "POST", url: "http://[::1]:8081/x?y=1"))
        XCTAssertEqual(v6.connectAddress, "::1")
        XCTAssertEqual(v6.port, 8081)
        XCTAssertEqual(v6.pathAndQuery, "/x?y=1")

        XCTAssertNil(HTTPClientTarget(method: "POST", url: "ftp://x"))
        XCTAssertNil(HTTPClientTarget(method: "POST", url: "http://host:99999/"))
        XCTAssertNil(HTTPClientTarget(method: "POST", url: "http://:80/"))
    }

    func testRateLimiterRefillsAndPrunes() {
        let limiter = RateLimiter(rate: 2, burst: 3)
        XCTAssertTrue(limiter.allow("1.2.3.4", now: 100))
        XCTAssertTrue(limiter.allow("1.2.3.4", now: 100))
        XCTAssertTrue(limiter.allow("1.2.3.4", now: 100))
        XCTAssertFalse(limiter.allow("1.2.3.4", now: 100), "burst exhausted")
        XCTAssertTrue(limiter.allow("5.6.7.8", now: 100), "buckets are per address")
        XCTAssertEqual(limiter.retryAfter("1.2.3.4"), 1)
        XCTAssertTrue(limiter.allow("1.2.3.4", now: 100.5), "one token back after 0.5 s at 2/s")
        XCTAssertFalse(limiter.allow("1.2.3.4", now: 100.5))
        limiter.prune(now: 1000)
        XCTAssertTrue(limiter.allow("1.2.3.4", now: 1000))
    }

    func testAgentEventSeqIsReadFromThePrefix() {
        XCTAssertEqual(AgentEventFraming.seq(of: Array(#"{"seq":42,"type":"offer"}"#.utf8)), 42)
        XCTAssertEqual(AgentEventFraming.seq(of: Array(#"{"seq":9007199254740993,"type":"x"}"#.utf8)), 9007199254740993)
        XCTAssertNil(AgentEventFraming.seq(of: Array(#"{"type":"ack","seq":4}"#.utf8)))
        XCTAssertNil(AgentEventFraming.seq(of: Array(#"{"seq":"x"}"#.utf8)))
    }

    func testQueryArgumentsAndRESTBody() throws {
        let request = HTTPRequest(method: "GET", subpath: "", query: "before=1-0&limit=20&flag&limit2=%26")
        XCTAssertEqual(try request.queryValue("before"), "1-0")
        XCTAssertEqual(try request.queryValue("flag"), "")
        XCTAssertEqual(try request.queryValue("limit2"), "&")
        XCTAssertNil(try request.queryValue("absent"))
        XCTAssertThrowsError(try HTTPRequest(method: "GET", subpath: "", query: "limit=1&limit=2").queryValue("limit"), "a repeated argument")
        let body = try RESTMessageBody.parse(Array(#"{"text":"您好","clientId":"b1"}"#.utf8))
        XCTAssertEqual(body.parts, [.text("您好")])
        XCTAssertEqual(body.clientId, "b1")
        let media = try RESTMessageBody.parse(Array(#"{"parts":[{"type":"media","url":"https://x/y.png","mime":"image/png"}]}"#.utf8))
        XCTAssertEqual(media.parts.count, 1)
        for bad in [#"[]"#, #"{"text":"   "}"#, #"{}"#, #"{"parts":[{"type":"nope"}]}"#, #"{"text":"a","clientId":""}"#, "not json",
                    #"{"text":"a","clientId":5}"#, #"{"text":"a","authorName":["x"]}"#,
                    #"{"parts":[{"type":"media","url":"file:///etc/passwd","mime":"image/png"}]}"#,
                    #"{"parts":[{"type":"voicemail","recordingUrl":"gopher://127.0.0.1:6379/_x"}]}"#] {
            XCTAssertThrowsError(try RESTMessageBody.parse(Array(bad.utf8)), bad)
        }
    }

    func testJSONTextBuildsErrorBodies() throws {
        let body = JSONText.errorBody(code: "bad_request", message: "field \"text\" missing\n")
        let parsed = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: [String: String]]
        XCTAssertEqual(parsed?["error"]?["code"], "bad_request")
        XCTAssertEqual(parsed?["error"]?["message"], "field \"text\" missing\n")
    }

    /// Issue 9: a Redis or uncoded script error never reaches a client; the incident id it gets is
    /// the one of the log line with the detail. Coded errors pass through unchanged.
    func testInternalStoreErrorsReachClientsOnlyByIncident() throws {
        let lines = LogCapture()
        let logger = Logger(label: "test") { _ in lines }
        let raw = "ERR Invalid stream ID specified as stream command argument script: 9f2c, on @user_script:12."
        let e = ClientFacingError(StoreError(.server(raw)), logger: logger, during: "GET /v1/x")
        XCTAssertEqual(e.status, 500)
        XCTAssertEqual(e.code, "internal")
        XCTAssertFalse(e.message.contains("stream") || e.message.contains("script"), e.message)
        let incident = try XCTUnwrap(e.incident)
        XCTAssertEqual(incident.count, 12)
        XCTAssertEqual(lines.entries.count, 1)
        XCTAssertEqual(lines.entries.first?.metadata["incident"], "\(incident)")
        XCTAssertEqual(lines.entries.first?.metadata["detail"], "\(raw)")
        let body = JSONText.errorBody(code: e.code, message: e.message, incident: e.incident)
        XCTAssertFalse(body.contains("user_script"), body)
        XCTAssertTrue(body.contains("\"incident\":\"\(incident)\""), body)
        XCTAssertFalse(WireEvent.error(code: e.code, message: e.message, incident: e.incident).contains("ERR"))

        let coded = ClientFacingError(StoreError(.server("ERR forbidden not yours script: 1, on @user_script:3.")), logger: logger, during: "x")
        XCTAssertEqual([coded.status, coded.incident == nil ? 0 : 1], [403, 0])
        XCTAssertEqual(coded.message, "not yours")
        XCTAssertEqual(lines.entries.count, 1)
    }

    func testClosePayloadsRFC6455AllowsAndRefuses() {
        func valid(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { CloseCode.isValidClosePayload($0) } }
        XCTAssertTrue(valid([]))
        XCTAssertTrue(valid([0x03, 0xE8]))                       // 1000
        XCTAssertTrue(valid([0x0F, 0xA0] + Array("bye".utf8)))   // 4000
        XCTAssertFalse(valid([0x03]))                            // one byte
        XCTAssertFalse(valid([0x13, 0x88]))                      // 5000
        XCTAssertFalse(valid([0x03, 0xED]))                      // 1005 may not be sent
        XCTAssertFalse(valid([0x03, 0xE8, 0xFF]))                // reason not UTF-8
        XCTAssertEqual(CloseCode.protocolError.rawValue, 1002)
    }
}

/// Log lines kept for a test.
final class LogCapture: LogHandler, @unchecked Sendable {
    struct Entry { let message: String; let metadata: Logger.Metadata }
    private(set) var entries: [Entry] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        entries.append(Entry(message: "\(event.message)", metadata: event.metadata ?? [:]))
    }
}
