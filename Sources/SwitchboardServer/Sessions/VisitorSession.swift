import CLibWebSockets
import SwitchboardCore
import SwitchboardCrypto
import SwitchboardLoop
import SwitchboardRedis
import WebChatChannel

/// One web-chat visitor on `/v1/visitor` (DESIGN §9, the web-chat channel).
///
/// `hello` names the channel and, for a returning visitor, carries the signed visitor token; the
/// answer is `ready` with the token, the open conversation if any, and its history. Messages are
/// ingested exactly like a provider webhook (dedup on the visitor's `clientId`), so a retried send
/// is stored once. While the conversation waits, the visitor gets `queue{position,…}` updates.
/// Leaving while still queued or offered abandons the conversation (DESIGN §7, Abandon).
///
/// Loop thread only.
final class VisitorSession: WebSocketSession {
    private unowned let broker: VisitorSessionHost
    private var channel: ChannelConfig?
    private var visitorId: String?
    private var name: String?
    private(set) var conversationId: String?
    /// The last queue position sent, so periodic refreshes only send changes.
    private var lastQueuePosition: Int?
    private(set) var waitingInQueue = false

    /// `hello` within `limits.auth_timeout`, else close 4401: a socket that never says which
    /// channel it is for, or stalls inside its first frame, is not held open for as long as the
    /// client likes (hostile-input tier, issue 9: a frame header announcing 2^63 bytes did that).
    private let helloTimer: LoopTimer

    init(wsi: OpaquePointer, broker: VisitorSessionHost) {
        self.broker = broker
        helloTimer = LoopTimer(context: broker.loopContext!)
        super.init(wsi: wsi, maxQueueBytes: broker.configuration.limits.maxSendQueueBytes,
                   maxMessageBytes: broker.configuration.limits.maxWSMessageBytes)
        let timeout = broker.configuration.limits.authTimeout
        helloTimer.schedule(after: timeout) { [weak self] in
            guard let self, self.visitorId == nil else { return }
            self.close(code: .unauthenticated, reason: "send hello within \(Int(timeout)) s")
        }
    }

    /// A push from pub/sub for this visitor's conversation.
    func deliver(event: [UInt8]) {
        if event.starts(with: Array("{\"type\":\"agent.joined\"".utf8)) || event.starts(with: Array("{\"type\":\"conversation.closed\"".utf8)) {
            waitingInQueue = false
        }
        enqueue(event)
        // Handed on by its agent: the visitor waits again (queue updates; leaving now abandons).
        if event.starts(with: Array("{\"type\":\"conversation.transferring\"".utf8)) {
            waitingInQueue = true
            refreshQueuePosition()
        }
    }

    override func received(_ message: [UInt8]) {
        let frame: ClientFrame<VisitorCommand>
        do {
            frame = try VisitorCommand.parse(message)
        } catch {
            enqueue(error.frame)
            return
        }
        let ref = frame.ref
        if case .hello(let channelId, let token, let name, _) = frame.command {
            hello(channelId: channelId, token: token, name: name, ref: ref)
            return
        }
        guard let channel, let visitorId else {
            enqueue(WireEvent.error(ref: ref, code: "bad_request", message: "send hello first"))
            return
        }
        let now = broker.now()
        switch frame.command {
        case .hello:
            break
        case .ping:
            enqueue(WireEvent.pong(ref: ref))
        case .sendMessage(let text, let clientId):
            let inbound = InboundMessage(from: Identity(kind: .webchat, address: visitorId), displayName: name,
                                         externalId: "\(visitorId):\(clientId)", parts: [.text(text)])
            broker.ingest(channel: channel, message: inbound, visitorNode: broker.nodeId) { [weak self] result in
                guard let self else { return }
                switch result {
                case .failure(let e):
                    self.enqueue(self.broker.errorFrame(ref: ref, e, during: "visitor message"))
                case .success(let outcome):
                    self.bind(outcome.conversationId)
                    self.enqueue(WireEvent.ack(ref: ref, ["messageId": .string(outcome.messageId),
                                                          "conversationId": .string(outcome.conversationId)]))
                    if outcome.status == .queued || outcome.status == .offered {
                        self.waitingInQueue = true
                        self.refreshQueuePosition()
                    }
                }
            }
        case .typing:
            guard let conversationId else { return }
            broker.store.typing(conversationId: conversationId, from: .visitor, now: now) { _ in }
        case .csat(let rating, let comment, let rated):
            // The conversation the card was made for (or, without one, the visitor's most recently
            // closed), checked in Redis to be this visitor's and closed: never the one now open
            // (DESIGN §16).
            broker.store.rateConversation(identity: Identity(kind: .webchat, address: visitorId), channelId: channel.id,
                                          conversationId: rated, rating: rating, comment: comment, now: now) { [weak self] r in
                guard let self else { return }
                switch r {
                case .success(let id): self.enqueue(WireEvent.ack(ref: ref, ["conversationId": .string(id)]))
                case .failure(let e): self.enqueue(self.broker.errorFrame(ref: ref, e, during: "visitor rating"))
                }
            }
        }
    }

    private func hello(channelId: String, token: String?, name: String?, ref: WireRef?) {
        guard visitorId == nil else {
            enqueue(WireEvent.error(ref: ref, code: "bad_request", message: "hello was already sent"))
            return
        }
        guard let channel = broker.configuration.channel(id: channelId), channel.kind == .webchat else {
            enqueue(WireEvent.error(ref: ref, code: "not_found", message: "no web-chat channel '\(channelId)'"))
            return
        }
        let signer = broker.visitorTokens
        var id: String? = nil
        if let token, !token.isEmpty {
            id = try? signer.verify(token)   // a bad or foreign token starts a fresh visitor, it is not an error
        }
        if id == nil {
            guard let random = try? SecureRandom.bytes(16) else {
                enqueue(WireEvent.error(ref: ref, code: "internal", message: "no randomness available"))
                return
            }
            id = try? VisitorToken.makeVisitorId(randomBytes: random)
        }
        guard let visitorId = id else { return }
        self.visitorId = visitorId
        helloTimer.cancel()
        self.channel = channel
        self.name = name
        guard let issued = try? signer.sign(visitorId: visitorId) else {
            enqueue(WireEvent.error(ref: ref, code: "internal", message: "cannot issue a visitor token"))
            return
        }
        broker.store.openConversation(identity: Identity(kind: .webchat, address: visitorId), channelId: channel.id) { [weak self] result in
            guard let self, self.wsi != nil else { return }
            switch result {
            case .failure(let e):
                self.enqueue(self.broker.errorFrame(ref: ref, e, during: "visitor hello"))
                self.visitorId = nil
            case .success(nil):
                self.enqueue(WireEvent.ready(visitorToken: issued, conversationId: nil, history: []))
            case .success(let open?):
                self.bind(open.conversationId)
                self.broker.store.attachVisitor(conversationId: open.conversationId, node: self.broker.nodeId, now: self.broker.now()) { _ in }
                self.broker.store.history(conversationId: open.conversationId, before: nil, limit: 100) { [weak self] h in
                    guard let self else { return }
                    let history = (try? h.get()) ?? []
                    self.enqueue(WireEvent.ready(visitorToken: issued, conversationId: open.conversationId, history: history))
                    let status = ConversationJSON.status(of: open.conversationJSON)
                    if status == .queued || status == .offered {
                        self.waitingInQueue = true
                        self.refreshQueuePosition()
                    } else if status == .assigned, let id = ConversationJSON.assignee(of: open.conversationJSON),
                              let agent = self.broker.configuration.agent(id: id) {
                        // A returning visitor learns who is serving them (the live event was sent earlier).
                        self.enqueue("{\"type\":\"agent.joined\",\"name\":" + JSONString.quote(agent.name) + "}")
                    }
                }
            }
        }
    }

    private func bind(_ conversationId: String) {
        guard self.conversationId != conversationId else { return }
        if let previous = self.conversationId { broker.sessions.remove(visitor: self, conversationId: previous) ; broker.sessions.add(visitor: self) }
        self.conversationId = conversationId
        lastQueuePosition = nil
        broker.sessions.bind(visitor: self, conversationId: conversationId)
    }

    /// Sends `queue{position,estimatedWaitSeconds}` if the position changed (called after each
    /// message while waiting and by the broker's periodic refresh).
    func refreshQueuePosition() {
        guard waitingInQueue, let conversationId else { return }
        broker.router.queuePosition(conversationId: conversationId, now: broker.now()) { [weak self] result in
            // Nil while offered: the conversation is out of the queue but not yet taken, so the
            // visitor still waits (and still abandons by leaving).
            guard let self, self.wsi != nil, case .success(let position?) = result else { return }
            // The router's rank is 0-based; the wire's position is 1 for "next" (WireEvent.queue,
            // and the widget shows position − 1 people ahead).
            let place = position.position + 1
            guard place != self.lastQueuePosition else { return }
            self.lastQueuePosition = place
            self.enqueue(WireEvent.queue(position: place, estimatedWaitSeconds: position.estimatedWaitSeconds))
        }
    }

    override func closed() {
        helloTimer.cancel()
        broker.sessions.remove(visitor: self, conversationId: conversationId)
        guard let conversationId else { return }
        let now = broker.now()
        broker.store.detachVisitor(conversationId: conversationId, node: broker.nodeId, now: now) { _ in }
        if waitingInQueue && !broker.isShuttingDown {
            // The visitor left before an agent took the conversation: abandoned (DESIGN §7).
            broker.router.abandon(conversationId: conversationId, now: now) { _ in }
        }
    }
}
