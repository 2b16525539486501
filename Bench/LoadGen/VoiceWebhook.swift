import TwilioSupport

/// Builds Twilio-signed incoming-call webhooks for S8 (issue 10): the form Twilio posts to a voice
/// channel's `public_url` when a call rings (`CallSid`, `From`, `To`, `CallStatus=ringing`), signed
/// with the broker's own `TwilioSignature` over that URL.
struct VoiceWebhookBuilder {
    let host: String
    let port: Int
    /// Per-run prefix of CallSid, so a rerun against the same Redis is a new call.
    let sidPrefix: String

    func path(channel: String) -> String { "/v1/channels/\(channel)/twilio" }
    func publicURL(channel: String) -> String { "http://\(host):\(port)" + path(channel: channel) }

    func request(channel: String, from phone: String, id: Int) -> [UInt8] {
        let params: [(String, String)] = [
            ("AccountSid", WebhookBuilder.accountSid), ("ApiVersion", "2010-04-01"), ("CallSid", sidPrefix + String(id)),
            ("CallStatus", "ringing"), ("Direction", "inbound"), ("From", phone), ("To", WebhookBuilder.to),
        ]
        let signature = TwilioSignature.compute(authToken: WebhookBuilder.authToken, url: publicURL(channel: channel), parameters: params)
        let form = params.map { $0.0 + "=" + WebhookBuilder.formEncode($0.1) }.joined(separator: "&")
        let head = "POST \(path(channel: channel)) HTTP/1.1\r\nHost: \(host):\(port)\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            + "X-Twilio-Signature: \(signature)\r\nContent-Length: \(form.utf8.count)\r\n\r\n" + form
        return Array(head.utf8)
    }
}
