import Foundation

/// Writing text into the XML that goes back to WeChat (encrypted envelopes, passive replies).
enum WeChatXMLText {
    /// `s` as one or more CDATA sections. A `]]>` inside would end the section early, so it is
    /// split across two sections (`]]` then `>`), the standard way to carry it.
    static func cdata(_ s: String) -> String {
        "<![CDATA[" + s.replacingOccurrences(of: "]]>", with: "]]]]><![CDATA[>") + "]]>"
    }

    /// `s` as character data: `&`, `<` and `>` escaped (the last so `]]>` cannot appear).
    static func escaped(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
