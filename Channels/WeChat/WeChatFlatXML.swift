/// The fast path of `WeChatXML` for the one shape WeChat actually sends: a `<xml>` root whose
/// children are leaf elements holding CDATA sections and plain text, e.g.
///
///     <xml><ToUserName><![CDATA[gh_…]]></ToUserName><Encrypt><![CDATA[…]]></Encrypt></xml>
///
/// It answers nil for **anything** else — a DOCTYPE, a comment, an entity or character reference
/// (`&`), a carriage return (XML normalises line ends), an XML declaration other than a plain
/// `<?xml version="1.0"…?>` first, a character XML forbids (a C0 control but tab and line feed,
/// U+FFFE, U+FFFF), an attribute, an empty-element tag, a nested element, a repeated field, non-whitespace text between fields — and the caller then
/// hands the bytes to libxml2, which parses or refuses them as before. So it never accepts a
/// document libxml2 would refuse, never decodes anything (there is nothing to decode in what it
/// accepts), and gives the same fields libxml2 would for what it accepts (a differential test
/// checks this on every fixture).
///
/// Why: libxml2 reads a CDATA section a character at a time, and a safe-mode callback is parsed
/// twice (the envelope, then the decrypted message): callgrind counted ~122k instructions of
/// ~367k per S7 message in the two parses, against ~177k for a whole S1 message.
enum WeChatFlatXML {
    static func read(_ bytes: [UInt8]) -> [String: String]? {
        bytes.withUnsafeBufferPointer { read($0) }
    }

    /// Over the raw buffer: an Array's bounds checks and per-byte appends cost ~30 instructions
    /// a byte (callgrind); CDATA and text runs are copied as slices.
    private static func read(_ b: UnsafeBufferPointer<UInt8>) -> [String: String]? {
        var i = 0
        let n = b.count
        func skipSpace() { while i < n, b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0A { i += 1 } }
        func starts(_ s: StaticString) -> Bool {
            let count = s.utf8CodeUnitCount
            guard i + count <= n else { return false }
            return s.withUTF8Buffer { lit in
                for k in 0..<count where b[i + k] != lit[k] { return false }
                return true
            }
        }
        func name() -> String? {
            let start = i
            guard i < n, isNameStart(b[i]) else { return nil }
            i += 1
            while i < n, isNameByte(b[i]) { i += 1 }
            return String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
        }

        // An XML declaration only in one of the usual spellings, first in the document: libxml2
        // refuses malformed ones (`<?xml?>`, whitespace before it), so any other `<?` goes to it
        // (found by Tests/Fuzz).
        for declaration: StaticString in [#"<?xml version="1.0" encoding="UTF-8"?>"#, #"<?xml version="1.0" encoding="utf-8"?>"#,
                                          #"<?xml version="1.0"?>"#] where starts(declaration) {
            i += declaration.utf8CodeUnitCount
            break
        }
        skipSpace()
        guard starts("<xml>") else { return nil }
        i += 5
        var fields: [String: String] = [:]
        fields.reserveCapacity(12)   // a text message has 6 fields, an encrypted envelope 2
        while true {
            skipSpace()
            if starts("</xml>") {
                i += 6
                skipSpace()
                return i == n ? fields : nil
            }
            guard i < n, b[i] == UInt8(ascii: "<") else { return nil }
            i += 1
            guard let field = name(), i < n, b[i] == UInt8(ascii: ">"), fields[field] == nil else { return nil }
            i += 1
            var value: [UInt8] = []
            while true {
                if starts("<![CDATA[") {
                    i += 9
                    let start = i
                    while i + 2 < n, !(b[i] == UInt8(ascii: "]") && b[i + 1] == UInt8(ascii: "]") && b[i + 2] == UInt8(ascii: ">")) {
                        if b[i] == 0x0D || notXMLChar(b, i) { return nil }
                        i += 1
                    }
                    guard i + 2 < n else { return nil }
                    value.append(contentsOf: UnsafeBufferPointer(rebasing: b[start..<i]))
                    i += 3
                } else if i < n, b[i] == UInt8(ascii: "<") {
                    break
                } else if i < n {
                    let start = i
                    while i < n, b[i] != UInt8(ascii: "<") {
                        let c = b[i]
                        if c == UInt8(ascii: "&") || c == 0x0D || notXMLChar(b, i) { return nil }
                        // `]]>` is not allowed in character data.
                        if c == UInt8(ascii: "]"), i + 2 < n, b[i + 1] == UInt8(ascii: "]"), b[i + 2] == UInt8(ascii: ">") { return nil }
                        i += 1
                    }
                    value.append(contentsOf: UnsafeBufferPointer(rebasing: b[start..<i]))
                } else {
                    return nil
                }
            }
            guard starts("</") else { return nil }
            i += 2
            guard name() == field, i < n, b[i] == UInt8(ascii: ">") else { return nil }
            i += 1
            fields[field] = String(decoding: value, as: UTF8.self)
        }
    }

    /// Whether the character at `i` (valid UTF-8) is outside XML 1.0's `Char`: a C0 control other
    /// than tab and line feed, or U+FFFE / U+FFFF. libxml2 refuses the document (found by
    /// Tests/Fuzz: the fast path took `\u{11}` in a field that libxml2 refuses).
    @inline(__always)
    private static func notXMLChar(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> Bool {
        let c = b[i]
        if c < 0x20 { return c != 0x09 && c != 0x0A }
        return c == 0xEF && i + 2 < b.count && b[i + 1] == 0xBF && b[i + 2] >= 0xBE
    }

    private static func isNameStart(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z")) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || c == UInt8(ascii: "_")
    }

    private static func isNameByte(_ c: UInt8) -> Bool {
        isNameStart(c) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "-") || c == UInt8(ascii: ".")
    }
}
