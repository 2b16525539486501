/// The call state machine (DESIGN §10.5, §7 "Abandon"): what one `CallEvent` does to a call, given
/// what is stored about it. Pure: the server reads the `CallRecord` and the `CallFacts`, applies
/// the result's effects and writes the new record in one step, and answers with the instruction.
///
///     ringing ─▶ menu ─▶ queued ⇄ offered ─▶ bridged ─▶ ended (completed: wrap-up with talk time)
///        │         │        │  └─ voicemail_after, queue failure ─▶ voicemail ─▶ recording ─▶ call-back task
///        │         │        └─ hang-up ─▶ ended (abandon; short under `shortAbandonSeconds`)
///        │         ├─ hang-up ─▶ ended (closed unqueued: never offered, not an abandon)
///        └─────────┴─ no agent logged in and voicemail_when_no_agents ─▶ voicemail
///
/// Platforms deliver reports late, twice and out of order (Twilio retries a webhook it got no
/// answer for; status callbacks race the TwiML requests). So: a report seen before (`reportId`)
/// changes nothing; an ended call stays ended (an `answered` after `completed` is history, not a
/// resurrection); a repeated `incoming` answers what the call is doing now; a wait poll after the
/// call left the queue never puts it back.
public enum CallLifecycle {
    public static func apply(_ event: CallEvent, to stored: CallRecord?, facts: CallFacts, policy: CallPolicy) -> CallTransition {
        var record = stored ?? CallRecord(phase: .ringing, startedAt: facts.now)
        if let report = event.reportId, record.seenReports.contains(report) {
            return unchanged(record, stored, facts)
        }
        var effects: [CallEffect] = []
        let instruction: CallInstruction

        switch event.step {
        case .incoming(let chosen):
            guard stored == nil || record.phase == .ringing else {
                // The platform retried the incoming webhook: answer what the call is doing now.
                return unchanged(record, stored, facts)
            }
            if policy.voicemailWhenNoAgents, !facts.agentsLoggedIn, chosen != nil || !policy.hasMenu {
                record.phase = .voicemail
                effects.append(.open(skill: chosen ?? policy.defaultSkill, enqueue: false))
            } else if let chosen {
                // The PBX ran its own IVR: queue for its choice at once.
                enqueue(&record, skill: chosen, facts: facts)
                effects.append(.open(skill: chosen, enqueue: true))
            } else if policy.hasMenu {
                record.phase = .menu
                record.menuAttempts = 1
                effects.append(.open(skill: policy.defaultSkill, enqueue: false))
            } else {
                enqueue(&record, skill: policy.defaultSkill, facts: facts)
                effects.append(.open(skill: policy.defaultSkill, enqueue: true))
            }
            instruction = current(record, facts)

        case .menuChoice(_, let skill, let attempt):
            guard record.phase == .menu else { return unchanged(record, stored, facts) }
            // An answer to an earlier playing of the menu (the platform retried the request) is
            // not a second miss.
            if let attempt, attempt < record.menuAttempts { return unchanged(record, stored, facts) }
            if let skill {
                effects += route(&record, skill: skill, facts: facts, policy: policy)
            } else if record.menuAttempts < policy.menuAttempts {
                record.menuAttempts += 1
            } else {
                // A digit outside the menu, again: the default skill (issue 10 "Bad input").
                effects += route(&record, skill: policy.defaultSkill, facts: facts, policy: policy)
            }
            instruction = current(record, facts)

        case .waiting:
            // Not once an agent has accepted: the caller is about to be connected.
            if record.phase == .queued || record.phase == .offered, facts.conversationStatus != .assigned,
               let after = policy.voicemailAfterSeconds, let queuedAt = record.queuedAt,
               facts.now - queuedAt >= Int64(after) * 1000 {
                record.phase = .voicemail
                effects.append(.divertToVoicemail)
            }
            instruction = current(record, facts)

        case .queueFailed:
            guard record.phase == .queued || record.phase == .offered, facts.conversationStatus != .assigned else {
                return unchanged(record, stored, facts)
            }
            record.phase = .voicemail
            effects.append(.divertToVoicemail)
            instruction = current(record, facts)

        case .answered:
            guard record.phase == .offered || record.phase == .queued, facts.conversationStatus == .assigned else {
                return unchanged(record, stored, facts)
            }
            record.phase = .bridged
            record.bridgedAt = facts.now
            instruction = .acknowledge

        case .bridgeFailed:
            guard record.phase == .queued || record.phase == .offered, facts.conversationStatus == .assigned else {
                return unchanged(record, stored, facts)
            }
            record.phase = .queued
            record.bridgeMisses = (record.bridgeMisses ?? 0) + 1
            effects.append(.requeue)
            // Back on hold; the position is the requeued one (the server fills it in).
            instruction = .queue(position: nil, waitedSeconds: waitedSeconds(record, until: facts.now))

        case .bridgeCompleted:
            instruction = record.phase == .ended ? .hangup(reason: "the call has ended") : .hangup(reason: "the agent's call ended")

        case .agentLegEnded(let duration):
            guard record.phase == .bridged, let duration else { return unchanged(record, stored, facts) }
            record.talkSeconds = duration
            instruction = .acknowledge

        case .ended(_, _, let queueSeconds):
            switch record.phase {
            case .ended:
                return unchanged(record, stored, facts)
            case .bridged:
                // The agent leg's own duration when it came first; else the clock since the
                // bridge (not the call's duration, which includes the greeting, menu and wait).
                let talk = record.talkSeconds ?? Int(max(0, facts.now - (record.bridgedAt ?? facts.now)) / 1000)
                effects.append(.closeIntoWrapup(talkSeconds: talk, connected: true))
            case .voicemail:
                // The recording's callback often comes after the call's end (Twilio posts it once
                // the file is ready): `addVoicemail` reopens the conversation then.
                if !record.hasVoicemail { effects.append(.closeUnqueued(reason: "no-voicemail")) }
            case .queued where facts.conversationStatus == .assigned, .offered where facts.conversationStatus == .assigned:
                // The agent accepted, and the caller was gone before the bridge came up (or its
                // `answered` is still on the way, and then the clock since acceptance is unknown).
                effects.append(.closeIntoWrapup(talkSeconds: 0, connected: false))
            case .queued, .offered:
                effects.append(abandon(record, queueSeconds: queueSeconds, facts: facts, policy: policy))
            case .ringing, .menu:
                effects.append(.closeUnqueued(reason: "menu"))
            }
            record.phase = .ended
            record.endedAt = facts.now
            instruction = .acknowledge

        case .recording(let recording):
            guard record.wentToVoicemail, !record.hasVoicemail else { return unchanged(record, stored, facts) }
            record.hasVoicemail = true
            effects.append(.addVoicemail(recording))
            instruction = .hangup(reason: "voicemail recorded")

        case .transcription(let recordingId, let text):
            guard record.hasVoicemail else { return unchanged(record, stored, facts) }
            effects.append(.addTranscript(recordingId: recordingId, text: text))
            instruction = .acknowledge
        }
        if record.phase == .voicemail { record.wentToVoicemail = true }
        // A report is remembered only when it was applied: one refused now (an `answered` before
        // the agent's acceptance is stored) may be sent again and count then.
        if let report = event.reportId { record.seenReports.insert(report) }
        return CallTransition(record: record, effects: effects, instruction: instruction, changed: record != stored || !effects.isEmpty)
    }

    /// The IVR chose `skill`: queue the call, or voicemail at once when nobody with the skill is
    /// logged in and the channel says so.
    private static func route(_ record: inout CallRecord, skill: String, facts: CallFacts, policy: CallPolicy) -> [CallEffect] {
        if policy.voicemailWhenNoAgents, !facts.agentsLoggedIn {
            record.phase = .voicemail
            return []
        }
        enqueue(&record, skill: skill, facts: facts)
        return [.enqueue(skill: skill)]
    }

    private static func enqueue(_ record: inout CallRecord, skill: String, facts: CallFacts) {
        record.phase = .queued
        record.skill = skill
        record.queuedAt = facts.now
    }

    private static func abandon(_ record: CallRecord, queueSeconds: Int?, facts: CallFacts, policy: CallPolicy) -> CallEffect {
        // The platform's QueueTime when it sent one; else our own clock from the enqueue.
        let waited = queueSeconds ?? waitedSeconds(record, until: facts.now)
        return .abandon(queueSeconds: waited, short: waited < policy.shortAbandonSeconds)
    }

    private static func waitedSeconds(_ record: CallRecord, until now: Int64) -> Int {
        guard let queuedAt = record.queuedAt else { return 0 }
        return Int(max(0, now - queuedAt) / 1000)
    }

    private static func unchanged(_ record: CallRecord, _ stored: CallRecord?, _ facts: CallFacts) -> CallTransition {
        CallTransition(record: record, effects: [], instruction: current(record, facts), changed: record != stored)
    }

    /// What the call should be doing in its present phase: the answer to a repeated or late request.
    static func current(_ record: CallRecord, _ facts: CallFacts) -> CallInstruction {
        switch record.phase {
        case .ringing, .menu: return .menu(attempt: max(1, record.menuAttempts))
        case .queued, .offered:
            // Accepted, and the caller still on hold: the update-call request did not take (or has
            // not yet); this request moves the caller to the agent instead.
            if facts.conversationStatus == .assigned, let endpoint = facts.agentEndpoint { return .bridge(endpoint: endpoint) }
            return .queue(position: facts.queuePosition, waitedSeconds: waitedSeconds(record, until: facts.now))
        case .voicemail: return record.hasVoicemail ? .hangup(reason: "voicemail recorded") : .voicemail
        // The bridge is up: the platform is busy with the `<Dial>`, nothing to add.
        case .bridged: return .acknowledge
        case .ended: return .hangup(reason: "the call has ended")
        }
    }
}

/// One call's stored state (DESIGN §10.5).
public struct CallRecord: Sendable, Equatable, Codable {
    public var phase: CallPhase
    /// Milliseconds since the epoch.
    public var startedAt: Int64
    public var queuedAt: Int64?
    public var bridgedAt: Int64?
    public var endedAt: Int64?
    public var skill: String?
    public var menuAttempts = 0
    /// The agent leg's duration, when its end was reported before the call's.
    public var talkSeconds: Int?
    /// Times an accepting agent did not answer the bridge (the call went back to the queue).
    public var bridgeMisses: Int?
    public var wentToVoicemail = false
    public var hasVoicemail = false
    /// Reports already applied (`CallEvent.reportId`).
    public var seenReports: Set<String> = []

    public init(phase: CallPhase, startedAt: Int64) {
        self.phase = phase
        self.startedAt = startedAt
    }
}

public enum CallPhase: String, Sendable, Equatable, Codable, CaseIterable {
    case ringing, menu, queued, offered, bridged, voicemail, ended
}

/// What the store knows at the moment of the decision, read with the record.
public struct CallFacts: Sendable, Equatable {
    /// Milliseconds since the epoch.
    public var now: Int64
    public var conversationStatus: ConversationStatus?
    /// 1 for the next call to be answered; nil when not queued.
    public var queuePosition: Int?
    /// Whether anyone with the call's skill is logged in (for `voicemail_when_no_agents`).
    public var agentsLoggedIn: Bool
    /// The endpoint of the agent who accepted the call (`agents[].phone` or `sip`), once one has.
    public var agentEndpoint: String?

    public init(now: Int64, conversationStatus: ConversationStatus? = nil, queuePosition: Int? = nil, agentsLoggedIn: Bool = true,
                agentEndpoint: String? = nil) {
        self.now = now
        self.conversationStatus = conversationStatus
        self.queuePosition = queuePosition
        self.agentsLoggedIn = agentsLoggedIn
        self.agentEndpoint = agentEndpoint
    }
}

/// The channel's call settings the lifecycle needs.
public struct CallPolicy: Sendable, Equatable {
    public var defaultSkill: String
    public var hasMenu: Bool
    /// How many times the menu plays before a digit outside it means the default skill (the
    /// first time and one repeat).
    public var menuAttempts: Int
    /// Seconds in the queue after which the caller is offered voicemail (nil: never).
    public var voicemailAfterSeconds: Int?
    public var voicemailWhenNoAgents: Bool
    /// Abandons under this many seconds are counted apart (DESIGN §7: 5 s, as centres do).
    public var shortAbandonSeconds: Int
    /// How long a call's offer rings before it goes to the next agent (`voice_offer_timeout`; nil:
    /// the broker's offer timeout). Not the state machine's: kept on the conversation when opened.
    public var offerTimeoutSeconds: Int?
    /// A voicemail's call-back task: how long after an unanswered call-back it comes back, and how
    /// many tries it gets (`callback_retry_after`, `callback_attempts`). Kept on the task.
    public var callbackRetryAfterSeconds: Int
    public var callbackAttempts: Int
    /// The platform reaches agents by SIP first (a PBX); Twilio dials their phone first.
    public var prefersSIP: Bool

    public init(defaultSkill: String, hasMenu: Bool = false, menuAttempts: Int = 2, voicemailAfterSeconds: Int? = 120,
                voicemailWhenNoAgents: Bool = true, shortAbandonSeconds: Int = 5, offerTimeoutSeconds: Int? = nil,
                callbackRetryAfterSeconds: Int = 1800, callbackAttempts: Int = 3, prefersSIP: Bool = false) {
        self.prefersSIP = prefersSIP
        self.offerTimeoutSeconds = offerTimeoutSeconds
        self.callbackRetryAfterSeconds = callbackRetryAfterSeconds
        self.callbackAttempts = callbackAttempts
        self.defaultSkill = defaultSkill
        self.hasMenu = hasMenu
        self.menuAttempts = menuAttempts
        self.voicemailAfterSeconds = voicemailAfterSeconds
        self.voicemailWhenNoAgents = voicemailWhenNoAgents
        self.shortAbandonSeconds = shortAbandonSeconds
    }
}

/// The result of one `CallLifecycle.apply`: the record to store (only when `changed`), the
/// effects to apply with it, and the answer to the platform.
public struct CallTransition: Sendable, Equatable {
    public var record: CallRecord
    public var effects: [CallEffect]
    public var instruction: CallInstruction
    public var changed: Bool
}
