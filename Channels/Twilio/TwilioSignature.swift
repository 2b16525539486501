import SwitchboardCrypto

/// Twilio's webhook signature (https://www.twilio.com/docs/usage/security#validating-requests):
///
///     X-Twilio-Signature = base64( HMAC-SHA1( authToken, url + k1 + v1 + k2 + v2 + … ) )
///
/// where `url` is the full URL Twilio requested (scheme, host, path and query exactly as
/// configured in Twilio) and the POST parameters are sorted by name (Unix-style, case-sensitive).
/// Details taken from Twilio's own validators (twilio-python `RequestValidator`), because the
/// page leaves them open:
/// - a repeated name contributes every value, the values sorted too;
/// - the URL is checked both with and without its port (`https://h/…` and `https://h:443/…`),
///   because Twilio's back end is inconsistent about including it;
/// - twilio-python 9 drops exact duplicate name/value pairs before signing while earlier
///   versions keep them, so when a body repeats a pair both readings are tried.
public enum TwilioSignature {
    /// The signature Twilio sends for `parameters` posted to `url`.
    public static func compute(authToken: String, url: String, parameters: [(String, String)]) -> String {
        Base64.encode(mac(authToken: authToken, url: url, parameters: sorted(parameters)))
    }

    /// Whether `signature` (the header value) matches, under any of the readings above.
    /// The comparison is constant-time; an undecodable header is simply invalid.
    public static func isValid(_ signature: String, authToken: String, url: String, parameters: [(String, String)]) -> Bool {
        guard let expected = Base64.decode(signature, alphabet: .standard, padding: .required),
              expected.count == Digest.sha1Length else { return false }
        let all = sorted(parameters)
        // The common case first: the URL as configured and every pair. Only a mismatch pays for
        // the other readings (building the URL variants cost more than the HMAC itself).
        if ConstantTime.equals(mac(authToken: authToken, url: url, parameters: all), expected) { return true }
        var readings = [all]
        let deduplicated = removingDuplicatePairs(all)
        if deduplicated.count != all.count { readings.append(deduplicated) }
        for candidateURL in urlVariants(url) {
            for params in readings where ConstantTime.equals(mac(authToken: authToken, url: candidateURL, parameters: params), expected) {
                return true
            }
        }
        return false
    }

    /// `url` itself plus its other port form: with an explicit port removed, or with the
    /// scheme's default port (443 for https, 80 for http) added. Mirrors twilio-python's
    /// `remove_port` / `add_port`.
    public static func urlVariants(_ url: String) -> [String] {
        guard let schemeEnd = url.range(of: "://") else { return [url] }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        let afterScheme = url[schemeEnd.upperBound...]
        let authorityEnd = afterScheme.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? afterScheme.endIndex
        let authority = afterScheme[..<authorityEnd]
        let rest = afterScheme[authorityEnd...]
        let prefix = url[..<schemeEnd.upperBound]

        // The host ends at the port colon; an IPv6 literal keeps its colons inside brackets.
        let hostPart: Substring
        let portPart: Substring?
        let hostStart = authority.lastIndex(of: "@").map { authority.index(after: $0) } ?? authority.startIndex
        let hostAndPort = authority[hostStart...]
        let userInfo = authority[..<hostStart]
        if let close = hostAndPort.lastIndex(of: "]") {
            hostPart = hostAndPort[...close]
            let tail = hostAndPort[hostAndPort.index(after: close)...]
            portPart = tail.hasPrefix(":") ? tail.dropFirst() : nil
        } else if let colon = hostAndPort.lastIndex(of: ":") {
            hostPart = hostAndPort[..<colon]
            portPart = hostAndPort[hostAndPort.index(after: colon)...]
        } else {
            hostPart = hostAndPort
            portPart = nil
        }

        let other: String
        if let port = portPart, !port.isEmpty {
            other = String(prefix) + userInfo + hostPart + rest
        } else {
            guard let defaultPort = scheme == "https" ? "443" : (scheme == "http" ? "80" : nil) else { return [url] }
            other = String(prefix) + userInfo + hostPart + ":" + defaultPort + rest
        }
        return other == url ? [url] : [url, other]
    }

    // MARK: Internals

    private static func mac(authToken: String, url: String, parameters: [(String, String)]) -> [UInt8] {
        var data = Array(url.utf8)
        for (name, value) in parameters {
            data.append(contentsOf: name.utf8)
            data.append(contentsOf: value.utf8)
        }
        return Digest.hmacSHA1(key: authToken.utf8, data)
    }

    /// Sorted by name, then value, comparing UTF-8 bytes: the code-point order Twilio's
    /// validators use, independent of Swift's Unicode-aware `String <` and `==` (which would
    /// treat precomposed and decomposed accents as equal).
    private static func sorted(_ parameters: [(String, String)]) -> [(String, String)] {
        parameters.sorted { a, b in
            if !a.0.utf8.elementsEqual(b.0.utf8) { return a.0.utf8.lexicographicallyPrecedes(b.0.utf8) }
            return a.1.utf8.lexicographicallyPrecedes(b.1.utf8)
        }
    }

    /// Expects sorted input, so equal pairs are adjacent.
    private static func removingDuplicatePairs(_ sortedParameters: [(String, String)]) -> [(String, String)] {
        var out: [(String, String)] = []
        for pair in sortedParameters {
            if let last = out.last, last.0.utf8.elementsEqual(pair.0.utf8), last.1.utf8.elementsEqual(pair.1.utf8) { continue }
            out.append(pair)
        }
        return out
    }
}
