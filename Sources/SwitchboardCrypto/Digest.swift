import COpenSSL

/// SHA-1 / SHA-256 digests and their HMACs, through OpenSSL 3 (DESIGN §2: "crypto: OpenSSL 3").
///
/// Why these and no others: Twilio signs webhooks with HMAC-SHA1, WeChat with SHA-1, the generic
/// SMS gateway, bot webhooks and visitor tokens with HMAC-SHA256, and API keys are stored as
/// SHA-256 (DESIGN §10, §11). The one-shot `EVP_Digest` and `HMAC` calls are used because neither
/// is deprecated in OpenSSL 3 (the `SHA256_Init` family is) and they need no context to free.
///
/// All functions are pure and thread-safe. Hex output is lower-case, as DESIGN §6 stores token
/// hashes (`tokenSHA256`).
public enum Digest {
    public static let sha1Length = 20
    public static let sha256Length = 32

    // MARK: Plain digests

    public static func sha1(_ data: some Sequence<UInt8>) -> [UInt8] {
        digest(EVP_sha1(), Array(data), length: sha1Length)
    }

    public static func sha256(_ data: some Sequence<UInt8>) -> [UInt8] {
        digest(EVP_sha256(), Array(data), length: sha256Length)
    }

    public static func sha1Hex(_ data: some Sequence<UInt8>) -> String {
        Hex.encode(sha1(data))
    }

    public static func sha256Hex(_ data: some Sequence<UInt8>) -> String {
        Hex.encode(sha256(data))
    }

    // MARK: HMAC

    public static func hmacSHA1(key: some Sequence<UInt8>, _ data: some Sequence<UInt8>) -> [UInt8] {
        hmac(EVP_sha1(), key: Array(key), data: Array(data), length: sha1Length)
    }

    public static func hmacSHA256(key: some Sequence<UInt8>, _ data: some Sequence<UInt8>) -> [UInt8] {
        hmac(EVP_sha256(), key: Array(key), data: Array(data), length: sha256Length)
    }

    public static func hmacSHA1Hex(key: some Sequence<UInt8>, _ data: some Sequence<UInt8>) -> String {
        Hex.encode(hmacSHA1(key: key, data))
    }

    public static func hmacSHA256Hex(key: some Sequence<UInt8>, _ data: some Sequence<UInt8>) -> String {
        Hex.encode(hmacSHA256(key: key, data))
    }

    // MARK: OpenSSL calls

    private static func digest(_ md: OpaquePointer?, _ data: [UInt8], length: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var outLength: UInt32 = 0
        let ok = withNonNullPointer(data) { dataPointer in
            out.withUnsafeMutableBufferPointer { outBuffer in
                EVP_Digest(dataPointer, data.count, outBuffer.baseAddress, &outLength, md, nil)
            }
        }
        // EVP_Digest only fails when OpenSSL cannot allocate a context: nothing sensible to do but stop.
        precondition(ok == 1 && Int(outLength) == length, "OpenSSL EVP_Digest failed")
        return Array(out.prefix(length))
    }

    private static func hmac(_ md: OpaquePointer?, key: [UInt8], data: [UInt8], length: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var outLength: UInt32 = 0
        let result = withNonNullPointer(key) { keyPointer in
            withNonNullPointer(data) { dataPointer in
                out.withUnsafeMutableBufferPointer { outBuffer in
                    HMAC(md, keyPointer, Int32(key.count), dataPointer, data.count, outBuffer.baseAddress, &outLength)
                }
            }
        }
        precondition(result != nil && Int(outLength) == length, "OpenSSL HMAC failed")
        return Array(out.prefix(length))
    }

    /// Empty Swift arrays may hand out a nil base address, and OpenSSL's HMAC API gives a NULL key
    /// a meaning of its own (`HMAC_Init_ex`: keep the previous key), so an empty key or message
    /// always gets a real pointer with length 0.
    private static func withNonNullPointer<R>(_ bytes: [UInt8], _ body: (UnsafePointer<UInt8>) -> R) -> R {
        if bytes.isEmpty {
            let oneByte: [UInt8] = [0]
            return oneByte.withUnsafeBufferPointer { body($0.baseAddress!) }
        }
        return bytes.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
