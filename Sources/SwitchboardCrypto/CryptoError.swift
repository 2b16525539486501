/// Failures of the crypto wrappers that a caller can act on (digests and HMACs cannot fail short
/// of memory exhaustion, so only random generation throws).
public enum CryptoError: Error, Sendable, Equatable, CustomStringConvertible {
    case randomFailure(String)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .randomFailure(let m): return "secure random generation failed: \(m)"
        case .invalidArgument(let m): return "invalid argument: \(m)"
        }
    }
}
