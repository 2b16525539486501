import SwitchboardCore
import SwitchboardCrypto

/// Fetches a voicemail recording for the broker's recording proxy (`/v1/media/recording/…`,
/// issue 10). The "media id" is the recording's URL as the platform reported it (a signed callback).
///
/// - Twilio: the Recording resource's URL with `.mp3` appended gives MP3 (without it, WAV: ten
///   times larger); fetching it needs the account's Basic auth
///   (https://www.twilio.com/docs/voice/api/recording#fetch-a-recording-media-file).
/// - A PBX: its URL as it is (its own web server's; no credentials are added).
struct VoiceRecordingSource: MediaSource {
    /// `AccountSid:AuthToken` for Twilio; nil for a PBX.
    var basicAuth: (user: String, password: String)?

    func fetchRequest(mediaId url: String, credential: String?) -> OutboundHTTPRequest {
        guard let auth = basicAuth else { return OutboundHTTPRequest(method: "GET", url: url, headers: [:], body: []) }
        let credentials = Base64.encode(Array("\(auth.user):\(auth.password)".utf8))
        let mp3 = url.lowercased().hasSuffix(".mp3") || url.lowercased().hasSuffix(".wav") ? url : url + ".mp3"
        return OutboundHTTPRequest(method: "GET", url: mp3, headers: ["Authorization": "Basic \(credentials)"], body: [])
    }

    func parseMedia(_ response: TransportResponse) -> MediaFetchResult {
        switch response.status {
        case 200:
            guard !response.body.isEmpty else { return .failed("the recording is empty") }
            return .media(bytes: response.body, mime: Self.mime(of: response.body), name: nil)
        case 0: return .failed("no answer from the platform (\(response.error ?? "connection failed"))")
        case 404: return .failed("the platform no longer has the recording (HTTP 404)")
        default: return .failed("the platform answered HTTP \(response.status)")
        }
    }

    /// From the bytes: the transport gives no Content-Type. `RIFF…WAVE` is WAV, `ID3` or an MPEG
    /// frame sync is MP3 (what Twilio sends for `.mp3`).
    static func mime(of bytes: [UInt8]) -> String {
        if bytes.count >= 12, bytes[0..<4].elementsEqual("RIFF".utf8), bytes[8..<12].elementsEqual("WAVE".utf8) { return "audio/wav" }
        if bytes.starts(with: Array("OggS".utf8)) { return "audio/ogg" }
        return "audio/mpeg"
    }
}
