import SwitchboardCore

/// Why an `Encrypt` value (or a WeCom `echostr`) could not be opened, or an EncodingAESKey could
/// not be used. One case per cause, so the adapter answers 400 with a message that says which
/// check failed (DESIGN §11: bad input gets a clear error and changes nothing).
///
/// The signature (`msg_signature`) must be checked before decrypting: a forger without the token
/// then never reaches these distinct answers, so they are no padding oracle.
public enum WeChatCryptoError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The configured EncodingAESKey is unusable (not 43 base64 characters, or not 32 bytes).
    /// Meant for config validation: wrap it in a `ChannelConfigurationError` naming the key.
    case invalidEncodingAESKey(String)
    /// `Encrypt` is not canonical standard base64.
    case badBase64
    /// The ciphertext is not whole 16-byte blocks, too short to hold the 20-byte header, or the
    /// 4-byte length field points past the end.
    case badLength(String)
    /// The decrypted tail is not PKCS#7 at a 32-byte block (pad value 1…32, all pad bytes
    /// equal). With a valid signature this usually means the wrong EncodingAESKey.
    case badPadding
    /// The app id / corp id after the XML is not the configured one: the message was meant for
    /// another account.
    case wrongReceiveId

    public var description: String {
        switch self {
        case .invalidEncodingAESKey(let why): return "invalid EncodingAESKey: \(why)"
        case .badBase64: return "Encrypt is not valid base64"
        case .badLength(let why): return "Encrypt has a bad length: \(why)"
        case .badPadding: return "Encrypt does not decrypt to valid padding (wrong EncodingAESKey?)"
        case .wrongReceiveId: return "Encrypt was not addressed to this account (receive id mismatch)"
        }
    }

    /// The webhook error the adapter answers with (400).
    public var channelError: ChannelError { .malformed(description) }
}
