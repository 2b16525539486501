/// What one webhook request turned into: the events to store, in order, and how to answer the
/// provider once they are stored (DESIGN §10.1 "Inbound").
public struct InboundBatch: Sendable {
    public var events: [InboundEvent]
    public var answer: InboundAnswer

    public init(events: [InboundEvent], answer: InboundAnswer) {
        self.events = events
        self.answer = answer
    }

    /// A batch whose answer does not depend on what storing did (most providers: a fixed ack).
    public init(events: [InboundEvent], response: HTTPResponse) {
        self.init(events: events, answer: .fixed(response))
    }
}

/// The provider's synchronous answer, built **after** every event of its batch is in Redis.
///
/// `fixed` is the usual ack. `computed` is called on the loop thread with one outcome per event,
/// in the batch's order, and the server's clock and random bytes: a phone call's TwiML depends on
/// the queue, a WeChat passive reply (the welcome on `subscribe`) must be encrypted with fresh
/// random bytes. It must not fail: every way it can go is a response.
public enum InboundAnswer: Sendable {
    case fixed(HTTPResponse)
    case computed(@Sendable ([EventOutcome], AnswerContext) -> HTTPResponse)

    public func response(_ outcomes: [EventOutcome], _ context: AnswerContext) -> HTTPResponse {
        switch self {
        case .fixed(let r): return r
        case .computed(let build): return build(outcomes, context)
        }
    }
}

/// What storing one `InboundEvent` did.
public enum EventOutcome: Sendable, Equatable {
    /// A message: its conversation, whether it was new or a duplicate, and the conversation's status.
    case message(conversationId: String, messageId: String, created: Bool, duplicate: Bool, status: ConversationStatus)
    /// A call report: its conversation (nil before one was opened) and what the call does next.
    case call(conversationId: String?, instruction: CallInstruction)
    /// Any other event, stored (or recorded) as it asked.
    case stored
    /// The event named something unknown (a status for a message Switchboard never sent): nothing
    /// to change, acknowledged so the provider stops retrying.
    case ignored(String)
}

/// The server's clock and randomness, handed to a computed answer so the adapter stays pure.
public struct AnswerContext: Sendable {
    /// Seconds since the epoch.
    public var nowSeconds: Int64
    /// 32 bytes from the OS's CSPRNG, fresh for this answer.
    public var randomBytes: [UInt8]

    public init(nowSeconds: Int64, randomBytes: [UInt8]) {
        self.nowSeconds = nowSeconds
        self.randomBytes = randomBytes
    }

    /// For a `fixed` answer, which reads neither.
    public static let none = AnswerContext(nowSeconds: 0, randomBytes: [])
}
