import Foundation
import SwitchboardCore

/// What `call_state` read about one phone call: the stored record and version, and the facts the
/// call state machine decides on (DESIGN §10.5).
public struct CallState: Sendable, Equatable {
    public var record: CallRecord?
    /// What `commitCall` must be given back: the write happens only if nothing changed since.
    public var version: Int
    public var conversationId: String?
    public var status: ConversationStatus?
    public var assignee: String?
    /// 1 for the next call to be answered, while queued.
    public var position: Int?
    /// Whether anyone with the asked skill is logged in (true when no skill was asked).
    public var agentsLoggedIn: Bool
}

/// What storing a call's transition did.
public enum CallCommitOutcome: Sendable, Equatable {
    case committed(conversationId: String?, status: ConversationStatus?, position: Int?)
    /// Another report of the same call was stored since `callState`: read and decide again.
    case conflict
}

/// What a call's effects need beyond themselves: who called, which number, and the channel's ring
/// time for its offers.
public struct CallContext: Sendable, Equatable {
    public var channelId: String
    public var callId: String
    public var caller: Identity
    public var called: String?
    public var priority: Int
    /// `voice_offer_timeout`, in seconds (nil: the broker's offer timeout).
    public var offerTimeoutSeconds: Int?
    /// Kept on a voicemail's call-back task (`callback_retry_after`, `callback_attempts`).
    public var callbackRetryAfterSeconds: Int = 1800
    public var callbackAttempts: Int = 3

    public init(channelId: String, callId: String, caller: Identity, called: String?, priority: Int = 0, offerTimeoutSeconds: Int?) {
        self.channelId = channelId
        self.callId = callId
        self.caller = caller
        self.called = called
        self.priority = priority
        self.offerTimeoutSeconds = offerTimeoutSeconds
    }
}

extension Router {
    /// Reads a call's record and facts (`call_state`). `skill`: the skill whose logged-in agents
    /// matter for this decision (an incoming call, a menu answer), else nil to skip that lookup.
    public func callState(channelId: String, callId: String, skill: String?, now: Int64,
                          completion: @escaping (Result<CallState, StoreError>) -> Void) {
        run("call_state", now: now, [channelId, callId, skill ?? ""]) { result in
            completion(result.flatMap { Self.decode(CallStateWire.self, $0) }.flatMap { w in
                var record: CallRecord?
                if let text = w.record {
                    do { record = try JSONDecoder().decode(CallRecord.self, from: Data(text.utf8)) } catch {
                        return .failure(.internal("call \(callId): unreadable record: \(error)"))
                    }
                }
                return .success(CallState(record: record, version: w.version, conversationId: w.conversationId,
                                          status: w.status.flatMap(ConversationStatus.init(rawValue:)), assignee: w.assignee,
                                          position: w.position, agentsLoggedIn: w.agents ?? true))
            })
        }
    }

    /// Applies `effects` and stores `record` in one script call (`voice_call`), if the call is still
    /// at `version`.
    public func commitCall(_ context: CallContext, version: Int, record: CallRecord, effects: [CallEffect], now: Int64,
                           completion: @escaping (Result<CallCommitOutcome, StoreError>) -> Void) {
        let recordJSON: String
        let effectsJSON: String
        do {
            recordJSON = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
            effectsJSON = String(decoding: try JSONEncoder().encode(effects.map { CallEffectWire($0, now: now, channelId: context.channelId) }), as: UTF8.self)
        } catch {
            return completion(.failure(.internal("call \(context.callId): cannot encode: \(error)")))
        }
        let offerMs = context.offerTimeoutSeconds.map { String($0 * 1000) } ?? ""
        run("voice_call", now: now, [context.channelId, context.callId, String(version), recordJSON, effectsJSON,
                                     context.caller.address, context.called ?? "", String(context.priority), offerMs,
                                     String(context.callbackRetryAfterSeconds * 1000), String(context.callbackAttempts)]) { result in
            completion(result.flatMap { Self.decode(CallCommitWire.self, $0) }.map { w in
                w.conflict == true ? .conflict
                    : .committed(conversationId: w.conversationId, status: w.status.flatMap(ConversationStatus.init(rawValue:)), position: w.position)
            })
        }
    }

    /// A call's bridge found the caller gone: the accepted call becomes an abandon (`voice_gone`).
    /// Succeeds with whether it changed anything.
    public func callGone(conversationId: String, channelId: String, now: Int64, completion: @escaping (Result<Bool, StoreError>) -> Void) {
        run("voice_gone", now: now, [conversationId, channelId]) { completion($0.flatMap(Self.flag)) }
    }

    /// `callback.outcome` by the task's assignee (`voice_callback`). Answers the conversation JSON.
    public func callbackOutcome(agentId: String, conversationId: String, outcome: CallbackOutcome, note: String?, now: Int64,
                                completion: @escaping (Result<String, StoreError>) -> Void) {
        run("voice_callback", now: now, [agentId, conversationId, outcome.rawValue, note ?? ""]) { completion($0.flatMap(Self.text)) }
    }

    private struct CallStateWire: Decodable {
        var version: Int
        var record: String?
        var conversationId: String?
        var status: String?
        var assignee: String?
        var position: Int?
        var agents: Bool?
    }

    private struct CallCommitWire: Decodable {
        var conflict: Bool?
        var version: Int?
        var conversationId: String?
        var status: String?
        var position: Int?
    }
}

/// One `CallEffect` as `voice_call` reads it, with the message it appends to the conversation's
/// thread, so the agent sees the call's course: 来电, the voicemail, its transcript, the end.
struct CallEffectWire: Encodable {
    var t: String
    var skill: String?
    var enqueue: Bool?
    var wait: Int?
    var short: Bool?
    var reason: String?
    var talk: Int?
    var connected: Bool?
    var id: String?
    var url: String?
    var duration: Int?
    var body: String?

    init(_ effect: CallEffect, now: Int64, channelId: String) {
        func body(_ direction: Message.Direction, _ author: Message.Author, _ part: MessagePart) -> String {
            let message = StoreMessageBody(direction: direction, author: author, authorId: nil, authorName: nil, parts: [part],
                                           externalId: nil, clientId: nil, createdAt: now)
            // Parts of a call never hold a non-finite number, the one way encoding fails.
            return (try? JSONEncoder().encode(message)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        }
        switch effect {
        case .open(let skill, let enqueue):
            self.init(t: "open", skill: skill, enqueue: enqueue, body: body(.in, .contact, .call(event: "incoming", duration: nil, recordingUrl: nil)))
        case .enqueue(let skill):
            self.init(t: "enqueue", skill: skill)
        case .divertToVoicemail:
            self.init(t: "divert")
        case .requeue:
            self.init(t: "requeue", body: body(.in, .system, .call(event: "agent-missed", duration: nil, recordingUrl: nil)))
        case .abandon(let wait, let short):
            self.init(t: "abandon", wait: wait, short: short)
        case .closeUnqueued(let reason):
            self.init(t: "close_unqueued", reason: reason, body: body(.in, .system, .call(event: "ended-" + reason, duration: nil, recordingUrl: nil)))
        case .closeIntoWrapup(let talk, let connected):
            self.init(t: "wrapup", talk: talk, connected: connected,
                      body: body(.in, .system, .call(event: connected ? "completed" : "not-connected", duration: talk, recordingUrl: nil)))
        case .addVoicemail(let recording):
            // The thread names the broker's proxy, never the platform's URL (it needs the account's credentials).
            let proxy = MediaReference.recordingURL(channelId: channelId, recordingId: recording.recordingId)
            self.init(t: "voicemail", id: recording.recordingId, url: recording.url, duration: recording.durationSeconds,
                      body: body(.in, .contact, .voicemail(recordingUrl: proxy, transcript: nil)))
        case .addTranscript(let recordingId, let text):
            self.init(t: "transcript", id: recordingId, body: body(.in, .system, .text("留言转写：" + text)))
        }
    }

    private init(t: String, skill: String? = nil, enqueue: Bool? = nil, wait: Int? = nil, short: Bool? = nil, reason: String? = nil,
                 talk: Int? = nil, connected: Bool? = nil, id: String? = nil, url: String? = nil, duration: Int? = nil, body: String? = nil) {
        self.url = url
        self.duration = duration
        self.t = t
        self.skill = skill
        self.enqueue = enqueue
        self.wait = wait
        self.short = short
        self.reason = reason
        self.talk = talk
        self.connected = connected
        self.id = id
        self.body = body
    }
}
