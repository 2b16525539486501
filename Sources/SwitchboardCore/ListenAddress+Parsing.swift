extension ListenAddress {
    struct ParseError: Error, Equatable {
        var reason: String
    }

    /// Reads `host:port`, with IPv6 hosts in brackets: `127.0.0.1:8080`, `0.0.0.0:443`,
    /// `localhost:8080`, `[::1]:8080`. The host is stored without brackets.
    static func parse(_ text: String) -> Result<ListenAddress, ParseError> {
        let example = "expected host:port, e.g. 127.0.0.1:8080 or [::1]:8080, found '\(text)'"
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return .failure(ParseError(reason: example)) }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return .failure(ParseError(reason: example)) }
            portText = rest.dropFirst()
            let ipv6 = host.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
            guard !host.isEmpty, host.contains(":"), ipv6 else {
                return .failure(ParseError(reason: "'\(host)' is not an IPv6 address"))
            }
        } else {
            guard let colon = text.lastIndex(of: ":") else { return .failure(ParseError(reason: example)) }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") {
                return .failure(ParseError(reason: "IPv6 addresses need brackets, e.g. [::1]:8080, found '\(text)'"))
            }
            guard !host.isEmpty else { return .failure(ParseError(reason: example)) }
            let hostname = host.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "." || $0 == "-" }
            guard hostname else { return .failure(ParseError(reason: "'\(host)' is not a valid host name or address")) }
        }
        guard !portText.isEmpty, portText.allSatisfy({ $0.isASCII && $0.isNumber }), let port = Int(portText) else {
            return .failure(ParseError(reason: example))
        }
        guard (1...65535).contains(port) else {
            return .failure(ParseError(reason: "port must be between 1 and 65535, found \(port)"))
        }
        return .success(ListenAddress(host: String(host), port: port))
    }
}
