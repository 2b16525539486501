import Foundation
import XCTest
import SwitchboardCore
@testable import SwitchboardRedis

/// Phone calls through the real scripts (issue 10): each report read with `call_state`, decided by
/// `CallLifecycle`, and stored with `voice_call`, as the server's call service does.
final class RouterCallTests: RouterTestCase {
    let caller = Identity(kind: .voice, address: "+8613800000001")
    let plain = CallPolicy(defaultSkill: "sales", voicemailAfterSeconds: 120)
    let withMenu = CallPolicy(defaultSkill: "sales", hasMenu: true, voicemailAfterSeconds: 120)

    var context: CallContext {
        var c = CallContext(channelId: "hotline", callId: "CA1", caller: caller, called: "+8610690000", offerTimeoutSeconds: 15)
        c.callbackRetryAfterSeconds = 60
        c.callbackAttempts = 2
        return c
    }

    /// One report, as the server applies it. Returns the transition and where the conversation stands.
    @discardableResult
    func report(_ step: CallStep, id: String? = nil, at seconds: Int64, policy: CallPolicy? = nil, endpoint: String? = nil,
                file: StaticString = #filePath, line: UInt = #line) throws -> (CallTransition, CallCommitOutcome?) {
        let policy = policy ?? plain
        let now = T0 + seconds * 1000
        let skill: String? = {
            switch step {
            case .incoming(let s): return s ?? policy.defaultSkill
            case .menuChoice(_, let s, _): return s ?? policy.defaultSkill
            default: return nil
            }
        }()
        let state = try must({ router.callState(channelId: "hotline", callId: "CA1", skill: skill, now: now, completion: $0) }, file: file, line: line)
        let facts = CallFacts(now: now, conversationStatus: state.status, queuePosition: state.position,
                              agentsLoggedIn: state.agentsLoggedIn, agentEndpoint: endpoint)
        let transition = CallLifecycle.apply(CallEvent(callId: "CA1", caller: caller, to: "+8610690000", reportId: id, step: step),
                                             to: state.record, facts: facts, policy: policy)
        guard transition.changed else { return (transition, nil) }
        let outcome = try must({ router.commitCall(context, version: state.version, record: transition.record, effects: transition.effects,
                                                   now: now, completion: $0) }, file: file, line: line)
        return (transition, outcome)
    }

    func conversationId() throws -> String {
        try XCTUnwrap(hget(keys(.call, "hotline", "CA1"), "conv"))
    }

    func thread(_ conv: String) -> [String] {
        let entries = redis.run("XRANGE", keys(.log, conv), "-", "+").array ?? []
        return entries.compactMap { $0.array?.last?.array?.last?.string }
    }

    func voiceAgent(_ id: String = "a1", at offset: Int64 = 0) throws {
        try sync([agentConfig(id, skills: ["sales": 1], capacity: [.voice: 1, .webchat: 2])])
        try online(id, at: offset)
    }

    func testACallIsOfferedForFifteenSecondsBridgedAndClosedIntoWrapUpWithItsTalkTime() throws {
        try voiceAgent()
        let (incoming, opened) = try report(.incoming(skill: nil), at: 10)
        let conv = try conversationId()
        XCTAssertEqual(incoming.effects, [.open(skill: "sales", enqueue: true)])
        guard case .committed(conv, .offered, nil)? = opened else { return XCTFail("\(String(describing: opened))") }
        XCTAssertEqual(hget(convKey(conv), "kind"), "voice")
        XCTAssertEqual(hget(convKey(conv), "callId"), "CA1")
        XCTAssertEqual(hget(convKey(conv), "replyFrom"), "+8610690000")
        let offer = try offerId(conv)
        XCTAssertEqual(hget(keys(.offer, offer), "deadline"), String(T0 + 25_000), "voice_offer_timeout, not the broker's 20 s")
        XCTAssertEqual(thread(conv).count, 1)
        XCTAssertTrue(thread(conv)[0].contains(#""event":"incoming""#), thread(conv)[0])

        try accept("a1", conv, at: 18_000)
        let (answered, _) = try report(.answered, id: "agent:CA2:1", at: 19)
        XCTAssertEqual(answered.record.phase, .bridged)
        try report(.agentLegEnded(durationSeconds: 95), id: "agent:CA2:2", at: 114)
        let (done, closed) = try report(.ended(.completed, durationSeconds: 104, queueSeconds: nil), id: "call:4", at: 114)
        XCTAssertEqual(done.effects, [.closeIntoWrapup(talkSeconds: 95, connected: true)])
        guard case .committed(conv, .wrapup, _)? = closed else { return XCTFail("\(String(describing: closed))") }
        XCTAssertEqual(hget(convKey(conv), "talkSeconds"), "95")
        XCTAssertEqual(load("a1", .voice), 1, "wrap-up keeps the agent's voice capacity until it ends")
        // The same status callback again: nothing twice.
        let (again, stored) = try report(.ended(.completed, durationSeconds: 104, queueSeconds: nil), id: "call:4", at: 115)
        XCTAssertEqual(again.effects, [])
        XCTAssertNil(stored)
        XCTAssertEqual(thread(conv).count, 2)
    }

    func testAHangUpWhileQueuedIsAnAbandonAndShortOnesAreCountedApart() throws {
        try sync([agentConfig("a1", skills: ["sales": 1], capacity: [.voice: 1])])
        _ = try must { router.connect(agentId: "a1", node: "n1", now: T0, completion: $0) }
        _ = try must { router.setPresence(agentId: "a1", status: .away, reason: "lunch", now: T0, completion: $0) }
        let (_, queued) = try report(.incoming(skill: nil), at: 0)
        guard case .committed(_, .queued, 1)? = queued else { return XCTFail("logged in but away: queued, first in line; \(String(describing: queued))") }
        let conv = try conversationId()
        try report(.ended(.completed, durationSeconds: 3, queueSeconds: 3), id: "queue-hangup", at: 3)
        XCTAssertEqual(status(conv), "abandoned")
        XCTAssertEqual(hget(convKey(conv), "abandonWait"), "3")
        XCTAssertEqual(hget(convKey(conv), "shortAbandon"), "1")
        XCTAssertEqual(counter("abandoned"), 1)
        XCTAssertEqual(counter("abandoned_short"), 1)
        XCTAssertEqual(zrange(queueKey("sales")), [])
    }

    func testNobodyLoggedInIsVoicemailAndTheRecordingReopensTheCallAsACallBackTask() throws {
        try sync([agentConfig("a1", skills: ["sales": 1], capacity: [.voice: 1])])
        let (incoming, _) = try report(.incoming(skill: nil), at: 0)
        XCTAssertEqual(incoming.instruction, .voicemail)
        let conv = try conversationId()
        XCTAssertEqual(status(conv), "bot", "not waiting for a human")
        // The caller hangs up after recording; Twilio's status callback comes before the recording's.
        try report(.ended(.completed, durationSeconds: 40, queueSeconds: nil), id: "call:3", at: 40)
        XCTAssertEqual(status(conv), "closed")
        XCTAssertEqual(counter("abandoned"), 0, "never queued: not an abandon")
        let recording = VoicemailRecording(recordingId: "RE1", url: "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1", durationSeconds: 30)
        try report(.recording(recording), id: "recording:RE1", at: 45)
        XCTAssertEqual(status(conv), "queued", "a call-back task for the next agent")
        XCTAssertEqual(hget(convKey(conv), "callback"), "1")
        XCTAssertEqual(zrange(queueKey("sales")), [conv])
        try report(.transcription(recordingId: "RE1", text: "路灯坏了"), id: "transcription:RE1", at: 60)
        XCTAssertTrue(thread(conv).last?.contains("留言转写：路灯坏了") == true)
        XCTAssertTrue(thread(conv).contains { $0.contains(#""type":"voicemail""#) })
    }

    func testAHangUpInTheMenuClosesTheCallUnqueuedAndWaitingPastTheLimitDivertsTheOffer() throws {
        try voiceAgent()
        try report(.incoming(skill: nil), at: 0, policy: withMenu)
        let conv = try conversationId()
        XCTAssertEqual(status(conv), "bot")
        try report(.ended(.completed, durationSeconds: 7, queueSeconds: nil), id: "call:2", at: 7, policy: withMenu)
        XCTAssertEqual(status(conv), "closed")
        XCTAssertEqual(hget(convKey(conv), "closeReason"), "menu")
        XCTAssertEqual(counter("abandoned"), 0)
    }

    func testWaitingPastVoicemailAfterRescindsTheOffer() throws {
        try voiceAgent()
        try report(.incoming(skill: nil), at: 0)
        let conv = try conversationId()
        XCTAssertEqual(offeredTo(conv), "a1")
        let (wait, _) = try report(.waiting, at: 121)
        XCTAssertEqual(wait.effects, [.divertToVoicemail])
        XCTAssertEqual(status(conv), "bot")
        XCTAssertEqual(load("a1", .voice), 0, "the reservation is released")
        XCTAssertTrue(events("a1").contains { ($0["type"] as? String) == "offer.rescinded" && ($0["reason"] as? String) == "voicemail" })
    }

    func testOnACallAnAgentGetsNoChatUnlessConfiguredNotExclusive() throws {
        var exclusive = agentConfig("a1", skills: ["sales": 1], capacity: [.voice: 1, .webchat: 2])
        exclusive.phone = "+8613900000001"
        var shared = agentConfig("a2", skills: ["sales": 1], capacity: [.voice: 1, .webchat: 2])
        shared.sip = "sip:1002@pbx.example"
        shared.voiceExclusive = false
        try sync([exclusive, shared])
        try online("a1", at: 1)
        try online("a2", at: 2)
        // Both on a call (a1 first: the longest idle; then a2).
        for (call, agent, at) in [("CA1", "a1", Int64(10)), ("CA2", "a2", Int64(11))] {
            let ctx = CallContext(channelId: "hotline", callId: call, caller: caller, called: nil, offerTimeoutSeconds: 15)
            let t = CallLifecycle.apply(CallEvent(callId: call, caller: caller, step: .incoming(skill: nil)), to: nil,
                                        facts: CallFacts(now: T0 + at * 1000), policy: plain)
            _ = try must { router.commitCall(ctx, version: 0, record: t.record, effects: t.effects, now: T0 + at * 1000, completion: $0) }
            let conv = try XCTUnwrap(hget(keys(.call, "hotline", call), "conv"))
            XCTAssertEqual(offeredTo(conv), agent)
            try accept(agent, conv, at: at * 1000 + 500)
        }
        conversation("chat1", queuedAt: 20_000)
        _ = try enqueue("chat1", at: 20_000)
        XCTAssertEqual(offeredTo("chat1"), "a2", "a1 is on a call and exclusive; a2 is not")
    }

    func testAHangUpWhileOfferedRescindsTheOfferAndFreesTheAgent() throws {
        try voiceAgent()
        try report(.incoming(skill: nil), at: 0)
        let conv = try conversationId()
        let offer = try offerId(conv)
        XCTAssertEqual(load("a1", .voice), 1)
        try report(.ended(.completed, durationSeconds: 9, queueSeconds: 9), id: "queue-hangup", at: 9)
        XCTAssertEqual(status(conv), "abandoned")
        XCTAssertEqual(load("a1", .voice), 0)
        XCTAssertTrue(events("a1").contains { ($0["type"] as? String) == "offer.rescinded" && ($0["offerId"] as? String) == offer
            && ($0["reason"] as? String) == "abandoned" })
        XCTAssertEqual(hget(convKey(conv), "shortAbandon"), nil, "9 s is not a short abandon")
    }

    func testAnUnreachedCallBackComesBackAfterTheRetryTimeUntilItsAttemptsAreSpent() throws {
        try sync([agentConfig("a1", skills: ["sales": 1], capacity: [.voice: 1])])
        try report(.incoming(skill: nil), at: 0)   // nobody logged in: voicemail
        let conv = try conversationId()
        try report(.recording(VoicemailRecording(recordingId: "RE1", url: "https://api.twilio.com/r/RE1", durationSeconds: 20)),
                   id: "recording:RE1", at: 30)
        try online("a1", at: 40_000)
        XCTAssertEqual(offeredTo(conv), "a1", "the call-back task is offered like a call")
        try accept("a1", conv, at: 41_000)
        XCTAssertEqual(counter("calls:answered:hotline"), 0, "a call-back task is not a call answered")

        let first = try must { router.callbackOutcome(agentId: "a1", conversationId: conv, outcome: .unreached, note: "无人接听",
                                                      now: T0 + 50_000, completion: $0) }
        XCTAssertTrue(first.contains(#""status":"bot""#), first)
        XCTAssertEqual(status(conv), "bot")
        XCTAssertEqual(load("a1", .voice), 0, "the agent is free for other calls meanwhile")
        XCTAssertEqual(zscore(keys(.callbacks), conv), Double(T0 + 110_000))
        _ = try sweep(at: 109_000)
        XCTAssertEqual(status(conv), "bot", "not before callback_retry_after")
        _ = try sweep(at: 110_000)
        XCTAssertEqual(offeredTo(conv), "a1", "queued again and offered")
        try accept("a1", conv, at: 111_000)
        XCTAssertEqual(errorCode { router.callbackOutcome(agentId: "a2", conversationId: conv, outcome: .reached, note: nil,
                                                         now: T0 + 112_000, completion: $0) }, "forbidden")
        _ = try must { router.callbackOutcome(agentId: "a1", conversationId: conv, outcome: .unreached, note: nil,
                                             now: T0 + 120_000, completion: $0) }
        XCTAssertEqual(status(conv), "wrapup", "the second of callback_attempts 2: closed")
        XCTAssertEqual(hget(convKey(conv), "cbAttempts"), "2")
        XCTAssertEqual(hget(convKey(conv), "cbOutcome"), "unreached")
        XCTAssertEqual(zrange(keys(.callbacks)), [])
        XCTAssertEqual(thread(conv).filter { $0.contains("callback-unreached") }.count, 2)
    }

    func testAReachedCallBackClosesWithTheNote() throws {
        try sync([agentConfig("a1", skills: ["sales": 1], capacity: [.voice: 1])])
        try report(.incoming(skill: nil), at: 0)
        let conv = try conversationId()
        try report(.recording(VoicemailRecording(recordingId: "RE1", url: "https://api.twilio.com/r/RE1", durationSeconds: 20)),
                   id: "recording:RE1", at: 30)
        try online("a1", at: 40_000)
        try accept("a1", conv, at: 41_000)
        // A note past the disposition's 500 bytes is refused before anything is written.
        XCTAssertEqual(errorCode { router.callbackOutcome(agentId: "a1", conversationId: conv, outcome: .reached,
                                                         note: String(repeating: "长", count: 200), now: T0 + 50_000, completion: $0) }, "bad_request")
        XCTAssertNil(hget(convKey(conv), "cbAttempts"))
        _ = try must { router.callbackOutcome(agentId: "a1", conversationId: conv, outcome: .reached, note: "已告知办理流程",
                                             now: T0 + 60_000, completion: $0) }
        XCTAssertEqual(status(conv), "wrapup")
        XCTAssertEqual(hget(convKey(conv), "disposition"), "已告知办理流程")
        XCTAssertEqual(hget(convKey(conv), "cbAttempts"), "1")
        XCTAssertEqual(errorCode { router.callbackOutcome(agentId: "a1", conversationId: conv, outcome: .reached, note: nil,
                                                         now: T0 + 61_000, completion: $0) }, "conflict")
    }

    func testAnAgentWhoDoesNotAnswerTheBridgeLosesTheCallToTheNextAgent() throws {
        var a1 = agentConfig("a1", skills: ["sales": 1], capacity: [.voice: 1])
        a1.phone = "+8613900000001"
        var a2 = agentConfig("a2", skills: ["sales": 1], capacity: [.voice: 1])
        a2.phone = "+8613900000002"
        try sync([a1, a2])
        try online("a1", at: 1)
        try report(.incoming(skill: nil), at: 0)
        let conv = try conversationId()
        XCTAssertEqual(offeredTo(conv), "a1")
        try accept("a1", conv, at: 2_000)
        try online("a2", at: 3_000)
        let (missed, outcome) = try report(.bridgeFailed, id: "dial:CAd1", at: 25)
        XCTAssertEqual(missed.effects, [.requeue])
        guard case .committed(conv, .offered, _)? = outcome else { return XCTFail("\(String(describing: outcome))") }
        XCTAssertEqual(offeredTo(conv), "a2", "declined by a1, so a2 first")
        XCTAssertEqual(load("a1", .voice), 0)
        XCTAssertEqual(counter("calls:agent_missed:hotline"), 1)
        XCTAssertTrue(thread(conv).contains { $0.contains("agent-missed") })
    }

    func testACallerGoneBeforeTheBridgeMakesTheAcceptedCallAnAbandon() throws {
        try voiceAgent()
        try report(.incoming(skill: nil), at: 0)
        let conv = try conversationId()
        try accept("a1", conv, at: 4_000)
        XCTAssertEqual(try must { router.callGone(conversationId: conv, channelId: "hotline", now: T0 + 5_000, completion: $0) }, true)
        XCTAssertEqual(status(conv), "abandoned")
        XCTAssertEqual(load("a1", .voice), 0, "the agent is free for the next call")
        XCTAssertEqual(counter("calls:abandoned:hotline"), 1)
        // Twilio's status callback follows: nothing counted twice.
        try report(.ended(.completed, durationSeconds: 6, queueSeconds: nil), id: "call:3", at: 6)
        XCTAssertEqual(counter("abandoned"), 1)
        XCTAssertEqual(try must { router.callGone(conversationId: conv, channelId: "hotline", now: T0 + 7_000, completion: $0) }, false)
    }

    func testAStaleVersionIsAConflictAndWritesNothing() throws {
        try voiceAgent()
        try report(.incoming(skill: nil), at: 0)
        let record = CallRecord(phase: .ended, startedAt: T0)
        let outcome = try must { router.commitCall(context, version: 0, record: record, effects: [.abandon(queueSeconds: 1, short: true)],
                                                   now: T0 + 1000, completion: $0) }
        XCTAssertEqual(outcome, .conflict)
        XCTAssertEqual(status(try conversationId()), "offered")
    }
}
