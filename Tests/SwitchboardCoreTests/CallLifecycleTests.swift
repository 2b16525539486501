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
        CallFacts(now: t0 + seconds * 1000, conversationId: "c1", conversationStatus: status, queuePosition: position, agentsLoggedIn: agents)
    }

    func testRingingQueuedOfferedBridgedCompleted() {
        let incoming = CallLifecycle.apply(event(.incoming), to: nil, facts: facts(0, nil, position: nil), policy: plain)
        XCTAssertEqual(incoming.effects, [.open(skill: "general", enqueue: true)])
        XCTAssertEqual(incoming.record.phase, .queued)
        XCTAssertEqual(incoming.instruction, .queue(conversationId: "c1", position: nil, waitedSeconds: 0))

        let wait = CallLifecycle.apply(event(.waiting), to: incoming.record, facts: facts(30, .offered, position: 1), policy: plain)
        XCTAssertEqual(wait.effects, [])
        XCTAssertEqual(wait.instruction, .queue(conversationId: "c1", position: 1, waitedSeconds: 30))

        let answered = CallLifecycle.apply(event(.answered, report: "1"), to: wait.record, facts: facts(40, .assigned), policy: plain)
        XCTAssertEqual(answered.record.phase, .bridged)
        XCTAssertEqual(answered.record.bridgedAt, t0 + 40_000)

        let done = CallLifecycle.apply(event(.ended(.completed, durationSeconds: 160, queueSeconds: nil), report: "2"),
                                       to: answered.record, facts: facts(160, .assigned), policy: plain)
        XCTAssertEqual(done.effects, [.closeIntoWrapup(talkSeconds: 120)], "160 s on the line, 40 of them waiting")
        XCTAssertEqual(done.record.phase, .ended)
        XCTAssertEqual(done.instruction, .acknowledge)
    }

    func testTheMenuRoutesByDigitAndFallsBackToTheDefaultAfterTwoMisses() {
        let incoming = CallLifecycle.apply(event(.incoming), to: nil, facts: facts(0, nil), policy: withMenu)
        XCTAssertEqual(incoming.effects, [.open(skill: "general", enqueue: false)])
        XCTAssertEqual(incoming.instruction, .menu(attempt: 1))

        let two = CallLifecycle.apply(event(.menuChoice(digits: "2", skill: "complaints")), to: incoming.record, facts: facts(5), policy: withMenu)
        XCTAssertEqual(two.effects, [.enqueue(skill: "complaints")])
        XCTAssertEqual(two.record.skill, "complaints")
        XCTAssertEqual(two.instruction, .queue(conversationId: "c1", position: 1, waitedSeconds: 0))

        let miss = CallLifecycle.apply(event(.menuChoice(digits: "9", skill: nil)), to: incoming.record, facts: facts(5), policy: withMenu)
        XCTAssertEqual(miss.effects, [])
        XCTAssertEqual(miss.instruction, .menu(attempt: 2))
        let missAgain = CallLifecycle.apply(event(.menuChoice(digits: nil, skill: nil)), to: miss.record, facts: facts(10), policy: withMenu)
        XCTAssertEqual(missAgain.effects, [.enqueue(skill: "general")])
        XCTAssertEqual(missAgain.record.phase, .queued)

        // A late second menu answer after the call was queued changes nothing.
        let late = CallLifecycle.apply(event(.menuChoice(digits: "1", skill: "general")), to: two.record, facts: facts(12), policy: withMenu)
        XCTAssertEqual(late.effects, [])
        XCTAssertFalse(late.changed)
    }

    func testHangingUpWhileQueuedOrOfferedIsAnAbandonShortOnesApart() {
        let queued = CallLifecycle.apply(event(.incoming), to: nil, facts: facts(0, nil), policy: plain).record
        let long = CallLifecycle.apply(event(.ended(.completed, durationSeconds: 40, queueSeconds: 38), report: "1"), to: queued,
                                       facts: facts(40, .offered), policy: plain)
        XCTAssertEqual(long.effects, [.abandon(queueSeconds: 38, short: false)])
        let short = CallLifecycle.apply(event(.ended(.canceled, durationSeconds: nil, queueSeconds: nil), report: "1"), to: queued,
                                        facts: facts(3), policy: plain)
        XCTAssertEqual(short.effects, [.abandon(queueSeconds: 3, short: true)], "no QueueTime: the broker's own clock")
        let inMenu = CallLifecycle.apply(event(.incoming), to: nil, facts: facts(0, nil), policy: withMenu).record
        XCTAssertEqual(CallLifecycle.apply(event(.ended(.completed, durationSeconds: 8, queueSeconds: nil)), to: inMenu,
                                           facts: facts(8), policy: withMenu).effects, [.abandon(queueSeconds: 0, short: true)])
    }

    func testReportsSeenBeforeAndCallsEndedBeforeChangeNothing() {
        let queued = CallLifecycle.apply(event(.incoming), to: nil, facts: facts(0, nil), policy: plain).record
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
        let retried = CallLifecycle.apply(event(.incoming), to: queued, facts: facts(1), policy: plain)
        XCTAssertEqual(retried.effects, [])
        XCTAssertEqual(retried.instruction, .queue(conversationId: "c1", position: 1, waitedSeconds: 1))
    }

    func testCompletedBeforeAnsweredOnAnAcceptedCallIsTalkNotAnAbandon() {
        let queued = CallLifecycle.apply(event(.incoming), to: nil, facts: facts(0, nil), policy: plain).record
        let done = CallLifecycle.apply(event(.ended(.completed, durationSeconds: 95, queueSeconds: 15), report: "4"), to: queued,
                                       facts: facts(95, .assigned), policy: plain)
        XCTAssertEqual(done.effects, [.closeIntoWrapup(talkSeconds: 80)])
        let answered = CallLifecycle.apply(event(.answered, report: "2"), to: done.record, facts: facts(96, .wrapup), policy: plain)
        XCTAssertEqual(answered.effects, [])
    }

    func testAnsweredBeforeTheAgentAcceptedIsNotABridge() {
        let queued = CallLifecycle.apply(event(.incoming), to: nil, facts: facts(0, nil), policy: plain).record
        let early = CallLifecycle.apply(event(.answered, report: "1"), to: queued, facts: facts(2, .queued), policy: plain)
        XCTAssertEqual(early.record.phase, .queued)
        XCTAssertEqual(early.effects, [])
    }

    func testVoicemailAfterTheWaitThenRecordingThenTranscript() {
        let queued = CallLifecycle.apply(event(.incoming), to: nil, facts: facts(0, nil), policy: plain).record
        XCTAssertEqual(CallLifecycle.apply(event(.waiting), to: queued, facts: facts(119), policy: plain).effects, [])
        let diverted = CallLifecycle.apply(event(.waiting), to: queued, facts: facts(120), policy: plain)
        XCTAssertEqual(diverted.effects, [.divertToVoicemail])
        XCTAssertEqual(diverted.instruction, .voicemail(conversationId: "c1"))
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
        let incoming = CallLifecycle.apply(event(.incoming), to: nil, facts: facts(0, nil, agents: false), policy: plain)
        XCTAssertEqual(incoming.effects, [.open(skill: "general", enqueue: false)])
        XCTAssertEqual(incoming.instruction, .voicemail(conversationId: "c1"))
        let hungUp = CallLifecycle.apply(event(.ended(.completed, durationSeconds: 30, queueSeconds: nil), report: "1"), to: incoming.record,
                                         facts: facts(30), policy: plain)
        XCTAssertEqual(hungUp.effects, [.voicemailHungUp])
        let recording = VoicemailRecording(recordingId: "RE2", url: "https://api.twilio.com/rec/RE2", durationSeconds: 12)
        XCTAssertEqual(CallLifecycle.apply(event(.recording(recording)), to: hungUp.record, facts: facts(35), policy: plain).effects,
                       [.addVoicemail(recording)])
        // A recording for a call that never went to voicemail is not one.
        let queued = CallLifecycle.apply(event(.incoming), to: nil, facts: facts(0, nil), policy: plain).record
        XCTAssertEqual(CallLifecycle.apply(event(.recording(recording)), to: queued, facts: facts(5), policy: plain).effects, [])

        // With the menu: the chosen skill has nobody logged in.
        let menu = CallLifecycle.apply(event(.incoming), to: nil, facts: facts(0, nil), policy: withMenu).record
        let chosen = CallLifecycle.apply(event(.menuChoice(digits: "2", skill: "complaints")), to: menu, facts: facts(4, agents: false),
                                         policy: withMenu)
        XCTAssertEqual(chosen.instruction, .voicemail(conversationId: "c1"))
    }

    func testTheRecordSurvivesJSON() throws {
        var record = CallLifecycle.apply(event(.incoming), to: nil, facts: facts(0, nil), policy: withMenu).record
        record.seenReports = ["1", "2"]
        XCTAssertEqual(try JSONDecoder().decode(CallRecord.self, from: JSONEncoder().encode(record)), record)
    }
}
