/// The generic-gateway signature header (the GitHub-webhook form):
/// `X-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`, used by the generic SMS gateway and
/// the generic voice (PBX) events alike. Compared in constant time.
public enum HMACSignatureHeader {
    public static let prefix = "sha256="

    public enum Problem: Error, Equatable {
        case missing, malformed, mismatch

        /// What the sender is told.
        public var message: String {
            switch self {
            case .missing: return "missing X-Signature header"
            case .malformed: return "X-Signature must be 'sha256=' followed by 64 hex digits"
            case .mismatch: return "X-Signature does not match the body"
            }
        }
    }

    /// nil when `header` is the right signature of `body`.
    public static func problem(header: String?, body: [UInt8], secret: String) -> Problem? {
        guard let header, !header.isEmpty else { return .missing }
        guard header.hasPrefix(prefix), let given = Hex.decode(header.dropFirst(prefix.count)), given.count == Digest.sha256Length else {
            return .malformed
        }
        return ConstantTime.equals(Digest.hmacSHA256(key: secret.utf8, body), given) ? nil : .mismatch
    }

    /// The header value for `body`.
    public static func value(body: [UInt8], secret: String) -> String {
        prefix + Digest.hmacSHA256Hex(key: secret.utf8, body)
    }
}
