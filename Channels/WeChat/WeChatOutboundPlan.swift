import SwitchboardCore
import SwitchboardCrypto

/// The requests one WeChat reply takes, in order, on either platform (DESIGN §10.3 outbound):
/// its text (in 2,048-byte pieces on WeCom), then each image the message carries by URL, which
/// takes three requests: download it (`GET` the URL, at most `media.max_bytes`), upload it as
/// temporary media (`media/upload?type=image`, multipart), and send it by the `media_id` the
/// upload answered. Other media go as a link line in the text.
///
/// Pure: the plan is recomputed from the message on every step, and each request carries its
/// step number in `x-switchboard-step`, so `next` needs no state beyond the message, the step and
/// the provider's answer. A retried attempt starts over (WeCom's `msgid` per piece keeps a
/// repeated piece recognisable).
struct WeChatOutboundPlan {
    enum Stage: Equatable {
        case text(String, index: Int)
        case download(url: String, image: Int)
        case upload(image: Int)
        case sendImage(image: Int)
    }

    let stages: [Stage]

    static let stepHeader = "x-switchboard-step"

    init(_ outbound: OutboundMessage, platform: WeChatAPIPlatform) {
        var lines: [String] = []
        var images: [String] = []
        for part in outbound.parts {
            switch part {
            case .text(let t) where !t.isEmpty: lines.append(t)
            case .media(let url, let mime, let name, _):
                let lower = url.lowercased()
                if mime.hasPrefix("image/"), lower.hasPrefix("https://") || lower.hasPrefix("http://") {
                    images.append(url)
                } else {
                    lines.append([name, url].compactMap { $0 }.joined(separator: " "))
                }
            case .location(let lat, let lon, let label): lines.append([label, "\(lat),\(lon)"].compactMap { $0 }.joined(separator: " "))
            default: continue
            }
        }
        var stages: [Stage] = []
        let text = lines.joined(separator: "\n\n")
        if !text.isEmpty {
            let pieces = platform == .wecom ? WeComKfAPI.textChunks(text) : [text]
            stages += pieces.enumerated().map { .text($0.element, index: $0.offset) }
        }
        for (i, url) in images.enumerated() {
            stages += [.download(url: url, image: i), .upload(image: i), .sendImage(image: i)]
        }
        self.stages = stages
    }

    /// The step a request of this plan was made for.
    static func step(of request: OutboundHTTPRequest) -> Int? {
        request.headers[stepHeader].flatMap { Int($0) }
    }

    /// What an answer to a plan's request means: the next request, or how the delivery ends.
    /// `build(stage, step, data)` makes a request; `data` is the downloaded image for an upload
    /// and the `media_id` (as UTF-8) for a send.
    func next(after request: OutboundHTTPRequest, response: TransportResponse, platform: WeChatAPIPlatform,
              build: (Stage, Int, [UInt8]) -> OutboundHTTPRequest) -> DeliveryOutcome {
        guard let step = Self.step(of: request), stages.indices.contains(step) else {
            return .failed(reason: "an answer to a request this delivery did not make")
        }
        var carry: [UInt8] = []
        switch stages[step] {
        case .download:
            guard response.status != 0 else { return .retry(reason: "the image could not be downloaded: \(response.error ?? "no answer")") }
            guard (200..<300).contains(response.status) else {
                return response.status >= 500 || response.status == 429
                    ? .retry(reason: "the image could not be downloaded: HTTP \(response.status)")
                    : .failed(reason: "the image could not be downloaded: HTTP \(response.status)", agentHint: "图片链接无法下载，请检查后重发")
            }
            guard WeChatMediaSource.sniff(response.body).0.hasPrefix("image/") else {
                return .failed(reason: "the linked file is not a JPEG, PNG or GIF image", agentHint: "只能发送 JPG、PNG 或 GIF 图片")
            }
            carry = response.body
        case .upload:
            switch WeChatMediaUpload.mediaId(response, platform: platform) {
            case .mediaId(let id): carry = Array(id.utf8)
            case .ended(let outcome): return outcome
            }
        case .text, .sendImage:
            let outcome = WeChatAPIAnswer.outcome(response, platform: platform)
            guard case .sent = outcome else { return outcome }
        }
        let following = step + 1
        guard following < stages.count else { return .sent(providerId: nil) }
        return .next(build(stages[following], following, carry))
    }
}

/// `media/upload?type=image` (新增临时素材 / 上传临时素材): a multipart/form-data body with one
/// file field `media`. Built by hand: one part of known bytes needs no MIME library (GMime is for
/// parsing mail), and the boundary is checked not to occur in the bytes.
enum WeChatMediaUpload {
    static func body(_ bytes: [UInt8], seed: String) -> (contentType: String, body: [UInt8]) {
        var boundary = "----switchboard" + String(Digest.sha256Hex(Array(seed.utf8)).prefix(24))
        while contains(bytes, Array(boundary.utf8)) { boundary += "x" }
        let (mime, name) = WeChatMediaSource.sniff(bytes)
        var out = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"media\"; filename=\"\(name ?? "image")\"\r\n".utf8)
        out += Array("Content-Type: \(mime)\r\n\r\n".utf8)
        out += bytes
        out += Array("\r\n--\(boundary)--\r\n".utf8)
        return ("multipart/form-data; boundary=\(boundary)", out)
    }

    enum Answer {
        case mediaId(String)
        case ended(DeliveryOutcome)
    }

    /// The `media_id` of an upload answer, or how the delivery ends.
    static func mediaId(_ response: TransportResponse, platform: WeChatAPIPlatform) -> Answer {
        let outcome = WeChatAPIAnswer.outcome(response, platform: platform)
        guard case .sent = outcome else { return .ended(outcome) }
        struct Body: Decodable { var media_id: String? }
        guard let body = try? WeChatJSON.decode(Body.self, from: response.body, what: "media/upload answer"),
              let id = body.media_id, !id.isEmpty else {
            return .ended(.retry(reason: "media/upload answered without a media_id"))
        }
        return .mediaId(id)
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        let first = needle[0]
        var i = 0
        while i <= haystack.count - needle.count {
            if haystack[i] == first, haystack[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }
}

/// The requests of a plan's stages for one platform and one message.
struct WeChatOutboundRequests {
    let settings: WeChatSettings
    let platform: WeChatAPIPlatform
    let outbound: OutboundMessage
    let credential: String?
    /// WeCom: the customer-service account the contact wrote to.
    let openKfId: String?

    func request(_ stage: WeChatOutboundPlan.Stage, step: Int, data: [UInt8]) -> OutboundHTTPRequest {
        let token = FormURLEncoding.encode([("access_token", credential ?? "")])
        var headers = ["content-type": "application/json", WeChatOutboundPlan.stepHeader: String(step)]
        var request: OutboundHTTPRequest
        switch stage {
        case .text(let content, let index):
            request = send(body: platform == .officialAccount
                           ? OfficialAccountAPI.customSendText(to: outbound.to, content: content)
                           : WeComKfAPI.sendTextBody(to: outbound.to, openKfId: openKfId ?? "", msgId: msgId("t\(index)"), content: content),
                           token: token)
        case .download(let url, _):
            headers = [WeChatOutboundPlan.stepHeader: String(step)]
            request = OutboundHTTPRequest(method: "GET", url: url, headers: [:], body: [], maxResponseBytes: settings.mediaMaxBytes)
        case .upload(let image):
            let (contentType, body) = WeChatMediaUpload.body(data, seed: outbound.idempotencyKey + ":\(image)")
            headers["content-type"] = contentType
            request = OutboundHTTPRequest(url: settings.apiBase + "/cgi-bin/media/upload?" + token + "&type=image", headers: [:], body: body)
        case .sendImage(let image):
            let mediaId = String(decoding: data, as: UTF8.self)
            request = send(body: platform == .officialAccount
                           ? OfficialAccountAPI.customSendImage(to: outbound.to, mediaId: mediaId)
                           : WeComKfAPI.sendImageBody(to: outbound.to, openKfId: openKfId ?? "", msgId: msgId("i\(image)"), mediaId: mediaId),
                           token: token)
        }
        request.headers = headers
        return request
    }

    private func send(body: String, token: String) -> OutboundHTTPRequest {
        let path = platform == .officialAccount ? "/cgi-bin/message/custom/send?" : "/cgi-bin/kf/send_msg?"
        return OutboundHTTPRequest(url: settings.apiBase + path + token, headers: [:], body: Array(body.utf8))
    }

    /// WeCom `msgid`: at most 32 characters of `[0-9a-zA-Z_-]`, stable across retries of the same
    /// piece of the same message.
    private func msgId(_ piece: String) -> String {
        String(Digest.sha256Hex(Array(outbound.idempotencyKey.utf8)).prefix(24)) + "_" + piece
    }
}
