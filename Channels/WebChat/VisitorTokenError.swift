/// Why a visitor token could not be made or was refused. The visitor socket answers a refused
/// token by starting the visitor afresh (a new id), never by trusting the claimed id.
public enum VisitorTokenError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not a token of our format at all (empty, wrong shape, bad base64url, bad id, too long).
    case malformed(String)
    /// Well-formed, but the MAC is not ours: tampered with, or signed with another secret.
    case badSignature
    /// An id we refuse to sign, or too few/many random bytes to make one.
    case invalidVisitorId(String)
    /// The configured secret is too short to be a safe HMAC key.
    case weakSecret(String)

    public var description: String {
        switch self {
        case .malformed(let m): return "malformed visitor token: \(m)"
        case .badSignature: return "visitor token signature does not match"
        case .invalidVisitorId(let m): return "invalid visitor id: \(m)"
        case .weakSecret(let m): return "weak visitor token secret: \(m)"
        }
    }
}
