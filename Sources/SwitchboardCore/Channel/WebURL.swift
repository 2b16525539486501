/// Absolute http(s) URLs: the only kind the broker fetches or hands to a provider to fetch (a media
/// part's `url`, a recording, a provider's media link, a gateway's base URL). A `file:` or `gopher:`
/// URL, a bare path, or one holding spaces or control characters is refused where it enters, so no
/// later fetch goes where its sender should not reach (the hostile-input tier of issue 9 found the
/// REST API storing a media part at `file:///etc/passwd`).
public enum WebURL {
    /// `http://` or `https://` (any case) followed by a host, and no byte at or below space, nor DEL.
    public static func isAbsoluteHTTP(_ text: String) -> Bool {
        let bytes = text.utf8
        guard bytes.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else { return false }
        let lower = text.prefix(8).lowercased()
        let schemeLength = lower.hasPrefix("https://") ? 8 : lower.hasPrefix("http://") ? 7 : 0
        guard schemeLength > 0 else { return false }
        let host = bytes.dropFirst(schemeLength).first
        return host != nil && host != UInt8(ascii: "/") && host != UInt8(ascii: "?") && host != UInt8(ascii: "#")
    }
}
