import SwitchboardCore
import TwilioSupport

/// Parses Twilio Programmable Messaging webhooks once their signature has been verified.
///
/// Inbound message fields: https://www.twilio.com/docs/messaging/guides/webhook-request
/// Status callbacks: https://www.twilio.com/docs/messaging/api/message-resource#message-status-values
enum TwilioWebhook {
    /// "Respond with an empty TwiML document if you don't want to reply"
    /// (https://www.twilio.com/docs/messaging/twiml). Replies go through the Messages API after an
    /// agent answers, never inline.
    static let emptyTwiML = #"<?xml version="1.0" encoding="UTF-8"?><Response></Response>"#

    static var acknowledgement: HTTPResponse {
        HTTPResponse(status: 200, contentType: "text/xml", text: emptyTwiML)
    }

    /// An incoming SMS/MMS: `MessageSid`, `From`, `To`, `Body`, `NumMedia`, `MediaUrl{N}`,
    /// `MediaContentType{N}`. Twilio always sends `Body`, empty for a picture-only MMS.
    static func inbound(_ pairs: [(String, String)]) throws(ChannelError) -> InboundMessage {
        let fields = TwilioForm(pairs)
        let sid = try SMSFields.id(try fields.single("MessageSid"), field: "MessageSid")
        let from = try SMSFields.phone(try fields.single("From"), field: "From")
        let to = try SMSFields.optionalAddress(try fields.single("To"), field: "To")
        guard let rawBody = try fields.single("Body") else { throw .malformed("missing field 'Body'") }
        let body = try SMSFields.text(rawBody, field: "Body")

        let mediaCount: Int
        if let raw = try fields.single("NumMedia") {
            guard let n = Int(raw), (0...SMSLimits.maxMedia).contains(n) else {
                throw .malformed("field 'NumMedia' must be an integer from 0 to \(SMSLimits.maxMedia)")
            }
            mediaCount = n
        } else {
            mediaCount = 0
        }
        var media: [MessagePart] = []
        for index in 0..<mediaCount {
            let url = try SMSFields.mediaURL(try fields.single("MediaUrl\(index)"), field: "MediaUrl\(index)")
            let mime = try SMSFields.mime(try fields.single("MediaContentType\(index)"), field: "MediaContentType\(index)")
            media.append(.media(url: url, mime: mime, name: nil, size: nil))
        }
        let parts = try SMSFields.parts(text: body, media: media, textField: "Body")
        return InboundMessage(from: Identity(kind: .sms, address: from), externalId: sid, parts: parts, to: to)
    }

    /// A status callback: `MessageSid`, `MessageStatus` (older callbacks: `SmsStatus`), and
    /// `ErrorCode` for failures. Returns nil for statuses that change nothing for us.
    static func status(_ pairs: [(String, String)]) throws(ChannelError) -> DeliveryStatusReport? {
        let fields = TwilioForm(pairs)
        let messageSid = try fields.single("MessageSid")
        let smsSid = try fields.single("SmsSid")
        let sid = try SMSFields.id(messageSid ?? smsSid, field: "MessageSid")
        let messageStatus = try fields.single("MessageStatus")
        let smsStatus = try fields.single("SmsStatus")
        guard let status = messageStatus ?? smsStatus, !status.isEmpty else {
            throw .malformed("missing field 'MessageStatus'")
        }
        let errorCode = try fields.single("ErrorCode").flatMap { $0.isEmpty ? nil : $0 }
        guard let mapped = try map(status: status, errorCode: errorCode) else { return nil }
        return DeliveryStatusReport(externalId: sid, status: mapped.0, error: mapped.1)
    }

    /// Twilio's message statuses onto ours (DESIGN §6). The outbox records `sent` when Twilio
    /// accepts the API request, so Twilio's pre-carrier states (`queued`, `accepted`,
    /// `scheduled`, `sending`) and its inbound states (`receiving`, `received`) add nothing and
    /// give no event. The store ignores a report that would move a status backwards.
    static func map(status: String, errorCode: String?) throws(ChannelError) -> (DeliveryStatus, String?)? {
        switch status {
        case "queued", "accepted", "scheduled", "sending", "receiving", "received":
            return nil
        case "sent":
            return (.sent, nil)
        case "delivered":
            return (.delivered, nil)
        case "read":
            return (.read, nil)
        case "undelivered", "failed", "canceled":
            guard let errorCode else { return (.failed, status) }
            guard errorCode.utf8.count <= 16, errorCode.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw .malformed("field 'ErrorCode' is not a Twilio error code")
            }
            // The code is what support looks up: https://www.twilio.com/docs/api/errors/<code>
            return (.failed, "\(status) (Twilio error \(errorCode))")
        default:
            throw .malformed("field 'MessageStatus' has unknown value '\(status.prefix(32))'")
        }
    }
}
