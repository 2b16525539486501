import SwitchboardCore

/// Verifies a Twilio webhook (SMS or Voice) before any of its fields is read: the content type,
/// the form (the signature covers decoded values, so decoding comes first), then
/// `X-Twilio-Signature` over the URL Twilio requested
/// (https://www.twilio.com/docs/usage/security#validating-requests).
///
/// That URL is the channel's `public_url` (its main route, as configured at Twilio), the route's
/// suffix (`/status`, `/gather`, …) for the callbacks whose URLs the broker derives from it, and
/// the request's own query: Twilio signs exactly the URL it called, query included, so the action
/// URLs the broker writes into TwiML with `?…` arguments verify too.
public struct TwilioRequestVerifier: Sendable {
    public let authToken: String
    /// `public_url` without any query.
    public let publicURL: String

    public init(authToken: String, publicURL: String, channelId: String) throws(ChannelConfigurationError) {
        self.authToken = authToken
        self.publicURL = try Self.publicBase(publicURL, channelId: channelId)
    }

    /// A configured `public_url` without its query, or the reason it cannot be one.
    public static func publicBase(_ url: String, channelId: String) throws(ChannelConfigurationError) -> String {
        guard WebURL.isAbsoluteHTTP(url), !url.contains("#") else {
            throw ChannelConfigurationError(channelId: channelId, key: "public_url", problem: "must be an absolute http(s) URL without spaces or fragment")
        }
        return url.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? url
    }

    /// The public URL of the route `suffix` below the main one ("" for the main route itself).
    public func url(suffix: String) -> String {
        guard !suffix.isEmpty else { return publicURL }
        return publicURL.hasSuffix("/") ? publicURL + suffix : publicURL + "/" + suffix
    }

    /// The URL Twilio signed for a request to route `suffix`: its public URL plus the request's query.
    public func signedURL(suffix: String, query: String) -> String {
        let base = url(suffix: suffix)
        return query.isEmpty ? base : base + "?" + query
    }

    /// The request's form pairs, once the content type and the signature are right.
    public func verifiedForm(_ request: HTTPRequest, suffix: String) throws(ChannelError) -> [(String, String)] {
        guard request.mediaType == "application/x-www-form-urlencoded" else {
            throw .unsupportedMediaType("Twilio webhooks are application/x-www-form-urlencoded, not '\(request.mediaType)'")
        }
        guard let signature = request.headers["x-twilio-signature"], !signature.isEmpty else {
            throw .badSignature("missing X-Twilio-Signature header")
        }
        let pairs = try FormURLEncoding.decode(request.body)
        guard TwilioSignature.isValid(signature, authToken: authToken, url: signedURL(suffix: suffix, query: request.query), parameters: pairs) else {
            throw .badSignature("X-Twilio-Signature does not match (check auth_token and public_url)")
        }
        return pairs
    }
}
