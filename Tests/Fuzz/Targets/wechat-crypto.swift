// fuzz-seeds: Tests/Fuzz/Seeds/wechat-crypto/*
import SwitchboardCrypto
import WeChatChannel

/// `WeChatCrypto.decrypt` (base64, AES-256-CBC, the 32-byte PKCS#7, the length field, the
/// receive id) on hostile input. The first byte picks what the rest is:
/// - 0: the `Encrypt` text itself;
/// - 1: a plaintext the harness encrypts raw (no padding added, zero-filled to whole AES blocks)
///   under the current key, so the padding and the length field are the fuzzer's;
/// - 2: a message `encrypt` frames; it must decrypt back to itself.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let rest = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let crypto = Harness.crypto
    switch data[0] % 3 {
    case 0:
        _ = try? crypto.decrypt(encrypt: String(decoding: rest, as: UTF8.self), receiveId: Harness.appId)
    case 1:
        var plain = rest
        while plain.count % AES256CBC.blockLength != 0 { plain.append(0) }
        guard let cipher = try? AES256CBC.encrypt(key: crypto.current.key, iv: crypto.current.iv, plaintext: plain) else { return 0 }
        _ = try? crypto.decrypt(encrypt: Base64.encode(cipher), receiveId: Harness.appId)
    default:
        let encrypt = crypto.encrypt(xml: rest, receiveId: Harness.appId, random16: Array(repeating: 7, count: 16))
        guard (try? crypto.decrypt(encrypt: encrypt, receiveId: Harness.appId)) == rest else { fatalError("encrypt/decrypt round trip") }
    }
    return 0
}

enum Harness {
    static let appId = "wxd0c1a9e4f2b38765"
    static let crypto = try! WeChatCrypto(encodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
                                          previousEncodingAESKey: "Zx9Qm3Lp7Rt2Vw5Yb8Nc1Kd4Hf6Jg0Ts3Ua7We9Ri2O")
}
