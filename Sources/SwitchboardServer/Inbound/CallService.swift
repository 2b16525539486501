import Logging
import SwitchboardCore
import SwitchboardRedis

/// Applies a telephony platform's report to its call (DESIGN §10.5; issue 10): read the call's
/// record and facts (`call_state`), decide with `CallLifecycle` (pure), store the decision and its
/// effects in one script call (`voice_call`), and give the instruction for the platform's answer.
///
/// - **Ordering.** Two reports of one call may arrive together (a status callback racing a wait
///   request, on two nodes). `voice_call` writes only at the version read; on a conflict the report
///   is read and decided again, so each is applied to the state the other left.
/// - **Acknowledgement.** The completion succeeds only once Redis holds the decision: the webhook
///   is answered after that (a 503 before it, and the platform retries; dedup makes that safe).
/// - **Thread.** Loop thread only.
final class CallService {
    private let router: Router
    private let metrics: BrokerMetrics
    private let clock: () -> Int64
    private let logger: Logger
    /// agent id → the agent, for where an accepted call rings (`agents[].phone`, `sip`).
    private let agents: [String: AgentConfig]

    /// A report that keeps losing the race this many times is answered with 503 (the platform
    /// retries it). Two concurrent reports of one call is the most seen; five is generous.
    static let maxAttempts = 5

    init(router: Router, metrics: BrokerMetrics, agents: [AgentConfig], logger: Logger, clock: @escaping () -> Int64) {
        self.router = router
        self.logger = logger
        self.metrics = metrics
        self.clock = clock
        self.agents = Dictionary(agents.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    func apply(_ event: CallEvent, policy: CallPolicy, channel: ChannelConfig,
               completion: @escaping (Result<EventOutcome, StoreError>) -> Void) {
        attempt(event, policy: policy, channel: channel, left: Self.maxAttempts, completion: completion)
    }

    private func attempt(_ event: CallEvent, policy: CallPolicy, channel: ChannelConfig, left: Int,
                         completion: @escaping (Result<EventOutcome, StoreError>) -> Void) {
        let now = clock()
        router.callState(channelId: channel.id, callId: event.callId, skill: Self.skillAsked(event, policy: policy), now: now) { [weak self] result in
            guard let self else { return }
            let state: CallState
            switch result {
            case .failure(let e): return completion(.failure(e))
            case .success(let s): state = s
            }
            // A report about a call the broker never saw (a misconfigured status callback, a call
            // from before a Redis flush): acknowledged so Twilio does not retry it, nothing stored.
            if state.record == nil, !Self.opensACall(event) {
                self.logger.warning("call report for an unknown call ignored", metadata: ["channel": "\(channel.id)", "call": "\(event.callId)"])
                return completion(.success(.ignored("no call \(event.callId)")))
            }
            let facts = CallFacts(now: now, conversationStatus: state.status, queuePosition: state.position,
                                  agentsLoggedIn: state.agentsLoggedIn, agentEndpoint: state.assignee.flatMap { self.agents[$0]?.voiceEndpoint(preferSIP: policy.prefersSIP) })
            let transition = CallLifecycle.apply(event, to: state.record, facts: facts, policy: policy)
            guard transition.changed else {
                return completion(.success(.call(conversationId: state.conversationId, instruction: transition.instruction)))
            }
            var context = CallContext(channelId: channel.id, callId: event.callId, caller: event.caller, called: event.to,
                                      priority: channel.priority, offerTimeoutSeconds: policy.offerTimeoutSeconds)
            context.callbackRetryAfterSeconds = policy.callbackRetryAfterSeconds
            context.callbackAttempts = policy.callbackAttempts
            self.router.commitCall(context, version: state.version, record: transition.record, effects: transition.effects, now: now) { result in
                switch result {
                case .failure(let e):
                    completion(.failure(e))
                case .success(.conflict):
                    guard left > 1 else { return completion(.failure(.unavailable("call \(event.callId) is being updated; retry"))) }
                    self.attempt(event, policy: policy, channel: channel, left: left - 1, completion: completion)
                case .success(.committed(let conversationId, _, let position)):
                    if transition.effects.contains(where: { if case .open = $0 { true } else { false } }) {
                        self.metrics.inbound(channel: channel.id)
                    }
                    completion(.success(.call(conversationId: conversationId,
                                              instruction: Self.withPosition(transition.instruction, position))))
                }
            }
        }
    }

    /// The skill whose logged-in agents decide between queue and voicemail, for the two reports
    /// that can make that choice; nil for the rest (no lookup).
    static func skillAsked(_ event: CallEvent, policy: CallPolicy) -> String? {
        switch event.step {
        case .incoming(let skill): return skill ?? (policy.hasMenu ? nil : policy.defaultSkill)
        case .menuChoice(_, let skill, _): return skill ?? policy.defaultSkill
        default: return nil
        }
    }

    /// Only the incoming call (Twilio's first request, a PBX's `call.incoming`) starts a call.
    static func opensACall(_ event: CallEvent) -> Bool {
        if case .incoming = event.step { return true }
        return false
    }

    /// A call queued just now learns its place from the script that queued it.
    static func withPosition(_ instruction: CallInstruction, _ position: Int?) -> CallInstruction {
        if case .queue(nil, let waited) = instruction, let position { return .queue(position: position, waitedSeconds: waited) }
        return instruction
    }
}
