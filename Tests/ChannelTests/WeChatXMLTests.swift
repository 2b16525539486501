import Foundation
import WeChatChannel
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// WeChatXML against well-formed callbacks and hostile input. Every hostile document must be
/// refused with its own error, expand nothing, and print nothing on stderr.
final class WeChatXMLTests: XCTestCase {
    private func parse(_ text: String, maxBytes: Int = WeChatXML.defaultMaxBytes) throws(WeChatXMLError) -> [String: String] {
        try WeChatXML.fields(Array(text.utf8), maxBytes: maxBytes)
    }

    private func assertRefused(_ bytes: [UInt8], maxBytes: Int = WeChatXML.defaultMaxBytes, _ expected: (WeChatXMLError) -> Bool,
                               file: StaticString = #filePath, line: UInt = #line) {
        let (result, stderrText) = capturingStderr { () -> Result<[String: String], WeChatXMLError> in
            do throws(WeChatXMLError) {
                return .success(try WeChatXML.fields(bytes, maxBytes: maxBytes))
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let fields): XCTFail("accepted hostile input, got \(fields)", file: file, line: line)
        case .failure(let error): XCTAssertTrue(expected(error), "unexpected error \(error)", file: file, line: line)
        }
        XCTAssertEqual(stderrText, "", "libxml2 wrote to stderr", file: file, line: line)
    }

    private func assertRefused(_ text: String, maxBytes: Int = WeChatXML.defaultMaxBytes, _ expected: (WeChatXMLError) -> Bool,
                               file: StaticString = #filePath, line: UInt = #line) {
        assertRefused(Array(text.utf8), maxBytes: maxBytes, expected, file: file, line: line)
    }

    // MARK: Well-formed callbacks

    func testReadsCDATAAndPlainFields() throws {
        let fields = try parse("""
            <xml><ToUserName><![CDATA[gh_3f2a1b0c9d8e]]></ToUserName>
            <FromUserName><![CDATA[oR5GjjgEhCMJFyzaVZdrxZ2zRRF4]]></FromUserName>
            <CreateTime>1714112445</CreateTime><MsgType><![CDATA[text]]></MsgType>
            <Content><![CDATA[你好 <b>不是标签</b> & 符号]]></Content><MsgId>23637352235060880</MsgId></xml>
            """)
        XCTAssertEqual(fields, ["ToUserName": "gh_3f2a1b0c9d8e", "FromUserName": "oR5GjjgEhCMJFyzaVZdrxZ2zRRF4",
                                "CreateTime": "1714112445", "MsgType": "text", "Content": "你好 <b>不是标签</b> & 符号",
                                "MsgId": "23637352235060880"])
    }

    func testPredefinedEntitiesAndCharacterReferencesAreDecoded() throws {
        let fields = try parse("<xml><Content>a &lt; b &amp;&amp; c &gt; d &#x4F60;&#22909;</Content><Empty/><Blank></Blank></xml>")
        XCTAssertEqual(fields["Content"], "a < b && c > d 你好")
        XCTAssertEqual(fields["Empty"], "")
        XCTAssertEqual(fields["Blank"], "")
    }

    func testCDATAContainingTheEndMarkerSplitAcrossSections() throws {
        XCTAssertEqual(try parse("<xml><Content><![CDATA[a]]]]><![CDATA[>b]]></Content></xml>")["Content"], "a]]>b")
    }

    func testNestedElementsAreFlattenedWithDottedPaths() throws {
        let fields = try parse("""
            <xml><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[scancode_push]]></Event>
            <ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType><ScanResult><![CDATA[1]]></ScanResult></ScanCodeInfo>
            <SendPicsInfo><Count>2</Count><PicList><item><PicMd5Sum><![CDATA[first]]></PicMd5Sum></item>
            <item><PicMd5Sum><![CDATA[second]]></PicMd5Sum></item></PicList></SendPicsInfo></xml>
            """)
        XCTAssertEqual(fields["ScanCodeInfo.ScanType"], "qrcode")
        XCTAssertEqual(fields["ScanCodeInfo.ScanResult"], "1")
        XCTAssertEqual(fields["SendPicsInfo.Count"], "2")
        XCTAssertEqual(fields["SendPicsInfo.PicList.item.PicMd5Sum"], "first", "a repeated nested path keeps its first item")
        XCTAssertNil(fields["ScanCodeInfo"])
    }

    func testEncodingDeclarationCannotSwitchAwayFromUTF8() throws {
        // Declared GBK, sent as UTF-8: read as UTF-8, the only encoding WeChat uses.
        let fields = try parse("<?xml version=\"1.0\" encoding=\"GBK\"?><xml><Content>中文</Content></xml>")
        XCTAssertEqual(fields["Content"], "中文")
    }

    func testCommentsAndProcessingInstructionsAreIgnored() throws {
        XCTAssertEqual(try parse("<xml><!-- note --><?pi data?><A>1</A></xml>"), ["A": "1"])
    }

    // MARK: Hostile input

    func testBillionLaughsIsRefusedBeforeAnyExpansion() {
        var doc = "<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY lol \"lol\">"
        for level in 1...9 {
            let previous = level == 1 ? "lol" : "lol\(level - 1)"
            doc += "<!ENTITY lol\(level) \"" + String(repeating: "&\(previous);", count: 10) + "\">"
        }
        doc += "]><xml><Content>&lol9;</Content></xml>"
        assertRefused(doc) { $0 == .doctypeForbidden }
    }

    func testExternalEntityIsRefused() {
        assertRefused("<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><xml><Content>&xxe;</Content></xml>") {
            $0 == .doctypeForbidden
        }
        assertRefused("<!DOCTYPE xml [<!ENTITY % p SYSTEM \"http://127.0.0.1:9/x.dtd\"> %p;]><xml><A>1</A></xml>") { $0 == .doctypeForbidden }
    }

    func testDoctypeAloneIsRefused() {
        assertRefused("<!DOCTYPE xml><xml><A>1</A></xml>") { $0 == .doctypeForbidden }
        assertRefused("<!DOCTYPE xml SYSTEM \"http://127.0.0.1:9/x.dtd\"><xml><A>1</A></xml>") { $0 == .doctypeForbidden }
    }

    func testUndeclaredEntityIsNotWellFormed() {
        assertRefused("<xml><Content>&xxe;</Content></xml>") { if case .notWellFormed = $0 { return true }; return false }
    }

    func testMalformedDocumentsAreRefused() {
        let notWellFormed: (WeChatXMLError) -> Bool = { if case .notWellFormed = $0 { return true }; return false }
        assertRefused("<xml><Content>unclosed</xml>", notWellFormed)
        assertRefused("<xml><Content>text</Content>", notWellFormed)
        assertRefused("<xml></xml><xml></xml>", notWellFormed)
        assertRefused("just text", notWellFormed)
        assertRefused("<xml><A>1</A></xml>trailing", notWellFormed)
        assertRefused("<xml><A b=1>x</A></xml>", notWellFormed)
        assertRefused("<xml><Content><![CDATA[never closed</Content></xml>", notWellFormed)
    }

    func testWrongRootIsRefused() {
        assertRefused("<root><A>1</A></root>") { $0 == .wrongRoot("root") }
        assertRefused("<XML><A>1</A></XML>") { $0 == .wrongRoot("XML") }
    }

    func testOversizeEmptyNulAndInvalidUTF8AreRefused() {
        let big = "<xml><Content>" + String(repeating: "a", count: 70_000) + "</Content></xml>"
        assertRefused(big) { $0 == .tooLarge(limit: 65_536, actual: big.utf8.count) }
        assertRefused("<xml><A>12345</A></xml>", maxBytes: 10) { $0 == .tooLarge(limit: 10, actual: 23) }
        assertRefused([UInt8]()) { $0 == .empty }
        assertRefused(Array("<xml><A>1\u{0}2</A></xml>".utf8)) { $0 == .nulByte }
        assertRefused(Array("<xml><A>".utf8) + [0xC3, 0x28] + Array("</A></xml>".utf8)) { $0 == .notUTF8 }
        assertRefused(Array("<xml><A>".utf8) + [0xED, 0xA0, 0x80] + Array("</A></xml>".utf8)) { $0 == .notUTF8 }  // a surrogate
    }

    func testDeepNestingIsRefused() {
        let nested = { (depth: Int) in "<xml>" + String(repeating: "<a>", count: depth) + "x" + String(repeating: "</a>", count: depth) + "</xml>" }
        XCTAssertNoThrow(try parse(nested(WeChatXML.defaultMaxDepth - 1)))
        assertRefused(nested(WeChatXML.defaultMaxDepth)) { $0 == .tooDeep(limit: WeChatXML.defaultMaxDepth) }
        // Deeper than libxml2's own cap (256): refused by the parser, without recursion here.
        assertRefused(nested(5000)) { if case .notWellFormed = $0 { return true }; return false }
    }

    func testDuplicateTopLevelFieldIsRefused() {
        assertRefused("<xml><MsgType>text</MsgType><MsgType>event</MsgType></xml>") { $0 == .duplicateField("MsgType") }
    }

    func testParsesConcurrentlyWithoutSharedState() {
        let good = Array("<xml><A>1</A></xml>".utf8)
        let bad = Array("<!DOCTYPE xml [<!ENTITY e \"x\">]><xml><A>&e;</A></xml>".utf8)
        let broken = Array("<xml><A>1</xml>".utf8)
        let outcomes = (0..<64).map { _ in Mutexed("") }
        DispatchQueue.concurrentPerform(iterations: 64) { i in
            let input = [good, bad, broken][i % 3]
            do throws(WeChatXMLError) {
                outcomes[i].set("ok \(try WeChatXML.fields(input))")
            } catch {
                outcomes[i].set("\(error)")
            }
        }
        for (i, outcome) in outcomes.enumerated() {
            switch i % 3 {
            case 0: XCTAssertEqual(outcome.get(), "ok [\"A\": \"1\"]")
            case 1: XCTAssertEqual(outcome.get(), WeChatXMLError.doctypeForbidden.description)
            default: XCTAssertTrue(outcome.get().hasPrefix("WeChat XML is not well-formed: Opening and ending tag mismatch"), outcome.get())
            }
        }
    }
}

/// A value guarded by a lock, for collecting results from concurrent test iterations.
final class Mutexed<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func set(_ newValue: Value) { lock.withLock { value = newValue } }
    func get() -> Value { lock.withLock { value } }
}

/// Runs `body` with file descriptor 2 redirected to a temporary file and returns what was
/// written there, so a test can prove a C library printed nothing.
func capturingStderr<T>(_ body: () -> T) -> (T, String) {
    let path = NSTemporaryDirectory() + "stderr-\(UUID().uuidString)"
    fflush(nil)
    let saved = dup(2)
    let fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0o600)
    dup2(fd, 2)
    close(fd)
    let value = body()
    fflush(nil)
    dup2(saved, 2)
    close(saved)
    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? "<unreadable>"
    unlink(path)
    return (value, text)
}
