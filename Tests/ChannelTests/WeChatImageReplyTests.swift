import Foundation
import SwitchboardCore
import WeChatChannel
import XCTest

/// A reply that carries an image by URL (a bot's `parts`, DESIGN §10.3): the text first, then the
/// image downloaded, uploaded with `media/upload` and sent by its `media_id`, on both platforms,
/// each step computed from the message, the step and the provider's answer.
final class WeChatImageReplyTests: XCTestCase {
    private typealias W = WeChatAdapters

    private let png = [UInt8]([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) + [UInt8](repeating: 7, count: 40)
    private let imageURL = "https://cdn.example.org/guide/社保卡.png"

    private func message(_ parts: [MessagePart], to: String = W.openId, replyFrom: String? = nil) -> OutboundMessage {
        OutboundMessage(conversationId: "c9", messageId: "m9", to: to, parts: parts, idempotencyKey: "c9:m9", replyFrom: replyFrom)
    }

    private func ok(_ body: String) -> TransportResponse { TransportResponse(status: 200, body: Array(body.utf8)) }

    /// Walks a delivery to its end, answering each request with `answer`; returns the requests
    /// made and the final outcome.
    private func walk(_ adapter: any ChannelAdapter, _ outbound: OutboundMessage,
                      answer: (OutboundHTTPRequest) -> TransportResponse) throws -> ([OutboundHTTPRequest], DeliveryOutcome) {
        var request = try XCTUnwrap(try adapter.render(outbound, credential: "TOK").request)
        var made: [OutboundHTTPRequest] = []
        for _ in 0..<10 {
            made.append(request)
            let outcome = adapter.interpret(answer(request), to: request, for: outbound, credential: "TOK")
            guard case .next(let following, _) = outcome else { return (made, outcome) }
            request = following
        }
        XCTFail("the delivery did not end")
        return (made, .failed(reason: "loop"))
    }

    private func providerAnswer(_ request: OutboundHTTPRequest) -> TransportResponse {
        if request.method == "GET" { return TransportResponse(status: 200, body: png) }
        if request.url.contains("/media/upload") { return ok(#"{"type":"image","media_id":"MEDIA_9","created_at":1}"#) }
        return ok(#"{"errcode":0,"errmsg":"ok"}"#)
    }

    func testOfficialAccountSendsTheTextThenDownloadsUploadsAndSendsTheImage() throws {
        let adapter = try W.officialAccount()
        let (made, outcome) = try walk(adapter, message([.text("请看办理指南"), .media(url: imageURL, mime: "image/png", name: nil, size: nil)]),
                                       answer: providerAnswer)
        XCTAssertEqual(outcome, .sent(providerId: nil))
        XCTAssertEqual(made.map(\.method), ["POST", "GET", "POST", "POST"])
        XCTAssertTrue(made[0].url.hasSuffix("/cgi-bin/message/custom/send?access_token=TOK"))
        XCTAssertEqual(made[1].url, imageURL)
        XCTAssertEqual(made[1].maxResponseBytes, 10 << 20, "the download is bounded by media.max_bytes")
        XCTAssertEqual(made[2].url, W.apiBase + "/cgi-bin/media/upload?access_token=TOK&type=image")
        let contentType = try XCTUnwrap(made[2].headers["content-type"])
        XCTAssertTrue(contentType.hasPrefix("multipart/form-data; boundary="), contentType)
        let boundary = String(contentType.dropFirst("multipart/form-data; boundary=".count))
        let body = made[2].body
        XCTAssertTrue(body.starts(with: Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"media\"; filename=\"image.png\"\r\nContent-Type: image/png\r\n\r\n".utf8)))
        XCTAssertTrue(body.suffix(boundary.utf8.count + 8).elementsEqual(Array("\r\n--\(boundary)--\r\n".utf8)))
        XCTAssertNotNil(body.firstRange(of: png), "the downloaded bytes are the file part")
        struct Image: Decodable { struct M: Decodable { var media_id: String }; var touser: String; var msgtype: String; var image: M }
        let sent = try JSONDecoder().decode(Image.self, from: Data(made[3].body))
        XCTAssertEqual([sent.touser, sent.msgtype, sent.image.media_id], [W.openId, "image", "MEDIA_9"])
    }

    func testWeComSendsTheImageByMediaIdFromTheAccountTheContactWroteTo() throws {
        let adapter = try W.wecom()
        let (made, outcome) = try walk(adapter, message([.media(url: imageURL, mime: "image/jpeg", name: nil, size: nil)],
                                                        to: "wmCustomer", replyFrom: W.openKfId), answer: providerAnswer)
        XCTAssertEqual(outcome, .sent(providerId: nil))
        XCTAssertEqual(made.count, 3, "no text: download, upload, send")
        struct Image: Decodable { struct M: Decodable { var media_id: String }; var touser: String; var open_kfid: String; var msgid: String; var image: M }
        let sent = try JSONDecoder().decode(Image.self, from: Data(made[2].body))
        XCTAssertEqual([sent.touser, sent.open_kfid, sent.image.media_id], ["wmCustomer", W.openKfId, "MEDIA_9"])
        XCTAssertTrue(made[2].url.hasPrefix(W.apiBase + "/cgi-bin/kf/send_msg?"))
        XCTAssertLessThanOrEqual(sent.msgid.count, 32)
    }

    func testEachStepCanEndTheDeliveryAsItsAnswerSays() throws {
        let adapter = try W.officialAccount()
        let outbound = message([.media(url: imageURL, mime: "image/png", name: nil, size: nil)])
        func end(_ answer: @escaping (OutboundHTTPRequest) -> TransportResponse) throws -> DeliveryOutcome {
            try walk(adapter, outbound) { request in answer(request) }.1
        }
        // The image cannot be had.
        XCTAssertEqual(try end { _ in TransportResponse(status: 404, body: []) },
                       .failed(reason: "the image could not be downloaded: HTTP 404", agentHint: "图片链接无法下载，请检查后重发"))
        guard case .retry = try end({ _ in TransportResponse(status: 503, body: []) }) else { return XCTFail("a 503 is worth a retry") }
        guard case .retry = try end({ _ in TransportResponse(status: 0, body: [], error: "refused") }) else { return XCTFail("no answer: retry") }
        guard case .failed(_, let hint?) = try end({ _ in TransportResponse(status: 200, body: Array("<html>".utf8)) }) else {
            return XCTFail("a page is not an image")
        }
        XCTAssertEqual(hint, "只能发送 JPG、PNG 或 GIF 图片")
        // The upload is refused or answers oddly.
        let uploadRefused = try end { r in r.method == "GET" ? TransportResponse(status: 200, body: self.png) : self.ok(#"{"errcode":40001,"errmsg":"invalid credential"}"#) }
        guard case .refreshCredentials = uploadRefused else { return XCTFail("40001 on upload refreshes the token: \(uploadRefused)") }
        let noMediaId = try end { r in r.method == "GET" ? TransportResponse(status: 200, body: self.png) : self.ok(#"{"errcode":0}"#) }
        guard case .retry = noMediaId else { return XCTFail("an upload answer without media_id is retried: \(noMediaId)") }
        // The send of the image is outside the window.
        let window = try end { r in
            r.method == "GET" ? TransportResponse(status: 200, body: self.png)
                : r.url.contains("upload") ? self.ok(#"{"media_id":"M"}"#) : self.ok(#"{"errcode":45015,"errmsg":"response out of time limit"}"#)
        }
        guard case .failed(_, let windowHint?) = window else { return XCTFail("45015: \(window)") }
        XCTAssertEqual(windowHint, "超出48小时客服消息窗口，可改用短信联系")
    }

    func testAnAnswerToARequestTheDeliveryDidNotMakeIsAFailureNotALoop() throws {
        let adapter = try W.officialAccount()
        let outbound = message([.text("x")])
        let stranger = OutboundHTTPRequest(url: "http://127.0.0.1/other", headers: [:], body: [])
        guard case .failed = adapter.interpret(ok(#"{"errcode":0}"#), to: stranger, for: outbound, credential: "T") else {
            return XCTFail("an unknown step ends the delivery")
        }
    }

    func testTheUploadBoundaryNeverOccursInTheFile() throws {
        let seed = "c9:m9:0"
        let (contentType, _) = try uploadBody(png, seed: seed)
        let boundary = String(contentType.dropFirst("multipart/form-data; boundary=".count))
        // A file that contains that very boundary gets a longer one.
        let hostile = png + Array(boundary.utf8) + png
        let (otherType, body) = try uploadBody(hostile, seed: seed)
        let other = String(otherType.dropFirst("multipart/form-data; boundary=".count))
        XCTAssertNotEqual(other, boundary)
        XCTAssertNil(hostile.firstRange(of: Array(other.utf8)))
        XCTAssertNotNil(body.firstRange(of: hostile))
    }

    /// The multipart body of an upload, through the adapter (download answered with `file`).
    private func uploadBody(_ file: [UInt8], seed: String) throws -> (String, [UInt8]) {
        let adapter = try W.officialAccount()
        let outbound = message([.media(url: imageURL, mime: "image/png", name: nil, size: nil)])
        let download = try XCTUnwrap(try adapter.render(outbound, credential: "T").request)
        guard case .next(let upload, _) = adapter.interpret(TransportResponse(status: 200, body: file), to: download, for: outbound, credential: "T") else {
            throw XCTSkip("no upload step")
        }
        return (upload.headers["content-type"] ?? "", upload.body)
    }
}
