import SwitchboardCore
import TwilioSupport
import XCTest
@testable import VoiceChannel

/// Twilio Voice webhooks read into call events (issue 10), the settings that shape them, and the
/// signature over every callback URL.
final class TwilioVoiceCallbackTests: XCTestCase {
    let menu = VoiceSettings.Menu(prompt: "咨询请按1，投诉请按2", options: ["1": "general", "2": "complaints"], defaultSkill: "general")
    let sid = "CA0123456789abcdef0123456789abcdef"

    func event(_ route: TwilioVoiceRoute, _ pairs: [(String, String)], query: [(String, String)] = []) throws -> CallEvent? {
        try TwilioVoiceCallback.event(route, form: TwilioForm([("CallSid", sid), ("From", "+8613800000001"), ("To", "+8610690000")] + pairs),
                                      query: TwilioForm(query), menu: menu)
    }

    func testEachRouteBecomesItsStep() throws {
        let incoming = try XCTUnwrap(event(.incoming, [("CallStatus", "ringing")]))
        XCTAssertEqual(incoming, CallEvent(callId: sid, caller: Identity(kind: .voice, address: "+8613800000001"), to: "+8610690000", step: .incoming(skill: nil)))
        XCTAssertEqual(try event(.gather, [("Digits", "2")])?.step, .menuChoice(digits: "2", skill: "complaints", attempt: nil))
        XCTAssertEqual(try event(.gather, [("Digits", "7")])?.step, .menuChoice(digits: "7", skill: nil, attempt: nil))
        XCTAssertEqual(try event(.gather, [])?.step, .menuChoice(digits: nil, skill: nil, attempt: nil))
        XCTAssertEqual(try event(.wait, [("QueuePosition", "1"), ("QueueTime", "12")])?.step, .waiting)
        XCTAssertEqual(try event(.queue, [("QueueResult", "leave"), ("QueueTime", "120")])?.step, .waiting)
        let hungUp = try XCTUnwrap(event(.queue, [("QueueResult", "hangup"), ("QueueTime", "33")]))
        XCTAssertEqual(hungUp.step, .ended(.completed, durationSeconds: nil, queueSeconds: 33))
        XCTAssertNil(try event(.queue, [("QueueResult", "redirected"), ("QueueTime", "40")]), "left the queue for the agent")

        let completed = try XCTUnwrap(event(.status, [("CallStatus", "completed"), ("CallDuration", "95"), ("SequenceNumber", "3")]))
        XCTAssertEqual(completed.step, .ended(.completed, durationSeconds: 95, queueSeconds: nil))
        XCTAssertEqual(completed.reportId, "call:3")
        XCTAssertEqual(try event(.status, [("CallStatus", "no-answer"), ("SequenceNumber", "1")])?.step,
                       .ended(.noAnswer, durationSeconds: nil, queueSeconds: nil))
        XCTAssertNil(try event(.status, [("CallStatus", "in-progress"), ("SequenceNumber", "1")]), "the caller's own call is answered by TwiML")

        // The agent leg: its own CallSid, the caller's as ParentCallSid, the agent's number as To.
        let agent = try TwilioVoiceCallback.event(.status, form: TwilioForm([("CallSid", "CAagentleg"), ("ParentCallSid", sid),
                                                                              ("From", "+8610690000"), ("To", "+8613900000009"),
                                                                              ("CallStatus", "in-progress"), ("SequenceNumber", "0")]),
                                                  query: TwilioForm([("leg", "agent")]), menu: menu)
        XCTAssertEqual(agent?.callId, sid)
        XCTAssertEqual(agent?.step, .answered)
        XCTAssertEqual(agent?.reportId, "agent:CAagentleg:0")
        XCTAssertEqual(agent?.caller.address, "anonymous", "the agent leg's To is the agent, not the caller")
        let agentDone = try TwilioVoiceCallback.event(.status, form: TwilioForm([("CallSid", "CAagentleg"), ("ParentCallSid", sid),
                                                                                  ("CallStatus", "completed"), ("CallDuration", "61"),
                                                                                  ("Duration", "2"), ("SequenceNumber", "1")]),
                                                      query: TwilioForm([("leg", "agent")]), menu: menu)
        XCTAssertEqual(agentDone?.step, .agentLegEnded(durationSeconds: 61), "CallDuration in seconds; Duration (billed minutes) unread")
        XCTAssertEqual(try event(.gather, [("Digits", "9")], query: [("attempt", "2")])?.step, .menuChoice(digits: "9", skill: nil, attempt: 2))
        XCTAssertThrowsError(try event(.gather, [("Digits", "9")], query: [("attempt", "x")]))
        for result in ["bridged", "bridging-in-process", "redirected-from-bridged"] {
            XCTAssertNil(try event(.queue, [("QueueResult", result), ("QueueTime", "40")]), result)
        }
        XCTAssertEqual(try event(.dial, [("DialCallStatus", "no-answer"), ("DialCallSid", "CAdial1")])?.step, .bridgeFailed)
        XCTAssertEqual(try event(.dial, [("DialCallStatus", "no-answer"), ("DialCallSid", "CAdial1")])?.reportId, "dial:CAdial1")
        XCTAssertEqual(try event(.dial, [("DialCallStatus", "completed"), ("DialCallSid", "CAdial1")])?.step, .bridgeCompleted)
        XCTAssertThrowsError(try event(.dial, [("DialCallStatus", "exploded")]))
        for result in ["queue-full", "system-error", "error"] {
            XCTAssertEqual(try event(.queue, [("QueueResult", result), ("QueueTime", "4")])?.step, .queueFailed, "\(result): not an abandon")
        }

        let recording = try XCTUnwrap(event(.recording, [("RecordingSid", "RE1"), ("RecordingUrl", "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"),
                                                         ("RecordingDuration", "42")]))
        XCTAssertEqual(recording.step, .recording(VoicemailRecording(recordingId: "RE1", url: "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
                                                                     durationSeconds: 42)))
        XCTAssertEqual(try event(.transcription, [("RecordingSid", "RE1"), ("TranscriptionStatus", "completed"),
                                                  ("TranscriptionText", "路灯坏了")])?.step, .transcription(recordingId: "RE1", text: "路灯坏了"))
        XCTAssertNil(try event(.transcription, [("RecordingSid", "RE1"), ("TranscriptionStatus", "failed")]))
    }

    func testAWithheldNumberIsAnAnonymousCallerNotARefusal() throws {
        for from in ["anonymous", "client:alice", "sip:x@y", "+266696687"] {
            let e = try TwilioVoiceCallback.event(.incoming, form: TwilioForm([("CallSid", sid), ("From", from), ("CallStatus", "ringing")]),
                                                  query: TwilioForm([]), menu: nil)
            XCTAssertEqual(e?.caller.address, PhoneNumber.e164(from) ?? "anonymous", from)
        }
    }

    func testMalformedFormsAreRefused() {
        let bad: [(TwilioVoiceRoute, [(String, String)])] = [
            (.incoming, [("From", "+8613800000001"), ("CallStatus", "ringing")]),                       // no CallSid
            (.incoming, [("CallSid", "CA<script>"), ("From", "+8613800000001"), ("CallStatus", "ringing")]),
            (.incoming, [("CallSid", sid), ("CallStatus", "ringing")]),                                  // no From
            (.incoming, [("CallSid", sid), ("From", "+86138"), ("CallStatus", "completed")]),           // not a new call
            (.incoming, [("CallSid", sid), ("CallSid", sid), ("From", "+86138"), ("CallStatus", "ringing")]),
            (.gather, [("CallSid", sid), ("From", "+86138"), ("Digits", "1; DROP")]),
            (.queue, [("CallSid", sid), ("From", "+86138"), ("QueueResult", "exploded")]),
            (.queue, [("CallSid", sid), ("From", "+86138"), ("QueueResult", "hangup"), ("QueueTime", "-1")]),
            (.status, [("CallSid", sid), ("From", "+86138"), ("CallStatus", "vanished")]),
            (.status, [("CallSid", sid), ("From", "+86138"), ("CallStatus", "completed"), ("CallDuration", "1e3")]),
            (.recording, [("CallSid", sid), ("From", "+86138"), ("RecordingSid", "RE1"), ("RecordingUrl", "file:///etc/passwd")]),
            (.recording, [("CallSid", sid), ("From", "+86138"), ("RecordingUrl", "https://x/r")]),
            (.transcription, [("CallSid", sid), ("From", "+86138"), ("RecordingSid", "RE1"), ("TranscriptionText", String(repeating: "字", count: 6000))]),
        ]
        for (route, pairs) in bad {
            XCTAssertThrowsError(try TwilioVoiceCallback.event(route, form: TwilioForm(pairs), query: TwilioForm([]), menu: menu), "\(route) \(pairs)")
        }
    }

    func testEveryCallbackURLIsSignedOverPublicURLPlusItsRoute() throws {
        let settings = try VoiceSettings(VoiceTwiMLTests.config(), environment: ChannelEnvironment(skills: ["general", "complaints"]))
        let verifier = try XCTUnwrap(settings.verifier)
        for route in TwilioVoiceRoute.allCases {
            let query = route == .gather ? "attempt=2" : route == .status ? "leg=agent" : ""
            let url = verifier.signedURL(suffix: route.suffix, query: query)
            XCTAssertTrue(url.hasPrefix("https://example.org/v1/channels/hotline/" + route.rawValue), url)
            let pairs = [("CallSid", sid), ("From", "+8613800000001")]
            let signature = TwilioSignature.compute(authToken: "tok", url: url, parameters: pairs)
            let request = HTTPRequest(method: "POST", subpath: route.rawValue, query: query,
                                      headers: ["content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature],
                                      body: Array(FormURLEncoding.encode(pairs).utf8))
            XCTAssertNoThrow(try verifier.verifiedForm(request, suffix: route.suffix), route.rawValue)
            // Signed for another route: refused.
            let elsewhere = TwilioSignature.compute(authToken: "tok", url: verifier.signedURL(suffix: "other", query: query), parameters: pairs)
            var forged = request
            forged.headers["x-twilio-signature"] = elsewhere
            XCTAssertThrowsError(try verifier.verifiedForm(forged, suffix: route.suffix), route.rawValue)
        }
    }

    func testSettingsNameTheirKeyPaths() {
        func problem(_ extra: [String: String], removing: [String] = []) -> String? {
            var config = VoiceTwiMLTests.config(extra)
            for key in removing { config.settings[key] = nil }
            do {
                _ = try VoiceSettings(config, environment: ChannelEnvironment(skills: ["general", "complaints"]))
                return nil
            } catch { return "\(error.key): \(error.problem)" }
        }
        XCTAssertNil(problem([:]))
        XCTAssertEqual(problem(["menu.options.2": "sales"])?.hasPrefix("menu.options.2: unknown skill 'sales'"), true)
        XCTAssertEqual(problem(["menu.options.12": "general"])?.hasPrefix("menu.options.12:"), true)
        XCTAssertEqual(problem(["voicemail_after": "soon"])?.hasPrefix("voicemail_after:"), true)
        XCTAssertEqual(problem(["greeting_audio": "https://x/a.mp3"])?.hasPrefix("greeting_audio: give greeting"), true)
        XCTAssertEqual(problem(["hold_music": "file:///m.mp3"])?.hasPrefix("hold_music:"), true)
        XCTAssertEqual(problem(["account_sid": "XX1"])?.hasPrefix("account_sid:"), true)
        XCTAssertEqual(problem(["smtp_host": "x"])?.hasPrefix("smtp_host: is not a setting"), true)
        XCTAssertEqual(problem([:], removing: ["public_url"])?.hasPrefix("public_url:"), true)
        XCTAssertEqual(problem([:], removing: ["menu.prompt"])?.hasPrefix("menu.prompt:"), true)
        XCTAssertEqual(problem(["voicemail_after": "0s"]), nil, "0s: never")
    }
}
