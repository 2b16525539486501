import COpenSSL

/// Cryptographically secure random bytes from OpenSSL's DRBG (`RAND_bytes`), for visitor ids,
/// WeChat's 16-byte message prefix and tokens. Adapters stay pure (DESIGN §10): the server calls
/// this and passes the bytes in.
public enum SecureRandom {
    /// `count` random bytes. Throws when OpenSSL's generator is not seeded or fails, which on
    /// Linux with getrandom(2) should not happen; callers must not fall back to a weaker source.
    public static func bytes(_ count: Int) throws(CryptoError) -> [UInt8] {
        guard count >= 0, count <= Int(Int32.max) else { throw .invalidArgument("random byte count \(count) out of range") }
        if count == 0 { return [] }
        var out = [UInt8](repeating: 0, count: count)
        let ok = out.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        guard ok == 1 else { throw .randomFailure("RAND_bytes failed (\(ok))") }
        return out
    }
}
