import SwitchboardTestSupport
import XCTest
@testable import SwitchboardRedis

/// The RESP2 request encoding the async client hands to `redisAsyncFormattedCommand`.
final class RESPEncodingTests: XCTestCase {
    private func text(_ args: [String]) -> String { String(decoding: RedisClientSupport.resp(args), as: UTF8.self) }

    func testBulkStringsWithByteLengths() {
        // Lengths count UTF-8 bytes, not characters: "v é" is 4 bytes.
        XCTAssertEqual(text(["SET", "k", "v é"]), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\nv é\r\n")
        XCTAssertEqual(text(["ECHO", ""]), "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n")
        XCTAssertEqual(text(["ECHO", "a\r\nb"]), "*2\r\n$4\r\nECHO\r\n$4\r\na\r\nb\r\n")
    }

    func testMultiDigitCountsAndLengths() {
        let args = ["FCALL"] + (0..<11).map { String($0) } + [String(repeating: "x", count: 1234)]
        let encoded = text(args)
        XCTAssertTrue(encoded.hasPrefix("*13\r\n$5\r\nFCALL\r\n$1\r\n0\r\n"), encoded)
        XCTAssertTrue(encoded.contains("$2\r\n10\r\n"))
        XCTAssertTrue(encoded.hasSuffix("$1234\r\n" + String(repeating: "x", count: 1234) + "\r\n"))
    }

    func testRedisAcceptsTheEncodingOverARawSocket() throws {
        // What Redis itself makes of the bytes: the reply to SET/GET of a non-ASCII, CRLF value.
        let server = try RedisTestServer()
        let redis = try server.connect()
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(server.port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        XCTAssertEqual(connected, 0)
        let command = RedisClientSupport.resp(["SET", "resp-key", "值\r\n2"])
        XCTAssertEqual(command.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }, command.count)
        var reply = [UInt8](repeating: 0, count: 64)
        let n = recv(fd, &reply, reply.count, 0)
        XCTAssertEqual(String(decoding: reply.prefix(max(n, 0)), as: UTF8.self), "+OK\r\n")
        XCTAssertEqual(redis.run("GET", "resp-key").string, "值\r\n2")
    }
}
