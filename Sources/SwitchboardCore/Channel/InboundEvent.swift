/// One thing a provider told the broker (DESIGN §10.1 "Inbound"). The server stores each in order;
/// `EventOutcome` says what that did.
public enum InboundEvent: Sendable, Equatable {
    /// A contact wrote something.
    case message(InboundMessage)
    /// A provider reports the fate of an outbound message, by the provider's id for it.
    case deliveryStatus(DeliveryStatusReport)
    /// "There is news, come and get it" (WeCom `kf_msg_or_event`): the server records the trigger,
    /// answers, then runs the channel's `puller` for that source on one node at a time.
    case fetch(PullTrigger)
    /// The contact followed (`true`) or unfollowed (`false`) the account (WeChat `subscribe` /
    /// `unsubscribe`): unfollowing opts the contact out of proactive messages on this channel
    /// (DESIGN §14), following again opts back in.
    case subscription(Identity, subscribed: Bool)
    /// A telephony platform reported on a call (DESIGN §10.5): the server reads the call's state,
    /// decides with `CallLifecycle` under the channel's `CallPolicy`, stores the result, and gives
    /// the `CallInstruction` back in `EventOutcome.call` for the answer.
    case call(CallEvent, CallPolicy)
}

public struct InboundMessage: Sendable, Equatable {
    public var from: Identity
    public var displayName: String?
    /// The provider's id, or a digest of sender+time+text where the provider has none.
    public var externalId: String
    public var parts: [MessagePart]
    /// Our own address the contact wrote to (the gateway number, the official account), if known.
    public var to: String?
    /// Email and mailbox subjects (DESIGN §6).
    public var subject: String?
    /// What ties the message to an earlier conversation: Message-ID, In-Reply-To, References, a
    /// plus-address token (email, DESIGN §10.4). Empty for channels that thread by contact.
    public var threadKeys: [String]
    /// A conversation the adapter has verified this message belongs to (a signed reply token), or nil.
    public var conversationHint: String?
    /// The skill a new conversation queues for instead of the channel's (a WeChat menu key mapped
    /// by `menu_skills`, an IVR digit). Nil: the channel's skill.
    public var skill: String?
    /// Provider media ids the parts refer to (`MediaReference.url`), fetched by the server's
    /// `MediaSource` flow once the message is stored.
    public var mediaToFetch: [String]

    public init(from: Identity, displayName: String? = nil, externalId: String, parts: [MessagePart], to: String? = nil,
                subject: String? = nil, threadKeys: [String] = [], conversationHint: String? = nil, skill: String? = nil,
                mediaToFetch: [String] = []) {
        self.from = from
        self.displayName = displayName
        self.externalId = externalId
        self.parts = parts
        self.to = to
        self.subject = subject
        self.threadKeys = threadKeys
        self.conversationHint = conversationHint
        self.skill = skill
        self.mediaToFetch = mediaToFetch
    }
}

public struct DeliveryStatusReport: Sendable, Equatable {
    public var externalId: String
    public var status: DeliveryStatus
    public var error: String?

    public init(externalId: String, status: DeliveryStatus, error: String? = nil) {
        self.externalId = externalId
        self.status = status
        self.error = error
    }
}

/// A provider's request to pull messages from one source (WeCom: an `open_kfid`), with the
/// short-lived token the pull must present (WeCom's callback `Token`, valid 10 minutes).
public struct PullTrigger: Sendable, Equatable {
    public var source: String
    public var token: String?

    public init(source: String, token: String? = nil) {
        self.source = source
        self.token = token
    }
}
