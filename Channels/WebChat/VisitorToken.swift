import SwitchboardCrypto

/// The web-chat visitor token (DESIGN §9: "The visitor token is an HMAC-signed visitor id"):
///
///     token = base64url(visitorId) "." base64url(HMAC-SHA256(secret, "visitor:" + visitorId))
///
/// base64url without padding (RFC 4648 §5). The server hands it out in `ready{visitorToken}` and
/// a returning browser presents it in `hello{visitorToken}`, so the visitor keeps their identity
/// and history without an account, and cannot claim another visitor's id without the secret.
/// The `visitor:` prefix separates these MACs from anything else signed with the same key.
///
/// Immutable and `Sendable`; holds the secret, so never log it.
public struct VisitorToken: Sendable {
    /// HMAC keys shorter than this are guessable offline from one token.
    public static let minimumSecretBytes = 16
    /// Visitor ids are ours (`makeVisitorId`), short and URL-safe; anything else is refused.
    public static let maxVisitorIdBytes = 128
    /// A bound on input, so a huge header is refused before any decoding.
    public static let maxTokenBytes = 512

    private let secret: [UInt8]

    public init(secret: some Sequence<UInt8>) throws(VisitorTokenError) {
        let bytes = Array(secret)
        guard bytes.count >= Self.minimumSecretBytes else {
            throw .weakSecret("the visitor token secret must be at least \(Self.minimumSecretBytes) bytes")
        }
        self.secret = bytes
    }

    /// The secret as configured (`Configuration.visitorTokenSecret`), as its UTF-8 bytes.
    public init(secret: String) throws(VisitorTokenError) {
        try self.init(secret: Array(secret.utf8))
    }

    /// A fresh visitor id from caller-supplied random bytes (`SecureRandom.bytes(16)` in the
    /// server), so this type stays pure: `v_` + base64url of the bytes. 16 to 64 bytes.
    public static func makeVisitorId(randomBytes: some Collection<UInt8>) throws(VisitorTokenError) -> String {
        guard (16...64).contains(randomBytes.count) else {
            throw .invalidVisitorId("a visitor id needs 16 to 64 random bytes, got \(randomBytes.count)")
        }
        return "v_" + Base64.encodeURLSafe(randomBytes)
    }

    /// The token for `visitorId`. Throws `invalidVisitorId` unless the id is 1–128 characters of
    /// `A–Z a–z 0–9 _ -`: ids end up in Redis keys and logs, so only safe ones are ever signed.
    public func sign(visitorId: String) throws(VisitorTokenError) -> String {
        try Self.validate(visitorId)
        return Base64.encodeURLSafe(Array(visitorId.utf8)) + "." + Base64.encodeURLSafe(mac(visitorId))
    }

    /// The visitor id a token carries, once its MAC checks out (constant-time comparison).
    /// `malformed` for anything that is not `<base64url id>.<base64url 32-byte MAC>` with a valid
    /// id; `badSignature` for a well-formed token this secret did not sign (tampered, or signed
    /// with another secret).
    public func verify(_ token: String) throws(VisitorTokenError) -> String {
        guard !token.isEmpty else { throw .malformed("the token is empty") }
        guard token.utf8.count <= Self.maxTokenBytes else { throw .malformed("the token is longer than \(Self.maxTokenBytes) bytes") }
        let pieces = token.split(separator: ".", omittingEmptySubsequences: false)
        guard pieces.count == 2, !pieces[0].isEmpty, !pieces[1].isEmpty else {
            throw .malformed("the token must be <visitor id>.<signature>")
        }
        guard let idBytes = Base64.decode(pieces[0], alphabet: .urlSafe, padding: .forbidden) else {
            throw .malformed("the visitor id part is not unpadded base64url")
        }
        guard let given = Base64.decode(pieces[1], alphabet: .urlSafe, padding: .forbidden), given.count == Digest.sha256Length else {
            throw .malformed("the signature part is not an unpadded base64url HMAC-SHA256")
        }
        // Ids are ASCII by construction, so the bytes are checked before becoming a String.
        let visitorId = String(decoding: idBytes, as: UTF8.self)
        guard Array(visitorId.utf8) == idBytes else { throw .malformed("the visitor id is not UTF-8") }
        do {
            try Self.validate(visitorId)
        } catch {
            throw .malformed("the visitor id has characters outside A-Z a-z 0-9 _ - or is too long")
        }
        guard ConstantTime.equals(mac(visitorId), given) else { throw .badSignature }
        return visitorId
    }

    private func mac(_ visitorId: String) -> [UInt8] {
        Digest.hmacSHA256(key: secret, Array("visitor:".utf8) + Array(visitorId.utf8))
    }

    private static func validate(_ visitorId: String) throws(VisitorTokenError) {
        let bytes = visitorId.utf8
        guard !bytes.isEmpty, bytes.count <= maxVisitorIdBytes else {
            throw .invalidVisitorId("a visitor id is 1 to \(maxVisitorIdBytes) characters")
        }
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "_"), UInt8(ascii: "-"):
                continue
            default:
                throw .invalidVisitorId("a visitor id may contain only A-Z a-z 0-9 _ -")
            }
        }
    }
}
