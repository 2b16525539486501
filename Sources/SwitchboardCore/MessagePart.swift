/// One part of a message (DESIGN §6). Encoded as an object with a `type` discriminator:
/// `{"type":"text","text":"你好"}`, `{"type":"media","url":…,"mime":…,"name":…,"size":…}`, …
public enum MessagePart: Sendable, Hashable {
    case text(String)
    case media(url: String, mime: String, name: String?, size: Int?)
    case location(lat: Double, lon: Double, label: String?)
    case call(event: String, duration: Int?, recordingUrl: String?)
    case voicemail(recordingUrl: String, transcript: String?)
    case form(title: String, fields: [String: String])
    case email(subject: String, html: String?)

    /// The first URL this part names that is not an absolute http(s) URL (`WebURL`), or nil. The
    /// parts an agent or the REST API sends are checked with it; parts a channel stored keep the
    /// broker's own `/v1/media/…` paths and are not.
    public var nonWebURL: String? {
        let urls: [String?]
        switch self {
        case .media(let url, _, _, _): urls = [url]
        case .call(_, _, let recording): urls = [recording]
        case .voicemail(let recording, _): urls = [recording]
        case .text, .location, .form, .email: urls = []
        }
        return urls.compactMap { $0 }.first { !WebURL.isAbsoluteHTTP($0) }
    }

    /// The plain text of a text part, nil for other parts.
    public var text: String? {
        if case .text(let t) = self { return t }
        return nil
    }
}

extension MessagePart: Codable {
    private enum Key: String, CodingKey {
        case type, text, url, mime, name, size, lat, lon, label, event, duration, recordingUrl, transcript, title, fields, subject, html
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        switch try c.decode(String.self, forKey: .type) {
        case "text": self = .text(try c.decode(String.self, forKey: .text))
        case "media":
            self = .media(url: try c.decode(String.self, forKey: .url), mime: try c.decode(String.self, forKey: .mime),
                          name: try c.decodeIfPresent(String.self, forKey: .name), size: try c.decodeIfPresent(Int.self, forKey: .size))
        case "location":
            self = .location(lat: try c.decode(Double.self, forKey: .lat), lon: try c.decode(Double.self, forKey: .lon),
                             label: try c.decodeIfPresent(String.self, forKey: .label))
        case "call":
            self = .call(event: try c.decode(String.self, forKey: .event), duration: try c.decodeIfPresent(Int.self, forKey: .duration),
                         recordingUrl: try c.decodeIfPresent(String.self, forKey: .recordingUrl))
        case "voicemail":
            self = .voicemail(recordingUrl: try c.decode(String.self, forKey: .recordingUrl),
                              transcript: try c.decodeIfPresent(String.self, forKey: .transcript))
        case "form":
            self = .form(title: try c.decode(String.self, forKey: .title), fields: try c.decode([String: String].self, forKey: .fields))
        case "email":
            self = .email(subject: try c.decode(String.self, forKey: .subject), html: try c.decodeIfPresent(String.self, forKey: .html))
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .type, in: c, debugDescription: "unknown part type '\(other)'")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        switch self {
        case .text(let t):
            try c.encode("text", forKey: .type); try c.encode(t, forKey: .text)
        case .media(let url, let mime, let name, let size):
            try c.encode("media", forKey: .type); try c.encode(url, forKey: .url); try c.encode(mime, forKey: .mime)
            try c.encodeIfPresent(name, forKey: .name); try c.encodeIfPresent(size, forKey: .size)
        case .location(let lat, let lon, let label):
            try c.encode("location", forKey: .type); try c.encode(lat, forKey: .lat); try c.encode(lon, forKey: .lon)
            try c.encodeIfPresent(label, forKey: .label)
        case .call(let event, let duration, let recordingUrl):
            try c.encode("call", forKey: .type); try c.encode(event, forKey: .event)
            try c.encodeIfPresent(duration, forKey: .duration); try c.encodeIfPresent(recordingUrl, forKey: .recordingUrl)
        case .voicemail(let recordingUrl, let transcript):
            try c.encode("voicemail", forKey: .type); try c.encode(recordingUrl, forKey: .recordingUrl)
            try c.encodeIfPresent(transcript, forKey: .transcript)
        case .form(let title, let fields):
            try c.encode("form", forKey: .type); try c.encode(title, forKey: .title); try c.encode(fields, forKey: .fields)
        case .email(let subject, let html):
            try c.encode("email", forKey: .type); try c.encode(subject, forKey: .subject); try c.encodeIfPresent(html, forKey: .html)
        }
    }
}
