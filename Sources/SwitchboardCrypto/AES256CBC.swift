import COpenSSL

/// AES-256 in CBC mode (NIST SP 800-38A §6.2) on whole 16-byte blocks, through OpenSSL 3's EVP
/// interface with its padding switched off (`EVP_CIPHER_CTX_set_padding(ctx, 0)`).
///
/// Why no padding here: WeChat's message encryption pads with PKCS#7 at a **32-byte** block
/// (DESIGN §10.3), which OpenSSL's built-in PKCS#7 (at the cipher's 16-byte block) would both
/// write wrongly and reject on decryption. The caller pads and unpads; this type only ever sees
/// multiples of 16 bytes and refuses anything else.
///
/// Pure and thread-safe: every call uses its own `EVP_CIPHER_CTX`; the `EVP_CIPHER` is fetched
/// once, and OpenSSL documents fetched algorithms as shareable between threads. Pinned by the
/// SP 800-38A F.2.5/F.2.6 vectors in AES256CBCTests.
public enum AES256CBC {
    public static let keyLength = 32
    public static let blockLength = 16

    /// Encrypts `plaintext`, whose length must be a multiple of 16 (empty is allowed and gives
    /// empty). Throws `CryptoError.invalidArgument` for a key that is not 32 bytes, an IV that is
    /// not 16 bytes, or a partial last block.
    public static func encrypt(key: [UInt8], iv: [UInt8], plaintext: [UInt8]) throws(CryptoError) -> [UInt8] {
        try run(encrypting: true, key: key, iv: iv, input: plaintext)
    }

    /// Decrypts `ciphertext` under the same rules as `encrypt`. CBC has no integrity check: a
    /// wrong key gives garbage, not an error, so callers check the padding and content.
    public static func decrypt(key: [UInt8], iv: [UInt8], ciphertext: [UInt8]) throws(CryptoError) -> [UInt8] {
        try run(encrypting: false, key: key, iv: iv, input: ciphertext)
    }

    private struct Cipher: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    private static let cipher: Cipher = {
        // A missing default provider is a broken OpenSSL install: nothing sensible to do but stop.
        guard let c = EVP_CIPHER_fetch(nil, "AES-256-CBC", nil) else { preconditionFailure("OpenSSL has no AES-256-CBC") }
        return Cipher(pointer: c)
    }()

    private static func run(encrypting: Bool, key: [UInt8], iv: [UInt8], input: [UInt8]) throws(CryptoError) -> [UInt8] {
        guard key.count == keyLength else { throw .invalidArgument("AES-256 key must be \(keyLength) bytes, got \(key.count)") }
        guard iv.count == blockLength else { throw .invalidArgument("CBC IV must be \(blockLength) bytes, got \(iv.count)") }
        guard input.count % blockLength == 0 else {
            throw .invalidArgument("CBC input must be a multiple of \(blockLength) bytes, got \(input.count)")
        }
        guard input.count <= Int(Int32.max) - blockLength else { throw .invalidArgument("CBC input of \(input.count) bytes is too long") }
        if input.isEmpty { return [] }
        guard let ctx = EVP_CIPHER_CTX_new() else { preconditionFailure("OpenSSL could not allocate a cipher context") }
        defer { EVP_CIPHER_CTX_free(ctx) }
        // Room for one extra block: EVP_CipherUpdate may write up to inl + block_size - 1 bytes.
        var out = [UInt8](repeating: 0, count: input.count + blockLength)
        var written: Int32 = 0
        var finalWritten: Int32 = 0
        let ok = key.withUnsafeBufferPointer { k in
            iv.withUnsafeBufferPointer { v in
                EVP_CipherInit_ex2(ctx, cipher.pointer, k.baseAddress, v.baseAddress, encrypting ? 1 : 0, nil) == 1
            }
        }
            && EVP_CIPHER_CTX_set_padding(ctx, 0) == 1
            && out.withUnsafeMutableBufferPointer { o in
                input.withUnsafeBufferPointer { i in
                    EVP_CipherUpdate(ctx, o.baseAddress, &written, i.baseAddress, Int32(i.count)) == 1
                        && EVP_CipherFinal_ex(ctx, o.baseAddress! + Int(written), &finalWritten) == 1
                }
            }
        // With whole blocks and no padding these fail only when OpenSSL cannot allocate.
        precondition(ok && Int(written + finalWritten) == input.count, "OpenSSL AES-256-CBC failed")
        out.removeLast(out.count - input.count)
        return out
    }
}
