import SwitchboardCore

/// Checks shared by every provider's parser, so each field is refused the same way with a message
/// naming it (`ChannelError.malformed`), before anything reaches the store.
enum SMSFields {
    /// A provider message id: non-empty, bounded, printable ASCII (Twilio SIDs, numeric sequence
    /// ids, gateway ids). It becomes part of a Redis dedup key (DESIGN §8), so no spaces or
    /// control characters.
    static func id(_ value: String?, field: String) throws(ChannelError) -> String {
        guard let value, !value.isEmpty else { throw .malformed("missing field '\(field)'") }
        guard value.utf8.count <= SMSLimits.maxIdBytes else { throw .malformed("field '\(field)' is longer than \(SMSLimits.maxIdBytes) bytes") }
        guard value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { throw .malformed("field '\(field)' must be printable ASCII without spaces") }
        return value
    }

    /// A sender number, normalized to E.164 (see `PhoneNumber.e164`).
    static func phone(_ value: String?, field: String) throws(ChannelError) -> String {
        guard let value, !value.isEmpty else { throw .malformed("missing field '\(field)'") }
        guard value.utf8.count <= SMSLimits.maxAddressBytes else { throw .malformed("field '\(field)' is longer than \(SMSLimits.maxAddressBytes) bytes") }
        guard let number = PhoneNumber.e164(value) else { throw .malformed("field '\(field)' is not a phone number") }
        return number
    }

    /// An optional address of ours (gateway number, extension code): bounded, nil when empty.
    static func optionalAddress(_ value: String?, field: String) throws(ChannelError) -> String? {
        guard let value, !value.isEmpty else { return nil }
        guard value.utf8.count <= SMSLimits.maxAddressBytes else { throw .malformed("field '\(field)' is longer than \(SMSLimits.maxAddressBytes) bytes") }
        return value
    }

    /// Message text: bounded. Empty is allowed here; `parts` decides whether the message is empty.
    static func text(_ value: String, field: String) throws(ChannelError) -> String {
        guard value.utf8.count <= SMSLimits.maxTextBytes else { throw .malformed("field '\(field)' is longer than \(SMSLimits.maxTextBytes) bytes") }
        return value
    }

    /// A media URL the agent console will fetch: absolute http(s), bounded, no whitespace.
    static func mediaURL(_ value: String?, field: String) throws(ChannelError) -> String {
        guard let value, !value.isEmpty else { throw .malformed("missing field '\(field)'") }
        guard value.utf8.count <= SMSLimits.maxURLBytes else { throw .malformed("field '\(field)' is longer than \(SMSLimits.maxURLBytes) bytes") }
        guard WebURL.isAbsoluteHTTP(value) else {
            throw .malformed("field '\(field)' is not an http(s) URL")
        }
        return value
    }

    /// A MIME type such as `image/jpeg`; defaults when the provider gives none.
    static func mime(_ value: String?, field: String) throws(ChannelError) -> String {
        guard let value, !value.isEmpty else { return "application/octet-stream" }
        guard value.utf8.count <= 255, value.contains("/"), value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .malformed("field '\(field)' is not a MIME type")
        }
        return value.lowercased()
    }

    /// The parts of an inbound message: the text (if any) first, then media. A message with
    /// neither is refused: there is nothing for an agent to read.
    static func parts(text: String?, media: [MessagePart], textField: String) throws(ChannelError) -> [MessagePart] {
        var parts: [MessagePart] = []
        if let text, !text.isEmpty { parts.append(.text(text)) }
        parts.append(contentsOf: media)
        guard !parts.isEmpty else { throw .malformed("field '\(textField)' is empty and the message has no media") }
        return parts
    }
}
