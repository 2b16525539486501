import SwitchboardCore

/// Why a WeChat callback body was refused by `WeChatXML`. Every case is answered with 400 and
/// this text (DESIGN §11: bad input gets a clear error and changes nothing).
public enum WeChatXMLError: Error, Sendable, Equatable, CustomStringConvertible {
    case empty
    case tooLarge(limit: Int, actual: Int)
    case nulByte
    case notUTF8
    /// A `<!DOCTYPE …>` (and with it any entity declaration) is never part of a WeChat callback.
    case doctypeForbidden
    /// An entity reference or DTD node in the tree (cannot happen without a DOCTYPE; checked anyway).
    case entityForbidden
    /// libxml2's first error message, e.g. `Opening and ending tag mismatch: Content line 1 and xml`.
    case notWellFormed(String)
    case wrongRoot(String)
    case tooDeep(limit: Int)
    case duplicateField(String)

    public var description: String {
        switch self {
        case .empty: return "WeChat XML body is empty"
        case .tooLarge(let limit, let actual): return "WeChat XML body is \(actual) bytes, over the \(limit)-byte limit"
        case .nulByte: return "WeChat XML body contains a NUL byte"
        case .notUTF8: return "WeChat XML body is not valid UTF-8"
        case .doctypeForbidden: return "WeChat XML must not contain a DOCTYPE or entity declarations"
        case .entityForbidden: return "WeChat XML must not contain entity references"
        case .notWellFormed(let why): return "WeChat XML is not well-formed: \(why)"
        case .wrongRoot(let name): return "WeChat XML root element must be <xml>, got <\(name)>"
        case .tooDeep(let limit): return "WeChat XML nests deeper than \(limit) elements"
        case .duplicateField(let name): return "WeChat XML repeats the field <\(name)>"
        }
    }

    /// The webhook error the adapter answers with: 413 for an oversize body, else 400.
    public var channelError: ChannelError {
        if case .tooLarge = self { return .tooLarge(description) }
        return .malformed(description)
    }
}
