/// Why a webhook was refused. Each maps to the status DESIGN §9 names; the message is the
/// adapter's own words, safe to show the caller (it never carries a secret or an internal error).
public enum ChannelError: Error, Sendable, Equatable {
    case badSignature(String)          // 403
    case unknownRoute(String)          // 404
    case unsupportedMediaType(String)  // 415
    case malformed(String)             // 400
    case tooLarge(String)              // 413
    case unrenderable(String)          // outbound only

    public var httpStatus: Int {
        switch self {
        case .badSignature: return 403
        case .unknownRoute: return 404
        case .unsupportedMediaType: return 415
        case .tooLarge: return 413
        case .malformed, .unrenderable: return 400
        }
    }

    public var code: String {
        switch self {
        case .badSignature: return "bad_signature"
        case .unknownRoute: return "not_found"
        case .unsupportedMediaType: return "unsupported_media_type"
        case .tooLarge: return "too_large"
        case .malformed: return "bad_request"
        case .unrenderable: return "unrenderable"
        }
    }

    public var message: String {
        switch self {
        case .badSignature(let m), .unknownRoute(let m), .unsupportedMediaType(let m), .malformed(let m), .tooLarge(let m),
             .unrenderable(let m):
            return m
        }
    }
}
