import CLibWebSockets
import Foundation
import SwitchboardCore
import SwitchboardCrypto
import SwitchboardLoop
import SwitchboardRedis

/// One agent console on `/v1/agent` (DESIGN §9).
///
/// Lifecycle: `auth` within `auth_timeout` (else close 4401) → `Router.connect` marks the agent
/// present on this node → `welcome` → (with `resume`) the agent's event stream after `lastSeq` →
/// live events pushed through pub/sub. Events are delivered in `seq` order and never twice: live
/// events that arrive while the welcome and replay are being prepared are held, then only those
/// with a higher `seq` than what was already sent go out.
///
/// Every command is checked for ownership by the scripts (an agent acts only on conversations
/// offered or assigned to it: `forbidden`). Loop thread only.
final class AgentSession: WebSocketSession {
    private unowned let broker: AgentSessionHost
    private(set) var agent: AgentConfig?
    private var state = State.awaitingAuth
    private var held: [(bytes: [UInt8], seq: Int64?)] = []
    private var deliveredSeq: Int64 = 0
    /// Redis was lost: pushes are dropped until `resync` replays the stream (see `suspend`).
    private var suspended = false
    /// The replay page not yet queued: it is fed into the send queue as that drains, so a backlog
    /// larger than `max_send_queue_bytes` resumes instead of tripping the slow-client close.
    private var replayPage: ArraySlice<[UInt8]> = []
    private var replayNext: (last: Int64, upTo: Int64, more: Bool)?
    private let authTimer: LoopTimer
    /// Conversations offered to this console: their history may be read before accepting.
    private var offeredConversations: Set<String> = []
    /// Commands that arrived after `auth` but before the welcome went out: a console may
    /// pipeline `presence.set` right behind `auth`; they run in order once live.
    private var pendingCommands: [[UInt8]] = []

    enum State { case awaitingAuth, authenticating, live }

    init(wsi: OpaquePointer, broker: AgentSessionHost) {
        self.broker = broker
        authTimer = LoopTimer(context: broker.loopContext!)
        super.init(wsi: wsi, maxQueueBytes: broker.configuration.limits.maxSendQueueBytes,
                   maxMessageBytes: broker.configuration.limits.maxWSMessageBytes)
        authTimer.schedule(after: broker.configuration.limits.authTimeout) { [weak self] in
            guard let self, self.state == .awaitingAuth else { return }
            self.close(code: .unauthenticated, reason: "authenticate within \(Int(broker.configuration.limits.authTimeout)) s")
        }
    }

    // MARK: events from the node's pub/sub

    func deliver(event: [UInt8], seq: Int64?) {
        switch state {
        case .awaitingAuth:
            return
        case .authenticating:
            held.append((event, seq))
        case .live:
            if suspended { return }
            if let seq {
                guard seq > deliveredSeq else { return }
                deliveredSeq = seq
            }
            noteOffer(event)
            enqueue(event)
        }
    }

    /// Remembers offered conversation ids so `history` may show them before accepting.
    private func noteOffer(_ event: [UInt8]) {
        // Every delivered event passes here (once per console): a byte scan, not a String (a
        // Foundation `contains` on each event cost more than the rest of the delivery).
        guard event.count < 64 << 10, AgentEventFraming.contains(event, AgentEventFraming.offerType) else { return }
        if let id = JSONLookup.string(in: event, at: ["conversation", "id"]) {
            offeredConversations.insert(id)
        }
    }

    // MARK: commands

    override func received(_ message: [UInt8]) {
        if state == .authenticating {
            guard pendingCommands.count < 64 else {
                close(code: .policyViolation, reason: "too many commands before welcome")
                return
            }
            pendingCommands.append(message)
            return
        }
        let frame: ClientFrame<AgentCommand>
        do {
            frame = try AgentCommand.parse(message)
        } catch {
            enqueue(error.frame)
            return
        }
        let ref = frame.ref
        if case .auth(let token, let resume) = frame.command {
            authenticate(token: token, resume: resume, ref: ref)
            return
        }
        guard state == .live, let agent else {
            enqueue(WireEvent.error(ref: ref, code: "unauthenticated", message: "send auth first"))
            return
        }
        broker.metrics.agentCommand(frame.command.type)
        let now = broker.now()
        switch frame.command {
        case .auth:
            break
        case .ping:
            enqueue(WireEvent.pong(ref: ref))
        case .setPresence(let status, let reason):
            broker.router.setPresence(agentId: agent.id, status: status, reason: reason, now: now) { [weak self] r in
                self?.answer(ref, r.map { _ in [:] })
            }
        case .acceptOffer(let offerId):
            broker.router.accept(agentId: agent.id, offerId: offerId, now: now) { [weak self] r in
                // Accepting a call queued its bridge in the outbox: send it now, the caller is waiting.
                if case .success = r { self?.broker.deliverSoon() }
                self?.answer(ref, r.map { ["conversation": .raw($0)] })
            }
        case .rejectOffer(let offerId, let reason):
            broker.router.reject(agentId: agent.id, offerId: offerId, reason: reason, now: now) { [weak self] r in
                self?.answer(ref, r.map { _ in [:] })
            }
        case .sendMessage(let conversationId, let parts, let clientId):
            let request = SendRequest(conversationId: conversationId, author: .agent, authorId: agent.id, authorName: agent.name,
                                      parts: parts, clientId: clientId, requiredAssignee: agent.id, mode: nil)
            broker.send(request) { [weak self] r in
                self?.answer(ref, r.map { ["messageId": .string($0.messageId), "conversationId": .string(conversationId), "duplicate": .bool($0.duplicate)] })
            }
        case .callbackOutcome(let conversationId, let outcome, let note):
            broker.router.callbackOutcome(agentId: agent.id, conversationId: conversationId, outcome: outcome, note: note, now: now) { [weak self] r in
                self?.answer(ref, r.map { ["conversation": .raw($0)] })
            }
        case .typing(let conversationId):
            broker.store.typing(conversationId: conversationId, from: .agent(agent.id), now: now) { [weak self] r in
                if case .failure(let e) = r { self?.answer(ref, .failure(e)) }
            }
        case .transfer(let conversationId, let target, let note):
            let to: TransferTarget
            switch target {
            case .agent(let id): to = .agent(id)
            case .skill(let skill): to = .skill(skill)
            }
            broker.router.transfer(agentId: agent.id, conversationId: conversationId, target: to, note: note, now: now) { [weak self] r in
                self?.answer(ref, r.map { _ in [:] })
            }
        case .close(let conversationId, let category, let disposition):
            broker.router.close(agentId: agent.id, conversationId: conversationId, category: category?.rawValue,
                                disposition: disposition, now: now) { [weak self] r in
                self?.answer(ref, r.map { _ in [:] })
            }
        case .history(let conversationId, let before, let limit):
            whenReadable(conversationId, ref: ref) { [weak self] in
                self?.broker.store.history(conversationId: conversationId, before: before, limit: limit) { [weak self] r in
                    self?.answer(ref, r.map { ["conversationId": .string(conversationId), "messages": .raw(JSONText.array($0))] })
                }
            }
        case .note(let conversationId, let text):
            broker.store.addNote(conversationId: conversationId, agentId: agent.id, agentName: agent.name, text: text, now: now) { [weak self] r in
                self?.answer(ref, r.map { ["message": .raw($0)] })
            }
        case .contactHistory(let conversationId):
            whenReadable(conversationId, ref: ref) { [weak self] in
                self?.broker.store.contactHistory(conversationId: conversationId, limit: 10) { [weak self] r in
                    self?.answer(ref, r.map { ["conversationId": .string(conversationId), "conversations": .raw(JSONText.array($0))] })
                }
            }
        }
    }

    private func answer(_ ref: WireRef?, _ result: Result<KeyValuePairs<String, JSONFragment>, StoreError>) {
        switch result {
        case .success(let fields): enqueue(WireEvent.ack(ref: ref, fields))
        case .failure(let e): enqueue(broker.errorFrame(ref: ref, e, during: "agent command"))
        }
    }

    /// A conversation's history (and its contact's other conversations) is readable by the
    /// assignee, by a console the conversation is offered to, and by supervisors and admins
    /// (DESIGN §11); `body` runs only then.
    private func whenReadable(_ conversationId: String, ref: WireRef?, _ body: @escaping () -> Void) {
        guard let agent else { return }
        broker.store.conversation(id: conversationId) { [weak self] result in
            guard let self else { return }
            switch result {
            case .failure(let e):
                self.answer(ref, .failure(e))
            case .success(let json):
                let assignee = (try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])?["assignee"] as? String
                let allowed = assignee == agent.id || agent.role != .agent || self.offeredConversations.contains(conversationId)
                guard allowed else {
                    self.answer(ref, .failure(.forbidden("conversation \(conversationId) is not assigned to you")))
                    return
                }
                body()
            }
        }
    }

    // MARK: authentication and resume

    private func authenticate(token: String, resume: Int64?, ref: WireRef?) {
        guard state == .awaitingAuth else {
            enqueue(WireEvent.error(ref: ref, code: "bad_request", message: "already authenticated"))
            return
        }
        let hash = Digest.sha256Hex(Array(token.utf8))
        guard let agent = broker.configuration.agents.first(where: { ConstantTime.equals($0.tokenSHA256, hash) }) else {
            close(code: .unauthenticated, reason: "invalid token")
            return
        }
        self.agent = agent
        state = .authenticating
        authTimer.cancel()
        broker.sessions.add(agent: self, id: agent.id)
        broker.router.connect(agentId: agent.id, node: broker.nodeId, now: broker.now()) { [weak self] result in
            guard let self, self.wsi != nil else { return }
            switch result {
            case .failure(let e):
                self.enqueue(self.broker.errorFrame(ref: ref, e, prefix: "cannot sign in: ", during: "agent sign-in"))
                self.close(code: .goingAway, reason: "try again")
            case .success(let snapshot):
                for offer in snapshot.offersJSON { self.noteOffer(Array(("{\"type\":\"offer\"," + offer.dropFirst()).utf8)) }
                let welcome = WireEvent.welcome(agent: agent, presence: snapshot.presence, presenceReason: snapshot.reason,
                                                conversations: snapshot.conversationsJSON, offers: snapshot.offersJSON,
                                                lastSeq: snapshot.lastSeq, now: self.broker.now())
                self.enqueue(welcome)
                if let resume, resume < snapshot.lastSeq {
                    self.replay(after: resume, upTo: snapshot.lastSeq)
                } else {
                    self.goLive(after: snapshot.lastSeq)
                }
            }
        }
    }

    /// Sends the stream after `after` in pages, then goes live. Events after `upTo` may also be
    /// in the stream by now; the `seq` check drops the copies that pub/sub also brings. A page is
    /// queued only as fast as the socket drains (`feedReplay`), and the next page is read once the
    /// previous one is queued.
    private func replay(after: Int64, upTo: Int64) {
        guard let agent else { return }
        broker.store.replay(agentId: agent.id, afterSeq: after, limit: 500) { [weak self] result in
            guard let self, self.wsi != nil else { return }
            switch result {
            case .failure(let e):
                self.enqueue(self.broker.errorFrame(ref: nil, e, prefix: "resume failed: ", during: "agent resume"))
                self.close(code: .goingAway, reason: "resume failed")
            case .success(let events):
                var last = after
                var page: [[UInt8]] = []
                page.reserveCapacity(events.count)
                for json in events {
                    let bytes = Array(json.utf8)
                    if let seq = AgentEventFraming.seq(of: bytes), seq > last {
                        last = seq
                        page.append(bytes)
                    }
                }
                self.replayPage = page[...]
                self.replayNext = (last, upTo, events.count == 500 && last < upTo)
                self.feedReplay()
            }
        }
    }

    /// Queues replayed events while they fit in the send queue; the rest waits for
    /// `sendQueueDrained`. With the page queued: the next page, or live.
    private func feedReplay() {
        guard let next = replayNext, !isClosing else { return }
        while let event = replayPage.first {
            if queuedByteCount > 0 && queuedByteCount + event.count > maxQueueBytes { return }
            replayPage.removeFirst()
            enqueue(event)
        }
        replayNext = nil
        if next.more {
            replay(after: next.last, upTo: next.upTo)
        } else {
            goLive(after: max(next.last, next.upTo))
        }
    }

    override func sendQueueDrained() {
        if replayNext != nil { feedReplay() }
    }

    /// After a Redis outage: this node's subscription was down, so live pushes may have been
    /// missed, and the agent may be marked disconnected. Re-register the socket and replay the
    /// agent's stream from the last event this console received, holding new pushes meanwhile.
    /// If Redis came back without its data (the stream's seq went backwards), the console cannot
    /// resume here: it is closed with 1012 and signs in afresh.
    func resync() {
        guard let agent, state == .live else { return }
        state = .authenticating
        suspended = false
        let delivered = deliveredSeq
        broker.router.connect(agentId: agent.id, node: broker.nodeId, now: broker.now()) { [weak self] result in
            guard let self, self.wsi != nil else { return }
            switch result {
            case .failure:
                self.close(code: .serviceRestart, reason: "redis unavailable, please resume")
            case .success(let snapshot) where snapshot.lastSeq < delivered:
                self.close(code: .serviceRestart, reason: "state was reset, please sign in again")
            case .success(let snapshot):
                if delivered < snapshot.lastSeq {
                    self.replay(after: delivered, upTo: snapshot.lastSeq)
                } else {
                    self.goLive(after: delivered)
                }
            }
        }
    }

    /// Redis (or this node's subscription) was lost. Events published meanwhile never reach this
    /// node; if a later push (subscription back, `resync` not run yet) were delivered, `seq` would
    /// jump over them and the replay, which starts after the last delivered seq, would skip them.
    /// So pushes are dropped until `resync`: everything is in the agent's stream.
    func suspend() {
        if state == .live { suspended = true }
    }

    private func goLive(after seq: Int64) {
        deliveredSeq = seq
        state = .live
        // Signed in while this node is not ready: `resync` follows when it is.
        if !broker.isReady { suspended = true }
        let pending = held
        held.removeAll()
        for (bytes, seq) in pending { deliver(event: bytes, seq: seq) }
        let commands = pendingCommands
        pendingCommands.removeAll()
        for command in commands { received(command) }
    }

    override func closed() {
        authTimer.cancel()
        guard let agent else { return }
        let remaining = broker.sessions.remove(agent: self, id: agent.id)
        if remaining == 0 {
            broker.router.disconnect(agentId: agent.id, node: broker.nodeId, now: broker.now()) { _ in }
        }
    }
}
