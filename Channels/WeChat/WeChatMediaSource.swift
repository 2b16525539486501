import SwitchboardCore

/// `GET {api_base}/cgi-bin/media/get?access_token=…&media_id=…` (Official Account 获取临时素材,
/// https://developers.weixin.qq.com/doc/offiaccount/Asset_Management/Get_temporary_materials.html;
/// WeCom 获取临时素材, https://developer.work.weixin.qq.com/document/path/90254): the bytes, or a
/// JSON error. Temporary media are kept by the platform for 3 days, which is why the server
/// fetches them as soon as the message is stored (DESIGN §10.8).
///
/// The type is read from the bytes themselves (the transport does not pass headers on, and a
/// provider's header is no better than its magic number): JPEG, PNG, GIF, AMR and Speex voice,
/// MP4 video; anything else is kept as `application/octet-stream`.
struct WeChatMediaSource: MediaSource {
    let apiBase: String
    let platform: WeChatAPIPlatform

    func fetchRequest(mediaId: String, credential: String?) -> OutboundHTTPRequest {
        let query = FormURLEncoding.encode([("access_token", credential ?? ""), ("media_id", mediaId)])
        return OutboundHTTPRequest(method: "GET", url: apiBase + "/cgi-bin/media/get?" + query, headers: [:], body: [])
    }

    func parseMedia(_ response: TransportResponse) -> MediaFetchResult {
        let body = response.body
        guard response.status != 0, (200..<300).contains(response.status) else {
            return .failed(response.status == 0 ? "no answer from media/get: \(response.error ?? "")" : "media/get answered HTTP \(response.status)")
        }
        if body.first == UInt8(ascii: "{") {
            if let problem = WeChatAPIAnswer.problem(response, platform: platform) {
                return problem.refresh ? .refreshCredentials(problem.reason) : .failed(problem.reason)
            }
            return .failed("media/get answered JSON without media")
        }
        guard !body.isEmpty else { return .failed("media/get answered an empty body") }
        let (mime, name) = Self.sniff(body)
        return .media(bytes: body, mime: mime, name: name)
    }

    static func sniff(_ b: [UInt8]) -> (String, String?) {
        func starts(_ magic: [UInt8], at offset: Int = 0) -> Bool {
            b.count >= offset + magic.count && Array(b[offset..<(offset + magic.count)]) == magic
        }
        if starts([0xFF, 0xD8, 0xFF]) { return ("image/jpeg", "image.jpg") }
        if starts([0x89, 0x50, 0x4E, 0x47]) { return ("image/png", "image.png") }
        if starts(Array("GIF8".utf8)) { return ("image/gif", "image.gif") }
        if starts(Array("#!AMR".utf8)) { return ("audio/amr", "voice.amr") }
        if starts(Array("OggS".utf8)) { return ("audio/ogg", "voice.ogg") }
        if starts(Array("ftyp".utf8), at: 4) { return ("video/mp4", "video.mp4") }
        return ("application/octet-stream", nil)
    }
}
