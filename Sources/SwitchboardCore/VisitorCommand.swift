/// What a web-chat visitor's widget may send over `/v1/visitor` (DESIGN §9).
///
/// The visitor is anonymous and on the public internet, so every free-text field is bounded.
/// Frames may carry a `ref`, echoed in an `error` the same way as on the agent socket.
public enum VisitorCommand: Sendable, Equatable {
    /// The first frame: which web-chat channel, and the token from an earlier `ready` when the
    /// visitor returns. Name and email are what a pre-chat form collected, if anything.
    case hello(channel: String, visitorToken: String?, name: String?, email: String?)
    case sendMessage(text: String, clientId: String)
    case typing
    /// A rating of `conversationId`, the conversation the widget's rating card was made for (DESIGN
    /// §16: tied to its conversation, never to "whatever is current"); without it the server rates
    /// the visitor's most recently closed conversation.
    case csat(rating: Int, comment: String?, conversationId: String? = nil)
    case ping

    public static let maxTextLength = AgentCommand.maxTextLength
    public static let maxClientIdLength = AgentCommand.maxClientIdLength
    public static let ratings: ClosedRange<Int64> = 1...5
    static let maxNameLength = 100
    /// RFC 5321's limit on a forward path.
    static let maxEmailLength = 254
    static let maxCommentLength = 1000

    /// The wire `type` of this command.
    public var type: String {
        switch self {
        case .hello: return "hello"
        case .sendMessage: return "message.send"
        case .typing: return "typing"
        case .csat: return "csat"
        case .ping: return "ping"
        }
    }

    /// Parses one text frame from a visitor socket.
    public static func parse(_ bytes: [UInt8]) throws(ProtocolError) -> ClientFrame<VisitorCommand> {
        let frame = try FrameReader(bytes: bytes)
        return ClientFrame(ref: frame.ref, command: try command(of: frame))
    }

    private static func command(of f: FrameReader) throws(ProtocolError) -> VisitorCommand {
        switch f.type {
        case "hello":
            let channel = try f.string("channel", maxLength: AgentCommand.maxIdLength)
            let token = try f.optionalString("visitorToken", maxLength: 512)
            let name = try f.optionalString("name", maxLength: maxNameLength)
            let email = try f.optionalString("email", maxLength: maxEmailLength)
            // Only a sanity check: the address is a contact hint for a reply by email, and the
            // agent sees it as typed.
            if let email, !isPlausibleEmail(email) {
                throw f.badRequest("field 'email' is not an email address: '\(email)'")
            }
            return .hello(channel: channel, visitorToken: token, name: name, email: email)
        case "message.send":
            let text = try f.messageText("text", maxLength: maxTextLength)
            return .sendMessage(text: text, clientId: try f.string("clientId", maxLength: maxClientIdLength))
        case "typing":
            return .typing
        case "csat":
            let rating = try f.integer("rating", in: ratings)
            return .csat(rating: Int(rating), comment: try f.optionalString("comment", maxLength: maxCommentLength),
                         conversationId: try f.optionalString("conversationId", maxLength: AgentCommand.maxIdLength))
        case "ping":
            return .ping
        default:
            throw f.unknownType()
        }
    }

    /// One `@` with something on both sides, no spaces, a dot in the domain.
    static func isPlausibleEmail(_ text: String) -> Bool {
        let pieces = text.split(separator: "@", omittingEmptySubsequences: false)
        guard pieces.count == 2, !pieces[0].isEmpty, pieces[1].contains("."),
              !pieces[1].hasPrefix("."), !pieces[1].hasSuffix(".") else { return false }
        return !text.contains { $0.isWhitespace }
    }
}
