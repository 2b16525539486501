import Foundation
import SwitchboardCore
import SwitchboardCrypto

/// Outbound SMS through a Twilio Messages API–style endpoint (DESIGN §10: "a form POST to the
/// gateway's Messages endpoint, with basic auth"):
/// `POST https://api.twilio.com/2010-04-01/Accounts/{AccountSid}/Messages.json`
/// (https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource).
struct TwilioMessagesAPI: Sendable, Equatable {
    var url: String
    var accountSid: String
    /// The Basic-auth password: `outbound.auth_token`, else the channel's `auth_token`.
    var password: String
    /// A sender number, or a Messaging Service SID (`MG…`), which Twilio takes as
    /// `MessagingServiceSid` instead of `From`.
    var from: String
    /// Where Twilio should post status callbacks for this message, when the channel has a public URL.
    var statusCallback: String?

    func request(for outbound: OutboundMessage) throws(ChannelError) -> OutboundHTTPRequest {
        guard !outbound.to.isEmpty else { throw .unrenderable("message \(outbound.messageId) has no recipient") }
        var texts: [String] = []
        var mediaURLs: [String] = []
        for part in outbound.parts {
            switch part {
            case .text(let text):
                if !text.isEmpty { texts.append(text) }
            case .media(let url, _, _, _):
                // Twilio fetches MMS media itself from a public URL; up to 10 per message.
                mediaURLs.append(url)
            default:
                throw .unrenderable("SMS cannot carry a \(Self.kindName(part)) part")
            }
        }
        let body = texts.joined(separator: "\n")
        guard !body.isEmpty || !mediaURLs.isEmpty else { throw .unrenderable("message \(outbound.messageId) has no text or media") }
        guard body.unicodeScalars.count <= SMSLimits.maxOutboundCharacters else {
            throw .unrenderable("SMS text is longer than Twilio's \(SMSLimits.maxOutboundCharacters) characters")
        }
        guard mediaURLs.count <= SMSLimits.maxMedia else { throw .unrenderable("an MMS carries at most \(SMSLimits.maxMedia) media") }

        var form: [(String, String)] = [("To", outbound.to)]
        if from.hasPrefix("MG") {
            form.append(("MessagingServiceSid", from))
        } else {
            form.append(("From", from))
        }
        if !body.isEmpty { form.append(("Body", body)) }
        for media in mediaURLs { form.append(("MediaUrl", media)) }
        if let statusCallback { form.append(("StatusCallback", statusCallback)) }

        let credentials = Base64.encode(Array("\(accountSid):\(password)".utf8))
        return OutboundHTTPRequest(
            method: "POST", url: url,
            headers: [
                "Authorization": "Basic \(credentials)",
                "Content-Type": "application/x-www-form-urlencoded",
                // The outbox's key, stable across retries of this delivery. Twilio uses this header
                // name for the retry token on its own webhooks; sending it lets a gateway that
                // honours it (and anyone reading gateway logs) recognise a retried create after a
                // lost response. The public Messages API does not promise to drop duplicates on
                // it, so the outbox stays the guard against double sends.
                "I-Twilio-Idempotency-Token": outbound.idempotencyKey,
            ],
            body: Array(FormURLEncoding.encode(form).utf8))
    }

    /// Twilio answers a create with 201 and the Message resource (`sid`); errors carry
    /// `{"code":21211,"message":"…","more_info":"…","status":400}`
    /// (https://www.twilio.com/docs/usage/twilios-response). Status 0 is the server's way of
    /// saying no HTTP answer arrived (connect failure, timeout).
    static func interpret(_ response: TransportResponse) -> DeliveryOutcome {
        let status = response.status, body = response.body
        if status == 0 {
            return .retry(reason: "no response from the SMS gateway (\(response.error ?? "connection failed or timed out"))")
        }
        if (200..<300).contains(status) {
            // Accepted even without a parsable sid: retrying could text the citizen twice.
            let sid = (try? JSONDecoder().decode(Success.self, from: Data(body)))?.sid.flatMap { $0.isEmpty ? nil : $0 }
            return .sent(providerId: sid)
        }
        let reason = "HTTP \(status): \(describeError(body))"
        if status == 429 || (500..<600).contains(status) { return .retry(reason: reason) }
        return .failed(reason: reason)
    }

    private struct Success: Decodable { var sid: String? }

    private struct Failure: Decodable {
        var code: FlexibleString?
        var message: String?
    }

    private static func describeError(_ body: [UInt8]) -> String {
        if let failure = try? JSONDecoder().decode(Failure.self, from: Data(body)), let message = failure.message, !message.isEmpty {
            let text = clip(message)
            if let code = failure.code?.text { return "Twilio error \(code): \(text)" }
            return text
        }
        let text = clip(String(decoding: body.prefix(SMSLimits.maxErrorBytes), as: UTF8.self))
        return text.isEmpty ? "empty response body" : text
    }

    /// One line, bounded: the reason ends up in the dead-letter stream and in agents' consoles.
    private static func clip(_ text: String) -> String {
        let oneLine = text.split(whereSeparator: { $0.isNewline }).joined(separator: " ").trimmingCharacters(in: .whitespaces)
        return oneLine.count > 200 ? String(oneLine.prefix(200)) + "…" : oneLine
    }

    private static func kindName(_ part: MessagePart) -> String {
        switch part {
        case .text: return "text"
        case .media: return "media"
        case .location: return "location"
        case .call: return "call"
        case .voicemail: return "voicemail"
        case .form: return "form"
        case .email: return "email"
        }
    }
}
