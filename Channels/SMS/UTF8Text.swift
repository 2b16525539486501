/// Strict UTF-8 decoding. `String(decoding:as:)` silently replaces invalid sequences with U+FFFD;
/// a webhook whose text is not UTF-8 must be refused instead (DESIGN §11: bad input gets a clear
/// error and changes nothing), so this decodes or returns nil.
enum UTF8Text {
    static func decode(_ bytes: some Collection<UInt8>) -> String? {
        // The standard library's validating initializer (SE-0405): one pass over the bytes,
        // instead of appending scalar by scalar (every webhook field goes through here).
        String(validating: bytes, as: UTF8.self)
    }
}
