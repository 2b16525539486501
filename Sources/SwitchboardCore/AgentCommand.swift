import Foundation

/// What an agent's console may ask of the server over `/v1/agent` (DESIGN §9).
///
/// `parse` validates everything that can be checked without Redis — required fields, types,
/// lengths, ranges, enum values — so handlers receive well-formed commands only. Whether the
/// conversation or offer exists, or belongs to the agent, is the store's and router's business.
public enum AgentCommand: Sendable, Equatable {
    /// The first frame: the agent's login token, and the last `seq` the console saw, to replay
    /// missed events from the agent's stream.
    case auth(token: String, resume: Int64?)
    case setPresence(status: PresenceStatus, reason: String?)
    case acceptOffer(offerId: String)
    case rejectOffer(offerId: String, reason: String?)
    /// `text` arrives as a single text part. `clientId` makes a retried send idempotent.
    case sendMessage(conversationId: String, parts: [MessagePart], clientId: String)
    case typing(conversationId: String)
    case transfer(conversationId: String, to: TransferTarget, note: String?)
    case close(conversationId: String, category: CloseCategory?, disposition: String?)
    /// The outcome of a call-back task (a voicemail's), with the agent's note.
    case callbackOutcome(conversationId: String, outcome: CallbackOutcome, note: String?)
    /// An internal note in the conversation's thread, never sent to the contact (a call's notes).
    case note(conversationId: String, text: String)
    /// The same contact's other conversations on every channel (a caller's history on the call card).
    case contactHistory(conversationId: String)
    /// Messages older than the message id `before` (newest first), `limit` of them.
    case history(conversationId: String, before: String?, limit: Int)
    case ping

    /// Where a transfer goes: offered to one agent, or requeued at the front of a skill queue
    /// (DESIGN §7).
    public enum TransferTarget: Sendable, Equatable {
        case agent(String)
        case skill(String)
    }

    public static let maxTextLength = 4000
    public static let maxClientIdLength = 128
    public static let historyLimits: ClosedRange<Int64> = 1...200
    public static let defaultHistoryLimit = 50
    /// Bounds for free-text fields (reasons, notes, dispositions): they land in Redis and in
    /// supervisors' screens, and nothing legitimate needs more.
    static let maxReasonLength = 200
    static let maxNoteLength = 2000
    static let maxIdLength = 256

    /// The wire `type` of this command.
    public var type: String {
        switch self {
        case .auth: return "auth"
        case .setPresence: return "presence.set"
        case .acceptOffer: return "offer.accept"
        case .rejectOffer: return "offer.reject"
        case .sendMessage: return "message.send"
        case .typing: return "typing"
        case .transfer: return "conversation.transfer"
        case .close: return "conversation.close"
        case .callbackOutcome: return "callback.outcome"
        case .contactHistory: return "contact.history"
        case .note: return "conversation.note"
        case .history: return "history"
        case .ping: return "ping"
        }
    }

    /// Parses one text frame from the agent socket.
    public static func parse(_ bytes: [UInt8]) throws(ProtocolError) -> ClientFrame<AgentCommand> {
        let frame = try FrameReader(bytes: bytes)
        return ClientFrame(ref: frame.ref, command: try command(of: frame))
    }

    private static func command(of f: FrameReader) throws(ProtocolError) -> AgentCommand {
        switch f.type {
        case "auth":
            return .auth(token: try f.string("token", maxLength: 4096),
                         resume: try f.optionalInteger("resume", in: 0...Int64.max))
        case "presence.set":
            guard let status = try f.choice("status", as: PresenceStatus.self) else { throw f.badRequest("missing field 'status'") }
            return .setPresence(status: status, reason: try f.optionalString("reason", maxLength: maxReasonLength))
        case "offer.accept":
            return .acceptOffer(offerId: try f.string("offerId", maxLength: maxIdLength))
        case "offer.reject":
            return .rejectOffer(offerId: try f.string("offerId", maxLength: maxIdLength),
                                reason: try f.optionalString("reason", maxLength: maxReasonLength))
        case "message.send":
            let conversationId = try f.string("conversationId", maxLength: maxIdLength)
            let parts = try messageParts(f)
            return .sendMessage(conversationId: conversationId, parts: parts,
                                clientId: try f.string("clientId", maxLength: maxClientIdLength))
        case "typing":
            return .typing(conversationId: try f.string("conversationId", maxLength: maxIdLength))
        case "conversation.transfer":
            let conversationId = try f.string("conversationId", maxLength: maxIdLength)
            let target: TransferTarget
            switch (try f.optionalString("toAgent", maxLength: maxIdLength), try f.optionalString("toSkill", maxLength: maxIdLength)) {
            case (let agent?, nil): target = .agent(agent)
            case (nil, let skill?): target = .skill(skill)
            case (.some, .some): throw f.badRequest("give either 'toAgent' or 'toSkill', not both")
            case (nil, nil): throw f.badRequest("missing field 'toAgent' or 'toSkill'")
            }
            return .transfer(conversationId: conversationId, to: target, note: try f.optionalString("note", maxLength: maxNoteLength))
        case "conversation.close":
            return .close(conversationId: try f.string("conversationId", maxLength: maxIdLength),
                          category: try f.choice("category", as: CloseCategory.self),
                          disposition: try f.optionalString("disposition", maxLength: maxNoteLength))
        case "conversation.note":
            return .note(conversationId: try f.string("conversationId", maxLength: maxIdLength),
                         text: try f.messageText("text", maxLength: maxNoteLength))
        case "contact.history":
            return .contactHistory(conversationId: try f.string("conversationId", maxLength: maxIdLength))
        case "callback.outcome":
            guard let outcome = try f.choice("outcome", as: CallbackOutcome.self) else { throw f.badRequest("missing field 'outcome'") }
            return .callbackOutcome(conversationId: try f.string("conversationId", maxLength: maxIdLength), outcome: outcome,
                                    note: try f.optionalString("note", maxLength: maxNoteLength))
        case "history":
            let conversationId = try f.string("conversationId", maxLength: maxIdLength)
            let before = try f.optionalString("before", maxLength: 64)
            if let before, !isStreamId(before) {
                throw f.badRequest("field 'before' must be a message id such as 1700000000000-0, found '\(before)'")
            }
            let limit = try f.optionalInteger("limit", in: historyLimits).map { Int($0) } ?? defaultHistoryLimit
            return .history(conversationId: conversationId, before: before, limit: limit)
        case "ping":
            return .ping
        default:
            throw f.unknownType()
        }
    }

    /// `text` or `parts`, exactly one of them.
    private static func messageParts(_ f: FrameReader) throws(ProtocolError) -> [MessagePart] {
        switch (f.has("text"), f.has("parts")) {
        case (true, true):
            throw f.badRequest("give either 'text' or 'parts', not both")
        case (false, false):
            throw f.badRequest("missing field 'text' or 'parts'")
        case (true, false):
            return [.text(try f.messageText("text", maxLength: maxTextLength))]
        case (false, true):
            guard case .array(let items)? = f.raw("parts") else {
                throw f.badRequest("field 'parts' must be an array, found \(f.raw("parts")?.kindName ?? "nothing")")
            }
            guard !items.isEmpty else { throw f.badRequest("field 'parts' must not be empty") }
            var parts: [MessagePart] = []
            for (i, item) in items.enumerated() {
                let part: MessagePart
                do {
                    part = try JSONDecoder().decode(MessagePart.self, from: Data(item.jsonText.utf8))
                } catch {
                    throw f.badRequest("field 'parts[\(i)]' is not a valid message part: \(describe(error))")
                }
                if case .text(let text) = part {
                    try FrameReader.checkText(text, field: "parts[\(i)].text", maxLength: maxTextLength, reader: f)
                }
                if let url = part.nonWebURL {
                    throw f.badRequest("field 'parts[\(i)]' names '\(url.prefix(64))' where an http:// or https:// URL belongs")
                }
                parts.append(part)
            }
            let total = parts.compactMap(\.text).reduce(0) { $0 + $1.count }
            if total > maxTextLength {
                throw f.badRequest("the text parts must be at most \(maxTextLength) characters together, found \(total)")
            }
            return parts
        }
    }

    /// A Redis stream id (`<ms>` or `<ms>-<seq>`), which message ids are (`Message.id`).
    /// A Redis stream id, `ms` or `ms-seq`, each part a 64-bit unsigned integer: Redis refuses
    /// anything larger (`99999999999999999999999-0`, `18446744073709551616-0`) with an error that
    /// reached clients as a 500 (issue 9). The WebSocket `history` command and REST's `?before=`.
    public static func isStreamId(_ text: String) -> Bool {
        let pieces = text.split(separator: "-", omittingEmptySubsequences: false)
        guard pieces.count <= 2 else { return false }
        return pieces.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } && UInt64($0) != nil }
    }

    /// A decoding failure as one short clause: the missing key or the bad value, not Foundation's
    /// whole debug dump.
    static func describe(_ error: Error) -> String {
        guard let decoding = error as? DecodingError else { return "\(error)" }
        switch decoding {
        case .keyNotFound(let key, _): return "missing field '\(key.stringValue)'"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let field = context.codingPath.last.map { "field '\($0.stringValue)': " } ?? ""
            return field + context.debugDescription
        @unknown default: return "\(decoding)"
        }
    }
}
