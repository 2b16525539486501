import XCTest
@testable import SwitchboardCore

/// The call state machine (DESIGN §10.5; issue 10): the happy path, the IVR, abandons, voicemail,
/// and the orders platforms really deliver reports in.
final class CallLifecycleTests: XCTestCase {
    let caller = Identity(kind: .voice, address: "+8613800000001")
    let plain = CallPolicy(defaultSkill: "general", voicemailAfterSeconds: 120)
    let withMenu = CallPolicy(defaultSkill: "general", hasMenu: true, voicemailAfterSeconds: 120)
    let t0: Int64 = 1_764_790_000_000

    func event(_ step: CallStep, report: String? = nil) -> CallEvent {
        CallEvent(callId: "CA1", caller: caller, to: "+8610690000", reportId: report, step: step)
    }

    func facts(_ seconds: Int64, _ status: ConversationStatus? = .queued, position: Int? = 1, agents: Bool = true) -> CallFacts {
        CallFacts(now: t0 + seconds * 1000, conversationStatus: status, queuePosition: position, agentsLoggedIn: agents)
    }

    func testRingingQueuedOfferedBridgedCompleted() {
        let incoming = CallLifecycle.apply(event(.incoming(skill: nil)), to: nil, facts: facts(0, nil, position: nil), policy: plain)
        XCTAssertEqual(incoming.effects, [.open(skill: "general", enqueue: true)])
        XCTAssertEqual(incoming.record.phase, .queued)
        XCTAssertEqual(incoming.instruction, .queue(position: nil, waitedSeconds: 0))

        let wait = CallLifecycle.apply(event(.waiting), to: incoming.record, facts: facts(30, .offered, position: 1), policy: plain)
        XCTAssertEqual(wait.effects, [])
        XCTAssertEqual(wait.instruction, .queue(position: 1, waitedSeconds: 30))

        let answered = CallLifecycle.apply(event(.answered, report: "1"), to: wait.record, facts: facts(40, .assigned), policy: plain)
        XCTAssertEqual(answered.record.phase, .bridged)
        XCTAssertEqual(answered.record.bridgedAt, t0 + 40_000)

        let done = CallLifecycle.apply(event(.ended(.completed, durationSeconds: 160, queueSeconds: nil), report: "2"),
                                       to: answered.record, facts: facts(160, .assigned), policy: plain)
        XCTAssertEqual(done.effects, [.closeIntoWrapup(talkSeconds: 120, connected: true)], "bridged at 40 s, ended at 160 s")
        XCTAssertEqual(done.record.phase, .ended)
        XCTAssertEqual(done.instruction, .acknowledge)
    }

    func testTheMenuRoutesByDigitAndFallsBackToTheDefaultAfterTwoMisses() {
        let incoming = CallLifecycle.apply(event(.incoming(skill: nil)), to: nil, facts: facts(0, nil), policy: withMenu)
        XCTAssertEqual(incoming.effects, [.open(skill: "general", enqueue: false)])
        XCTAssertEqual(incoming.instruction, .menu(attempt: 1))

        let two = CallLifecycle.apply(event(.menuChoice(digits: "2", skill: "complaints", attempt: nil)), to: incoming.record, facts: facts(5), policy: withMenu)
        XCTAssertEqual(two.effects, [.enqueue(skill: "complaints")])
        XCTAssertEqual(two.record.skill, "complaints")
        XCTAssertEqual(two.instruction, .queue(position: 1, waitedSeconds: 0))

        let miss = CallLifecycle.apply(event(.menuChoice(digits: "9", skill: nil, attempt: nil)), to: incoming.record, facts: facts(5), policy: withMenu)
        XCTAssertEqual(miss.effects, [])
        XCTAssertEqual(miss.instruction, .menu(attempt: 2))
        let missAgain = CallLifecycle.apply(event(.menuChoice(digits: nil, skill: nil, attempt: nil)), to: miss.record, facts: facts(10), policy: withMenu)
        XCTAssertEqual(missAgain.effects, [.enqueue(skill: "general")])
        XCTAssertEqual(missAgain.record.phase, .queued)

        // A late second menu answer after the call was queued changes nothing.
        let late = CallLifecycle.apply(event(.menuChoice(digits: "1", skill: "general", attempt: nil)), to: two.record, facts: facts(12), policy: withMenu)
        XCTAssertEqual(late.effects, [])
        XCTAssertFalse(late.changed)
    }

    func testHangingUpWhileQueuedOrOfferedIsAnAbandonShortOnesApart() {
        let queued = CallLifecycle.apply(event(.incoming(skill: nil)), to: nil, facts: facts(0, nil), policy: plain).record
        let long = CallLifecycle.apply(event(.ended(.completed, durationSeconds: 40, queueSeconds: 38), report: "1"), to: queued,
                                       facts: facts(40, .offered), policy: plain)
        XCTAssertEqual(long.effects, [.abandon(queueSeconds: 38, short: false)])
        let short = CallLifecycle.apply(event(.ended(.canceled, durationSeconds: nil, queueSeconds: nil), report: "1"), to: queued,
                                        facts: facts(3), policy: plain)
        XCTAssertEqual(short.effects, [.abandon(queueSeconds: 3, short: true)], "no QueueTime: the broker's own clock")
        let inMenu = CallLifecycle.apply(event(.incoming(skill: nil)), to: nil, facts: facts(0, nil), policy: withMenu).record
        XCTAssertEqual(CallLifecycle.apply(event(.ended(.completed, durationSeconds: 8, queueSeconds: nil)), to: inMenu,
                                           facts: facts(8, .bot), policy: withMenu).effects, [.closeUnqueued(reason: "menu")],
                       "never queued for a human: not an abandon")
    }

    func testReportsSeenBeforeAndCallsEndedBeforeChangeNothing() {
        let queued = CallLifecycle.apply(event(.incoming(skill: nil)), to: nil, facts: facts(0, nil), policy: plain).record
        let ended = CallLifecycle.apply(event(.ended(.completed, durationSeconds: 20, queueSeconds: 20), report: "3"), to: queued,
                                        facts: facts(20), policy: plain)
        // The same SequenceNumber again (Twilio retried): nothing twice.
        let again = CallLifecycle.apply(event(.ended(.completed, durationSeconds: 20, queueSeconds: 20), report: "3"), to: ended.record,
                                        facts: facts(21), policy: plain)
        XCTAssertEqual(again.effects, [])
        XCTAssertFalse(again.changed)
        // `answered` (sequence 2) after `completed` (3): the call stays ended.
        let answeredLate = CallLifecycle.apply(event(.answered, report: "2"), to: ended.record, facts: facts(22, .abandoned), policy: plain)
        XCTAssertEqual(answeredLate.effects, [])
        XCTAssertEqual(answeredLate.record.phase, .ended)
        XCTAssertEqual(answeredLate.instruction, .hangup(reason: "the call has ended"))
        // A wait poll after the end never queues the call again.
        XCTAssertEqual(CallLifecycle.apply(event(.waiting), to: ended.record, facts: facts(23), policy: plain).instruction,
                       .hangup(reason: "the call has ended"))
        // The incoming webhook retried: the same answer, no second conversation.
        let retried = CallLifecycle.apply(event(.incoming(skill: nil)), to: queued, facts: facts(1), policy: plain)
        XCTAssertEqual(retried.effects, [])
        XCTAssertEqual(retried.instruction, .queue(position: 1, waitedSeconds: 1))
    }

    func testCompletedOnAnAcceptedCallNeverBridgedIsWrapUpWithoutTalk() {
        let queued = CallLifecycle.apply(event(.incoming(skill: nil)), to: nil, facts: facts(0, nil), policy: plain).record
        let done = CallLifecycle.apply(event(.ended(.completed, durationSeconds: 95, queueSeconds: 15), report: "4"), to: queued,
                                       facts: facts(95, .assigned), policy: plain)
        XCTAssertEqual(done.effects, [.closeIntoWrapup(talkSeconds: 0, connected: false)],
                       "the caller's duration counts greeting and wait, never talk")
        let answered = CallLifecycle.apply(event(.answered, report: "2"), to: done.record, facts: facts(96, .wrapup), policy: plain)
        XCTAssertEqual(answered.effects, [])
    }

    func testAnsweredBeforeTheAgentAcceptedIsNotABridge() {
        let queued = CallLifecycle.apply(event(.incoming(skill: nil)), to: nil, facts: facts(0, nil), policy: plain).record
        let early = CallLifecycle.apply(event(.answered, report: "1"), to: queued, facts: facts(2, .queued), policy: plain)
        XCTAssertEqual(early.record.phase, .queued)
        XCTAssertEqual(early.effects, [])
    }

    func testVoicemailAfterTheWaitThenRecordingThenTranscript() {
        let queued = CallLifecycle.apply(event(.incoming(skill: nil)), to: nil, facts: facts(0, nil), policy: plain).record
        XCTAssertEqual(CallLifecycle.apply(event(.waiting), to: queued, facts: facts(119), policy: plain).effects, [])
        let diverted = CallLifecycle.apply(event(.waiting), to: queued, facts: facts(120), policy: plain)
        XCTAssertEqual(diverted.effects, [.divertToVoicemail])
        XCTAssertEqual(diverted.instruction, .voicemail)
        XCTAssertEqual(diverted.record.phase, .voicemail)

        let recording = VoicemailRecording(recordingId: "RE1", url: "https://api.twilio.com/rec/RE1", durationSeconds: 42)
        let recorded = CallLifecycle.apply(event(.recording(recording)), to: diverted.record, facts: facts(170), policy: plain)
        XCTAssertEqual(recorded.effects, [.addVoicemail(recording)])
        XCTAssertEqual(recorded.instruction, .hangup(reason: "voicemail recorded"))
        XCTAssertEqual(CallLifecycle.apply(event(.recording(recording)), to: recorded.record, facts: facts(171), policy: plain).effects, [],
                       "the recording callback retried")
        let ended = CallLifecycle.apply(event(.ended(.completed, durationSeconds: 172, queueSeconds: 120), report: "9"), to: recorded.record,
                                        facts: facts(172), policy: plain)
        XCTAssertEqual(ended.effects, [], "not an abandon: the caller left a message")
        let transcript = CallLifecycle.apply(event(.transcription(recordingId: "RE1", text: "我家门口的路灯坏了")), to: ended.record,
                                             facts: facts(200), policy: plain)
        XCTAssertEqual(transcript.effects, [.addTranscript(recordingId: "RE1", text: "我家门口的路灯坏了")])
    }

    func testNobodyLoggedInGoesToVoicemailAtOnceAndARecordingAfterTheHangUpStillCounts() {
        let incoming = CallLifecycle.apply(event(.incoming(skill: nil)), to: nil, facts: facts(0, nil, agents: false), policy: plain)
        XCTAssertEqual(incoming.effects, [.open(skill: "general", enqueue: false)])
        XCTAssertEqual(incoming.instruction, .voicemail)
        let hungUp = CallLifecycle.apply(event(.ended(.completed, durationSeconds: 30, queueSeconds: nil), report: "1"), to: incoming.record,
                                         facts: facts(30), policy: plain)
        XCTAssertEqual(hungUp.effects, [.closeUnqueued(reason: "no-voicemail")])
        let recording = VoicemailRecording(recordingId: "RE2", url: "https://api.twilio.com/rec/RE2", durationSeconds: 12)
        XCTAssertEqual(CallLifecycle.apply(event(.recording(recording)), to: hungUp.record, facts: facts(35), policy: plain).effects,
                       [.addVoicemail(recording)])
        // A recording for a call that never went to voicemail is not one.
        let queued = CallLifecycle.apply(event(.incoming(skill: nil)), to: nil, facts: facts(0, nil), policy: plain).record
        XCTAssertEqual(CallLifecycle.apply(event(.recording(recording)), to: queued, facts: facts(5), policy: plain).effects, [])

        // With the menu: the chosen skill has nobody logged in.
        let menu = CallLifecycle.apply(event(.incoming(skill: nil)), to: nil, facts: facts(0, nil), policy: withMenu).record
        let chosen = CallLifecycle.apply(event(.menuChoice(digits: "2", skill: "complaints", attempt: nil)), to: menu, facts: facts(4, agents: false),
                                         policy: withMenu)
        XCTAssertEqual(chosen.instruction, .voicemail)
    }

    func testTalkTimeComesFromTheAgentLegAndNotFromTheMenuAndWait() {
        let menu = CallLifecycle.apply(event(.incoming(skill: nil)), to: nil, facts: facts(0, nil), policy: withMenu).record
        let queued = CallLifecycle.apply(event(.menuChoice(digits: "1", skill: "general", attempt: 1)), to: menu, facts: facts(20, .bot),
                                         policy: withMenu).record
        let bridged = CallLifecycle.apply(event(.answered, report: "agent:CA9:1"), to: queued, facts: facts(50, .assigned), policy: withMenu)
        let leg = CallLifecycle.apply(event(.agentLegEnded(durationSeconds: 61), report: "agent:CA9:2"), to: bridged.record,
                                      facts: facts(112, .assigned), policy: withMenu)
        XCTAssertEqual(leg.effects, [])
        XCTAssertEqual(leg.record.talkSeconds, 61)
        let done = CallLifecycle.apply(event(.ended(.completed, durationSeconds: 113, queueSeconds: nil), report: "call:5"), to: leg.record,
                                       facts: facts(113, .assigned), policy: withMenu)
        XCTAssertEqual(done.effects, [.closeIntoWrapup(talkSeconds: 61, connected: true)])
        // Without the agent leg's report: the clock since the bridge, not duration minus queue time
        // (which would count the 20 s in the menu as talk).
        let clock = CallLifecycle.apply(event(.ended(.completed, durationSeconds: 113, queueSeconds: 30), report: "call:5"),
                                        to: bridged.record, facts: facts(113, .assigned), policy: withMenu)
        XCTAssertEqual(clock.effects, [.closeIntoWrapup(talkSeconds: 63, connected: true)])
    }

    func testAWaitAfterAcceptanceNeverDivertsAndMovesACallerStillOnHoldToTheAgent() {
        let queued = CallLifecycle.apply(event(.incoming(skill: nil)), to: nil, facts: facts(0, nil), policy: plain).record
        var accepted = facts(130, .assigned)
        accepted.agentEndpoint = "sip:1001@pbx.example"
        let wait = CallLifecycle.apply(event(.waiting), to: queued, facts: accepted, policy: plain)
        XCTAssertEqual(wait.effects, [], "past voicemail_after, but an agent has the call")
        XCTAssertEqual(wait.instruction, .bridge(endpoint: "sip:1001@pbx.example"), "the update-call request did not take")
        // Once bridged, a late wait request adds nothing.
        let bridged = CallLifecycle.apply(event(.answered, report: "agent:CA9:1"), to: queued, facts: accepted, policy: plain).record
        XCTAssertEqual(CallLifecycle.apply(event(.waiting), to: bridged, facts: accepted, policy: plain).instruction, .acknowledge)
    }

    func testAQueueFailureIsVoicemailNotAnAbandon() {
        let queued = CallLifecycle.apply(event(.incoming(skill: nil)), to: nil, facts: facts(0, nil), policy: plain).record
        let failed = CallLifecycle.apply(event(.queueFailed, report: "queue-error"), to: queued, facts: facts(4), policy: plain)
        XCTAssertEqual(failed.effects, [.divertToVoicemail])
        XCTAssertEqual(failed.instruction, .voicemail)
    }

    func testAReplayedMenuAnswerIsNotASecondMiss() {
        let menu = CallLifecycle.apply(event(.incoming(skill: nil)), to: nil, facts: facts(0, nil), policy: withMenu).record
        let miss = CallLifecycle.apply(event(.menuChoice(digits: "9", skill: nil, attempt: 1)), to: menu, facts: facts(5, .bot), policy: withMenu)
        XCTAssertEqual(miss.instruction, .menu(attempt: 2))
        let replay = CallLifecycle.apply(event(.menuChoice(digits: "9", skill: nil, attempt: 1)), to: miss.record, facts: facts(6, .bot),
                                         policy: withMenu)
        XCTAssertEqual(replay.effects, [])
        XCTAssertEqual(replay.record.phase, .menu, "still the second playing, not the default skill")
        XCTAssertEqual(replay.instruction, .menu(attempt: 2))
    }

    func testAPBXThatRanItsOwnMenuQueuesForItsChoice() {
        let incoming = CallLifecycle.apply(event(.incoming(skill: "complaints")), to: nil, facts: facts(0, nil), policy: withMenu)
        XCTAssertEqual(incoming.effects, [.open(skill: "complaints", enqueue: true)])
        XCTAssertEqual(incoming.record.skill, "complaints")
        XCTAssertEqual(CallLifecycle.apply(event(.incoming(skill: "complaints")), to: nil, facts: facts(0, nil, agents: false),
                                           policy: withMenu).effects, [.open(skill: "complaints", enqueue: false)])
    }

    func testAReportRefusedNowIsNotRemembered() {
        let queued = CallLifecycle.apply(event(.incoming(skill: nil)), to: nil, facts: facts(0, nil), policy: plain).record
        let early = CallLifecycle.apply(event(.answered, report: "agent:CA9:1"), to: queued, facts: facts(2, .offered), policy: plain)
        XCTAssertFalse(early.record.seenReports.contains("agent:CA9:1"))
        let later = CallLifecycle.apply(event(.answered, report: "agent:CA9:1"), to: early.record, facts: facts(3, .assigned), policy: plain)
        XCTAssertEqual(later.record.phase, .bridged, "the same report, sent again once the acceptance is stored, counts")
    }

    func testAnAgentWhoDoesNotAnswerTheBridgeSendsTheCallBackToTheQueue() {
        let queued = CallLifecycle.apply(event(.incoming(skill: nil)), to: nil, facts: facts(0, nil), policy: plain).record
        let missed = CallLifecycle.apply(event(.bridgeFailed, report: "dial:CA7"), to: queued, facts: facts(40, .assigned), policy: plain)
        XCTAssertEqual(missed.effects, [.requeue])
        XCTAssertEqual(missed.instruction, .queue(position: nil, waitedSeconds: 40))
        XCTAssertEqual(missed.record.bridgeMisses, 1)
        XCTAssertEqual(CallLifecycle.apply(event(.bridgeFailed, report: "dial:CA7"), to: missed.record, facts: facts(41, .offered),
                                           policy: plain).effects, [], "the same report again")
        XCTAssertEqual(CallLifecycle.apply(event(.bridgeFailed, report: "dial:CA8"), to: missed.record, facts: facts(41, .offered),
                                           policy: plain).effects, [], "not accepted by anyone now: nothing to take back")
        let bridged = CallLifecycle.apply(event(.answered, report: "agent:CA9:1"), to: queued, facts: facts(30, .assigned), policy: plain).record
        let over = CallLifecycle.apply(event(.bridgeCompleted, report: "dial:CA9"), to: bridged, facts: facts(90, .assigned), policy: plain)
        XCTAssertEqual(over.effects, [])
        XCTAssertEqual(over.instruction, .hangup(reason: "the agent's call ended"))
    }

    func testTheRecordSurvivesJSON() throws {
        var record = CallLifecycle.apply(event(.incoming(skill: nil)), to: nil, facts: facts(0, nil), policy: withMenu).record
        record.seenReports = ["1", "2"]
        XCTAssertEqual(try JSONDecoder().decode(CallRecord.self, from: JSONEncoder().encode(record)), record)
    }
}
