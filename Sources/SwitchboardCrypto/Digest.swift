import COpenSSL

/// SHA-1 / SHA-256 digests and their HMACs, through OpenSSL 3 (DESIGN §2: "crypto: OpenSSL 3").
///
/// Why these and no others: Twilio signs webhooks with HMAC-SHA1, WeChat with SHA-1, the generic
/// SMS gateway, bot webhooks and visitor tokens with HMAC-SHA256, and API keys are stored as
/// SHA-256 (DESIGN §10, §11).
///
/// The digests come from `EVP_MD`s fetched once (`EVP_MD_fetch`). OpenSSL 3's one-shot `HMAC()`
/// (`EVP_Q_mac`) and `EVP_Digest` with `EVP_sha1()` look the algorithm up in the provider on
/// every call: callgrind on the broker counted 17k instructions per one-shot HMAC-SHA1 of a
/// Twilio webhook, most of the signature check. HMAC itself is RFC 2104's two nested digests
/// over the pre-fetched `EVP_MD`, pinned by the RFC 2202 / RFC 4231 vectors in CryptoTests.
///
/// All functions are pure and thread-safe. Hex output is lower-case, as DESIGN §6 stores token
/// hashes (`tokenSHA256`).
public enum Digest {
    public static let sha1Length = 20
    public static let sha256Length = 32

    // MARK: Plain digests

    public static func sha1(_ data: some Sequence<UInt8>) -> [UInt8] {
        digest(sha1Algorithm, Array(data))
    }

    /// The same for an array, without the generic path: called from another module the generic
    /// one runs unspecialized (perf put it at a few µs per WeChat callback, S7).
    public static func sha1(_ data: [UInt8]) -> [UInt8] {
        digest(sha1Algorithm, data)
    }

    public static func sha256(_ data: some Sequence<UInt8>) -> [UInt8] {
        digest(sha256Algorithm, Array(data))
    }

    public static func sha1Hex(_ data: some Sequence<UInt8>) -> String {
        Hex.encode(sha1(data))
    }

    public static func sha256Hex(_ data: some Sequence<UInt8>) -> String {
        Hex.encode(sha256(data))
    }

    // MARK: HMAC

    public static func hmacSHA1(key: some Sequence<UInt8>, _ data: some Sequence<UInt8>) -> [UInt8] {
        hmac(sha1Algorithm, key: Array(key), data: Array(data))
    }

    public static func hmacSHA256(key: some Sequence<UInt8>, _ data: some Sequence<UInt8>) -> [UInt8] {
        hmac(sha256Algorithm, key: Array(key), data: Array(data))
    }

    public static func hmacSHA1Hex(key: some Sequence<UInt8>, _ data: some Sequence<UInt8>) -> String {
        Hex.encode(hmacSHA1(key: key, data))
    }

    public static func hmacSHA256Hex(key: some Sequence<UInt8>, _ data: some Sequence<UInt8>) -> String {
        Hex.encode(hmacSHA256(key: key, data))
    }

    // MARK: OpenSSL calls

    /// An `EVP_MD` fetched once; OpenSSL documents fetched algorithms as shareable between threads.
    private struct Algorithm: @unchecked Sendable {
        let md: OpaquePointer
        /// The digest's block size in bytes (64 for both SHA-1 and SHA-256): RFC 2104's B.
        let blockSize: Int
        let length: Int

        init(_ name: String) {
            // A missing default provider is a broken OpenSSL install: nothing sensible to do but stop.
            guard let md = EVP_MD_fetch(nil, name, nil) else { preconditionFailure("OpenSSL has no \(name)") }
            self.md = md
            blockSize = Int(EVP_MD_get_block_size(md))
            length = Int(EVP_MD_get_size(md))
        }
    }

    private static let sha1Algorithm = Algorithm("SHA1")
    private static let sha256Algorithm = Algorithm("SHA256")

    private static func digest(_ algorithm: Algorithm, _ parts: [UInt8]...) -> [UInt8] {
        guard let ctx = EVP_MD_CTX_new() else { preconditionFailure("OpenSSL could not allocate a digest context") }
        defer { EVP_MD_CTX_free(ctx) }
        var out = [UInt8](repeating: 0, count: algorithm.length)
        var ok = EVP_DigestInit_ex2(ctx, algorithm.md, nil) == 1
        for part in parts where ok {
            ok = part.withUnsafeBufferPointer { EVP_DigestUpdate(ctx, $0.baseAddress, $0.count) } == 1
        }
        var outLength: UInt32 = 0
        ok = ok && out.withUnsafeMutableBufferPointer { EVP_DigestFinal_ex(ctx, $0.baseAddress, &outLength) } == 1
        // These only fail when OpenSSL cannot allocate: nothing sensible to do but stop.
        precondition(ok && Int(outLength) == algorithm.length, "OpenSSL digest failed")
        return out
    }

    /// RFC 2104: H((K' ⊕ opad) ‖ H((K' ⊕ ipad) ‖ text)), K' the key (hashed first when longer than
    /// a block) zero-padded to the block size.
    private static func hmac(_ algorithm: Algorithm, key: [UInt8], data: [UInt8]) -> [UInt8] {
        let k = key.count > algorithm.blockSize ? digest(algorithm, key) : key
        var innerPad = [UInt8](repeating: 0x36, count: algorithm.blockSize)
        var outerPad = [UInt8](repeating: 0x5c, count: algorithm.blockSize)
        for i in k.indices {
            innerPad[i] ^= k[i]
            outerPad[i] ^= k[i]
        }
        return digest(algorithm, outerPad, digest(algorithm, innerPad, data))
    }
}
