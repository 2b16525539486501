import SwitchboardCore
import SwitchboardCrypto

/// The generic SMS gateway contract, for gateways without a provider of their own (DESIGN §10:
/// "generic JSON with HMAC-SHA256"). Every POST carries
/// `X-Signature: sha256=<hex HMAC-SHA256(hmac_secret, raw body)>` (the GitHub-webhook form).
///
/// Inbound (`generic`):  `{"id":"…","from":"+86…","to":"…","text":"…","media":[{"url","mime","name"?,"size"?}]}`
/// Status (`generic/status`): `{"id":"…","status":"sent|delivered|read|failed","error":"…"?}`
/// Both are answered `{"ok":true}`.
enum GenericSMSGateway {
    static let acknowledgement = HTTPResponse(status: 200, text: #"{"ok":true}"#)
    /// Checks the signature header against the raw body in constant time.
    static func verify(signatureHeader: String?, body: [UInt8], secret: String) throws(ChannelError) {
        if let problem = HMACSignatureHeader.problem(header: signatureHeader, body: body, secret: secret) {
            throw .badSignature(problem.message)
        }
    }

    private struct Media: Decodable {
        var url: String
        var mime: String?
        var name: String?
        var size: Int?
    }

    private struct Inbound: Decodable {
        var id: FlexibleString
        var from: String
        var to: String?
        var text: String?
        var media: [Media]?
    }

    private struct Status: Decodable {
        var id: FlexibleString
        var status: String
        var error: String?
    }

    static func message(_ body: [UInt8]) throws(ChannelError) -> InboundMessage {
        let inbound = try JSONBody.decode(Inbound.self, from: body, what: "generic SMS message")
        let id = try SMSFields.id(inbound.id.text, field: "id")
        let from = try SMSFields.phone(inbound.from, field: "from")
        let to = try SMSFields.optionalAddress(inbound.to, field: "to")
        let text = try SMSFields.text(inbound.text ?? "", field: "text")
        let items = inbound.media ?? []
        guard items.count <= SMSLimits.maxMedia else { throw .malformed("field 'media' has more than \(SMSLimits.maxMedia) items") }
        var media: [MessagePart] = []
        for (index, item) in items.enumerated() {
            let at = "media[\(index)]."
            let url = try SMSFields.mediaURL(item.url, field: at + "url")
            let mime = try SMSFields.mime(item.mime, field: at + "mime")
            if let name = item.name, name.utf8.count > 255 { throw .malformed("field '\(at)name' is longer than 255 bytes") }
            if let size = item.size, size < 0 { throw .malformed("field '\(at)size' is negative") }
            media.append(.media(url: url, mime: mime, name: item.name.flatMap { $0.isEmpty ? nil : $0 }, size: item.size))
        }
        let parts = try SMSFields.parts(text: text, media: media, textField: "text")
        return InboundMessage(from: Identity(kind: .sms, address: from), externalId: id, parts: parts, to: to)
    }

    static func status(_ body: [UInt8]) throws(ChannelError) -> DeliveryStatusReport {
        let report = try JSONBody.decode(Status.self, from: body, what: "generic SMS status")
        let id = try SMSFields.id(report.id.text, field: "id")
        // `pending` is our own state before any attempt; a gateway cannot report it.
        guard let status = DeliveryStatus(rawValue: report.status), status != .pending else {
            throw .malformed("field 'status' must be one of sent, delivered, read, failed")
        }
        var error: String?
        if let text = report.error, !text.isEmpty {
            guard text.utf8.count <= SMSLimits.maxErrorBytes else { throw .malformed("field 'error' is longer than \(SMSLimits.maxErrorBytes) bytes") }
            error = text
        }
        if status == .failed, error == nil { error = "failed" }
        return DeliveryStatusReport(externalId: id, status: status, error: status == .failed ? error : nil)
    }
}
