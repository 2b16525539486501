/// A TwiML document (https://www.twilio.com/docs/voice/twiml), written as escaped XML 1.0: whatever
/// a setting or a caller supplies (a name with `<`, a number with `&`) is text, never markup.
///
/// Characters XML 1.0 does not allow at all (C0 controls other than tab, LF and CR, U+FFFE,
/// U+FFFF: XML 1.0 §2.2 `Char`) cannot be escaped, so they are dropped.
struct TwiML: Equatable {
    /// One verb or noun: `<Say language="zh-CN">text</Say>`, `<Dial …><Number>…</Number></Dial>`.
    struct Element: Equatable {
        var name: String
        var attributes: [(String, String)]
        var text: String?
        var children: [Element]

        init(_ name: String, _ attributes: [(String, String)] = [], text: String? = nil, children: [Element] = []) {
            self.name = name
            self.attributes = attributes
            self.text = text
            self.children = children
        }

        static func == (a: Element, b: Element) -> Bool {
            a.name == b.name && a.text == b.text && a.children == b.children
                && a.attributes.map(\.0) == b.attributes.map(\.0) && a.attributes.map(\.1) == b.attributes.map(\.1)
        }

        func write(into out: inout String) {
            out += "<" + name
            for (key, value) in attributes {
                out += " " + key + "=\"" + TwiML.escape(value, attribute: true) + "\""
            }
            if text == nil, children.isEmpty {
                out += "/>"
                return
            }
            out += ">"
            if let text { out += TwiML.escape(text, attribute: false) }
            for child in children { child.write(into: &out) }
            out += "</" + name + ">"
        }
    }

    var verbs: [Element]

    init(_ verbs: [Element]) { self.verbs = verbs }

    var xml: String {
        var out = #"<?xml version="1.0" encoding="UTF-8"?><Response>"#
        for verb in verbs { verb.write(into: &out) }
        return out + "</Response>"
    }

    static func escape(_ text: String, attribute: Bool) -> String {
        var out = ""
        out.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"" where attribute: out += "&quot;"
            case "'" where attribute: out += "&apos;"
            // In an attribute a literal tab or line break is normalized to a space by the parser
            // (XML 1.0 §3.3.3): written as references they survive.
            case "\t" where attribute: out += "&#9;"
            case "\n" where attribute: out += "&#10;"
            case "\r": out += "&#13;"
            case "\t", "\n": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
