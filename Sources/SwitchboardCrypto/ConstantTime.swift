import COpenSSL

/// Comparison of secrets (MACs, tokens) whose running time does not depend on where the inputs
/// first differ, so an attacker cannot learn a valid signature byte by byte from response times.
/// `CRYPTO_memcmp` is OpenSSL's comparison written for that purpose; a Swift loop could be
/// shortened by the optimizer.
public enum ConstantTime {
    /// Whether `a` and `b` hold the same bytes. Different lengths return false at once: lengths
    /// of MACs and tokens are public.
    public static func equals(_ a: some Sequence<UInt8>, _ b: some Sequence<UInt8>) -> Bool {
        let left = Array(a)
        let right = Array(b)
        guard left.count == right.count else { return false }
        if left.isEmpty { return true }
        return left.withUnsafeBufferPointer { l in
            right.withUnsafeBufferPointer { r in
                CRYPTO_memcmp(l.baseAddress, r.baseAddress, left.count) == 0
            }
        }
    }

    /// The same for two arrays, without the generic path (unspecialized across modules).
    public static func equals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        if a.isEmpty { return true }
        return a.withUnsafeBufferPointer { l in
            b.withUnsafeBufferPointer { r in CRYPTO_memcmp(l.baseAddress, r.baseAddress, a.count) == 0 }
        }
    }

    /// The UTF-8 bytes of two strings, compared as above.
    public static func equals(_ a: String, _ b: String) -> Bool {
        equals(a.utf8, b.utf8)
    }
}
