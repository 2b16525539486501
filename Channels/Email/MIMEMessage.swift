import CGMime
import SwitchboardCore

/// One inbound mail as GMime read it (issue 11, DESIGN §10.4): the headers threading needs, decoded
/// (RFC 2047 words, any charset → UTF-8), the preferred text, and the attachments.
///
/// The first step of the email channel: parsing only. Limits (`MIMEMessage.Limits`) bound what a
/// hostile mail can make the parser do: nesting depth and part count are checked while walking,
/// before any part's content is decoded.
struct MIMEMessage: Sendable, Equatable {
    struct Attachment: Sendable, Equatable {
        var name: String?
        var mime: String
        var bytes: [UInt8]
    }

    struct Limits: Sendable, Equatable {
        /// multipart inside multipart (or message/rfc822 inside a message) this deep at most.
        var maxDepth = 16
        /// Leaf parts at most, attachments and alternatives included.
        var maxParts = 200
    }

    var from: String?
    var subject: String?
    var messageId: String?
    var inReplyTo: String?
    var references: [String]
    /// The `text/plain` body, else nil (the HTML is then the body, sanitized later).
    var text: String?
    var html: String?
    var attachments: [Attachment]

    /// Parses a whole RFC 5322 message. Throws `.malformed` when GMime finds no message, or when
    /// the mail passes a limit (a MIME bomb).
    static func parse(_ bytes: [UInt8], limits: Limits = Limits()) throws(ChannelError) -> MIMEMessage {
        GMimeRuntime.ready()
        let message: UnsafeMutablePointer<GMimeMessage>? = bytes.withUnsafeBufferPointer { buffer in
            let stream = g_mime_stream_mem_new_with_buffer(buffer.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }, buffer.count)
            defer { sb_g_object_unref(stream) }
            let parser = g_mime_parser_new_with_stream(stream)
            defer { sb_g_object_unref(parser) }
            return g_mime_parser_construct_message(parser, nil)
        }
        guard let message else { throw .malformed("not a MIME message") }
        defer { sb_g_object_unref(message) }
        let object = UnsafeMutableRawPointer(message).assumingMemoryBound(to: GMimeObject.self)
        func header(_ name: String) -> String? {
            g_mime_object_get_header(object, name).map { String(cString: $0) }
        }
        var out = MIMEMessage(from: nil, subject: g_mime_message_get_subject(message).map { String(cString: $0) },
                              messageId: g_mime_message_get_message_id(message).map { String(cString: $0) },
                              inReplyTo: header("In-Reply-To").flatMap(Self.firstMessageId),
                              references: header("References").map(Self.messageIds) ?? [], text: nil, html: nil, attachments: [])
        if let list = g_mime_message_get_from(message), let text = internet_address_list_to_string(list, nil, 0) {
            out.from = String(cString: text)
            sb_g_free(text)
        }
        var parts = 0
        try walk(g_mime_message_get_mime_part(message), depth: 0, parts: &parts, limits: limits, into: &out)
        return out
    }

    private static func walk(_ node: UnsafeMutablePointer<GMimeObject>?, depth: Int, parts: inout Int, limits: Limits,
                             into out: inout MIMEMessage) throws(ChannelError) {
        guard let node else { return }
        guard depth <= limits.maxDepth else { throw .malformed("MIME nesting deeper than \(limits.maxDepth)") }
        if sb_gmime_is_multipart(node) != 0 {
            let multipart = sb_gmime_multipart(node)
            let count = g_mime_multipart_get_count(multipart)
            for i in 0..<max(0, count) {
                try walk(g_mime_multipart_get_part(multipart, i), depth: depth + 1, parts: &parts, limits: limits, into: &out)
            }
            return
        }
        if sb_gmime_is_message_part(node) != 0 {
            // A forwarded mail: its parts count against the same limits.
            if let inner = g_mime_message_part_get_message(sb_gmime_message_part(node)) {
                try walk(g_mime_message_get_mime_part(inner), depth: depth + 1, parts: &parts, limits: limits, into: &out)
            }
            return
        }
        parts += 1
        guard parts <= limits.maxParts else { throw .malformed("more than \(limits.maxParts) MIME parts") }
        guard sb_gmime_is_part(node) != 0 else { return }
        let part = sb_gmime_part(node)
        let type = g_mime_object_get_content_type(node)
        let mime = (type.flatMap { g_mime_content_type_get_mime_type($0) }).map { pointer -> String in
            defer { sb_g_free(pointer) }
            return String(cString: pointer).lowercased()
        } ?? "application/octet-stream"
        let filename = g_mime_part_get_filename(part).map { String(cString: $0) }
        let isAttachment = filename != nil || g_mime_object_get_disposition(node).map { String(cString: $0).lowercased() } == "attachment"
        if sb_gmime_is_text_part(node) != 0, !isAttachment, mime == "text/plain" || mime == "text/html" {
            // GMime converts from the part's declared charset to UTF-8.
            if let raw = g_mime_text_part_get_text(sb_gmime_text_part(node)) {
                let text = String(cString: raw)
                sb_g_free(raw)
                if mime == "text/plain", out.text == nil { out.text = text }
                if mime == "text/html", out.html == nil { out.html = text }
            }
            return
        }
        out.attachments.append(Attachment(name: filename, mime: mime, bytes: contentBytes(part)))
    }

    /// A part's content, transfer-decoded (base64, quoted-printable).
    private static func contentBytes(_ part: UnsafeMutablePointer<GMimePart>?) -> [UInt8] {
        guard let wrapper = g_mime_part_get_content(part), let memory = g_mime_stream_mem_new() else { return [] }
        defer { sb_g_object_unref(memory) }
        guard g_mime_data_wrapper_write_to_stream(wrapper, memory) >= 0,
              let array = g_mime_stream_mem_get_byte_array(UnsafeMutableRawPointer(memory).assumingMemoryBound(to: GMimeStreamMem.self)),
              let data = array.pointee.data else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: Int(array.pointee.len)))
    }

    /// `<a@b>` ids in a References or In-Reply-To header, in order (RFC 5322 §3.6.4: an id is
    /// `"<" id-left "@" id-right ">"`, no spaces). A `<` restarts the id, so `<x <a@b>` gives `a@b`
    /// (found by the mime-message fuzz target: the id had kept a `<` and a space).
    static func messageIds(_ value: String) -> [String] {
        var ids: [String] = []
        var current: [Character]?
        for ch in value {
            switch ch {
            case "<": current = []
            case ">":
                if let id = current, !id.isEmpty, id.count <= 998 { ids.append(String(id)) }
                current = nil
            default:
                if ch.isWhitespace || ch.asciiValue.map({ $0 < 0x20 || $0 == 0x7F }) == true { current = nil } else { current?.append(ch) }
            }
        }
        return ids
    }

    static func firstMessageId(_ value: String) -> String? { messageIds(value).first }
}

/// GMime's process-wide initialization, done once (g_mime_init is not safe to run twice at once).
enum GMimeRuntime {
    private static let initialized: Bool = {
        g_mime_init()
        return true
    }()

    static func ready() { _ = initialized }
}
