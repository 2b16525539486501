import Foundation
import SwitchboardCore
import XCTest
@testable import EmailChannel

/// GMime reading the mails Chinese citizens' clients send (issue 11, first step): RFC 2047 subjects
/// and senders in GB2312, GBK bodies, RFC 2231 filenames, HTML-only mail, the threading headers,
/// and the limits that stop a MIME bomb. Fixtures: `Fixtures/email/make_fixtures.py`.
final class MIMEMessageTests: XCTestCase {
    func fixture(_ name: String) throws -> [UInt8] {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/email/" + name, withExtension: nil))
        return Array(try Data(contentsOf: url))
    }

    func testGB2312HeadersAndAGBKBodyComeOutAsUTF8WithTheThreadingIds() throws {
        let mail = try MIMEMessage.parse(fixture("gbk-plain.eml"))
        XCTAssertEqual(mail.subject, "路灯损坏报修")
        XCTAssertEqual(mail.from, "王先生 <wang@example.cn>")
        XCTAssertEqual(mail.text, "您好，我家门口的路灯坏了三天，请尽快派人维修。地址：幸福路12号。")
        XCTAssertEqual(mail.messageId, "gbk-1@example.cn")
        XCTAssertEqual(mail.inReplyTo, "c1a2.m3@example.gov.cn")
        XCTAssertEqual(mail.references, ["first@example.gov.cn", "c1a2.m3@example.gov.cn"])
        XCTAssertEqual(mail.attachments, [])
    }

    func testAnAttachmentKeepsItsRFC2231ChineseNameAndDecodedBytes() throws {
        let mail = try MIMEMessage.parse(fixture("attachment-rfc2231.eml"))
        XCTAssertEqual(mail.subject, "投诉材料")
        XCTAssertEqual(mail.text?.trimmingCharacters(in: .whitespacesAndNewlines), "附件是相关材料，请查收。")
        XCTAssertEqual(mail.attachments.map(\.name), ["材料清单.pdf"])
        XCTAssertEqual(mail.attachments.first?.mime, "application/pdf")
        XCTAssertEqual(mail.attachments.first?.bytes, Array("%PDF-1.4\n% fixture\n".utf8), "base64 decoded")
    }

    func testHTMLOnlyMailHasNoTextButItsHTML() throws {
        let mail = try MIMEMessage.parse(fixture("html-only.eml"))
        XCTAssertNil(mail.text)
        XCTAssertEqual(mail.html, "<p>只有<b>HTML</b>正文</p>")
    }

    func testAMIMEBombIsRefusedWithinTheLimits() {
        // 40 nested multiparts, and 300 parts side by side.
        var deep = "Subject: bomb\r\nMIME-Version: 1.0\r\n"
        for i in 0..<40 { deep += "Content-Type: multipart/mixed; boundary=\"b\(i)\"\r\n\r\n--b\(i)\r\n" }
        deep += "Content-Type: text/plain\r\n\r\nx\r\n"
        XCTAssertThrowsError(try MIMEMessage.parse(Array(deep.utf8))) { XCTAssertTrue("\($0)".contains("nesting"), "\($0)") }
        var wide = "Subject: wide\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"w\"\r\n\r\n"
        for _ in 0..<300 { wide += "--w\r\nContent-Type: text/plain\r\n\r\nx\r\n" }
        wide += "--w--\r\n"
        XCTAssertThrowsError(try MIMEMessage.parse(Array(wide.utf8))) { XCTAssertTrue("\($0)".contains("parts"), "\($0)") }
    }

    func testTheFuzzFindingParsesWithCleanIds() throws {
        if let mail = try? MIMEMessage.parse(fixture("fuzz-unclosed-message-id.eml")) {
            for id in mail.references + [mail.inReplyTo].compactMap({ $0 }) {
                XCTAssertFalse(id.contains("<") || id.contains(">") || id.contains(" "), id)
            }
        }
    }

    func testMessageIdsAreReadFromMessyHeaders() {
        XCTAssertEqual(MIMEMessage.messageIds(" <a@b>\r\n\t<c@d> junk <>"), ["a@b", "c@d"])
        XCTAssertNil(MIMEMessage.firstMessageId("no brackets"))
        // Found by the mime-message fuzz target: an unclosed `<` swallowed the next header's text.
        XCTAssertEqual(MIMEMessage.messageIds("<c1From: 李女士 <li@example.cn>"), ["li@example.cn"])
        XCTAssertEqual(MIMEMessage.messageIds("<a b@c> <d@e>"), ["d@e"], "no spaces inside an id")
    }
}
