import Foundation
import SwitchboardCore
@testable import WeChatChannel
import XCTest

/// The flat-shape fast path gives exactly libxml2's fields for what it reads, and declines the
/// rest (which libxml2 then parses or refuses as before).
final class WeChatFlatXMLTests: XCTestCase {
    private func fixtures() throws -> [(String, [UInt8])] {
        let dir = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/wechat", withExtension: nil))
        var out: [(String, [UInt8])] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path + "/callbacks").sorted() where name.hasSuffix(".xml") {
            out.append((name, try WeChatFixtures.bytes("callbacks/\(name)")))
        }
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() where name.hasSuffix(".json") {
            let f = try WeChatFixtures.signed(name)
            out.append((name + " plaintext", Array(f.plaintext.utf8)))
            if let body = f.body { out.append((name + " body", Array(body.utf8))) }
        }
        return out
    }

    func testEveryFixtureReadsTheSameAsLibxml2() throws {
        var fast = 0
        for (name, bytes) in try fixtures() {
            guard let expected = try? WeChatXML.parsedWithLibxml2(bytes) else {
                // Not XML at all (WeCom's echostr plaintext): the fast path must not read it either.
                XCTAssertNil(WeChatFlatXML.read(bytes), name)
                continue
            }
            if let flat = WeChatFlatXML.read(bytes) {
                XCTAssertEqual(flat, expected, name)
                fast += 1
            }
            XCTAssertEqual(try WeChatXML.fields(bytes), expected, name)
        }
        XCTAssertGreaterThan(fast, 20, "the fast path reads the callbacks WeChat sends")
        // The one nested callback (scancode_push's ScanCodeInfo) goes to libxml2.
        XCTAssertNil(WeChatFlatXML.read(try WeChatFixtures.bytes("callbacks/event-scancode-push.xml")))
    }

    func testTheFastPathDeclinesWhatItDoesNotFullyUnderstand() throws {
        let declined = [
            #"<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "x">]><xml><A>&a;</A></xml>"#,
            "<xml><A>&lt;b&gt;</A></xml>",                 // a reference: libxml2 decodes it
            "<xml><A>x\r\ny</A></xml>",                      // line ends are normalised by XML
            "<xml><A><![CDATA[x\r\ny]]></A></xml>",
            "<xml><A>1</A><A>2</A></xml>",                   // a repeated field: libxml2 refuses
            "<xml><A/></xml>", "<xml><A x=\"1\">v</A></xml>", "<xml><!-- c --><A>v</A></xml>",
            "<xml><A><B>v</B></A></xml>", "<xml>text<A>v</A></xml>", "<xml><A>v</B></xml>",
            "<xml><A>v</A>", "<xml><A>v</A></xml><x/>", "<XML><A>v</A></XML>", "<xml ><A>v</A></xml>",
            "<xml><A>a]]>b</A></xml>", "<xml><A><![CDATA[unterminated</A></xml>", "<xml><1A>v</1A></xml>",
            "<?xml version=\"1.0\"<x>?><xml></xml>",
        ]
        for text in declined {
            XCTAssertNil(WeChatFlatXML.read(Array(text.utf8)), text)
        }
    }

    func testItReadsCDATAAndTextJoinedAndKeepsAngleBracketsInsideCDATA() throws {
        let text = """
        <?xml version="1.0" encoding="UTF-8"?>
        <xml>
          <ToUserName><![CDATA[gh_1]]></ToUserName>
          <Content>前<![CDATA[<b>&amp;</b>]]>后 x > y</Content>
          <CreateTime>1714112445</CreateTime>
          <Empty></Empty>
        </xml>

        """
        let bytes = Array(text.utf8)
        let flat = try XCTUnwrap(WeChatFlatXML.read(bytes))
        XCTAssertEqual(flat, ["ToUserName": "gh_1", "Content": "前<b>&amp;</b>后 x > y", "CreateTime": "1714112445", "Empty": ""])
        XCTAssertEqual(flat, try WeChatXML.parsedWithLibxml2(bytes))
    }
}

/// Documents Tests/Fuzz found the fast path reading although libxml2 refuses them
/// (Fixtures/wechat/fuzz/flat-*.xml): now declined, and refused by `WeChatXML.fields`.
final class WeChatFlatXMLFuzzFindingsTests: XCTestCase {
    func testDocumentsLibxml2RefusesAreDeclined() throws {
        for name in ["flat-control-character.xml", "flat-noncharacter-in-cdata.xml", "flat-bad-declaration.xml",
                     "flat-declaration-after-space.xml"] {
            let bytes = try WeChatFixtures.bytes("fuzz/\(name)")
            XCTAssertThrowsError(try WeChatXML.parsedWithLibxml2(bytes), name)
            XCTAssertNil(WeChatFlatXML.read(bytes), name)
            XCTAssertThrowsError(try WeChatXML.fields(bytes), name)
        }
    }

    func testTabsAndLineFeedsAndAPlainDeclarationStillTakeTheFastPath() throws {
        let bytes = Array("<?xml version=\"1.0\"?>\n<xml>\n\t<Content><![CDATA[a\tb\nc]]>d\te</Content>\n</xml>\n".utf8)
        XCTAssertEqual(WeChatFlatXML.read(bytes), ["Content": "a\tb\ncd\te"])
        XCTAssertEqual(WeChatFlatXML.read(bytes), try WeChatXML.parsedWithLibxml2(bytes))
    }
}
