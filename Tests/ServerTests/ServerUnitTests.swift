import XCTest
import SwitchboardCore
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
                    #"{"text":"a","clientId":5}"#, #"{"text":"a","authorName":["x"]}"#] {
            XCTAssertThrowsError(try RESTMessageBody.parse(Array(bad.utf8)), bad)
        }
    }

    func testJSONTextBuildsErrorBodies() throws {
        let body = JSONText.errorBody(code: "bad_request", message: "field \"text\" missing\n")
        let parsed = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: [String: String]]
        XCTAssertEqual(parsed?["error"]?["code"], "bad_request")
        XCTAssertEqual(parsed?["error"]?["message"], "field \"text\" missing\n")
    }
}
