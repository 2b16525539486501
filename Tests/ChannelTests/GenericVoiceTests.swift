import Foundation
import SwitchboardCore
import SwitchboardCrypto
import XCTest
@testable import VoiceChannel

/// The generic JSON voice events for PBXs, the JSON instructions that answer them, and the Twilio
/// Calls API's answers to a bridge (issue 10).
final class GenericVoiceTests: XCTestCase {
    let menu = VoiceSettings.Menu(prompt: "咨询请按1，投诉请按2", options: ["1": "general", "2": "complaints"], defaultSkill: "general")

    func events(_ json: String) throws -> [CallEvent] { try GenericVoiceEvents.events(Array(json.utf8), menu: menu) }

    func testEachEventBecomesItsSteps() throws {
        let incoming = try events(#"{"event":"call.incoming","call_id":"fs-1","from":"13800000001","to":"12345","digits":"2"}"#)
        XCTAssertEqual(incoming.map(\.step), [.incoming(skill: "complaints")], "the PBX's own IVR: queued for its choice at once")
        XCTAssertEqual(try events(#"{"event":"call.incoming","call_id":"fs-1","from":"1","digits":"7"}"#).map(\.step), [.incoming(skill: "general")],
                       "a digit outside the menu: its default")
        XCTAssertEqual(try GenericVoiceEvents.events(Array(#"{"event":"call.incoming","call_id":"a","from":"1","skill":"complaints"}"#.utf8),
                                                     menu: nil, skills: ["general", "complaints"]).map(\.step), [.incoming(skill: "complaints")])
        XCTAssertThrowsError(try GenericVoiceEvents.events(Array(#"{"event":"call.incoming","call_id":"a","from":"1","skill":"nope"}"#.utf8),
                                                           menu: nil, skills: ["general"]))
        XCTAssertEqual(try events(#"{"event":"call.menu","call_id":"fs-1","digits":"2"}"#).map(\.step),
                       [.menuChoice(digits: "2", skill: "complaints", attempt: nil)])
        XCTAssertEqual(incoming[0].caller, Identity(kind: .voice, address: "+8613800000001"))
        XCTAssertEqual(try events(#"{"event":"call.waiting","call_id":"fs-1"}"#).map(\.step), [.waiting])
        let status = try events(#"{"event":"call.status","call_id":"fs-1","status":"completed","duration":95,"queue_time":12,"sequence":3}"#)
        XCTAssertEqual(status.map(\.step), [.ended(.completed, durationSeconds: 95, queueSeconds: 12)])
        XCTAssertEqual(status[0].reportId, "status:3")
        XCTAssertEqual(try events(#"{"event":"call.status","call_id":7,"status":"answered"}"#).map(\.step), [.answered])
        let voicemail = try events(#"{"event":"call.voicemail","call_id":"fs-1","recording_url":"https://pbx.example/r/1.wav","recording_id":"r1","duration":30,"transcript":"路灯坏了"}"#)
        XCTAssertEqual(voicemail.map(\.step), [.recording(VoicemailRecording(recordingId: "r1", url: "https://pbx.example/r/1.wav", durationSeconds: 30)),
                                               .transcription(recordingId: "r1", text: "路灯坏了")])
    }

    func testMalformedEventsAreRefusedWithTheirField() {
        for (json, field) in [(#"{"event":"call.dance","call_id":"a"}"#, "event"), (#"{"event":"call.incoming","call_id":"a"}"#, "from"),
                              (#"{"event":"call.incoming","call_id":"","from":"1"}"#, "call_id"),
                              (#"{"event":"call.incoming","call_id":"a b","from":"1"}"#, "call_id"),
                              (#"{"event":"call.status","call_id":"a","status":"vanished"}"#, "status"),
                              (#"{"event":"call.status","call_id":"a","status":"completed","duration":-1}"#, "duration"),
                              (#"{"event":"call.voicemail","call_id":"a","recording_url":"file:///etc/passwd"}"#, "recording_url"),
                              (#"{"event":"call.menu","call_id":"a","digits":"1;2"}"#, "digits"),
                              (#"{"call_id":"a"}"#, "event"), (#"[]"#, ""), ("{", "")] {
            XCTAssertThrowsError(try events(json), json) { error in
                if !field.isEmpty { XCTAssertTrue("\(error)".contains(field), "\(json): \(error)") }
            }
        }
    }

    func testTheSignatureAndContentTypeComeFirst() throws {
        let body = Array(#"{"event":"call.waiting","call_id":"a"}"#.utf8)
        let good = HMACSignatureHeader.value(body: body, secret: "s3cret")
        func request(_ signature: String?, _ type: String = "application/json") -> HTTPRequest {
            var headers = ["content-type": type]
            headers["x-signature"] = signature
            return HTTPRequest(method: "POST", subpath: "events", headers: headers, body: body)
        }
        XCTAssertNoThrow(try GenericVoiceEvents.verify(request(good), secret: "s3cret"))
        XCTAssertThrowsError(try GenericVoiceEvents.verify(request(nil), secret: "s3cret"))
        XCTAssertThrowsError(try GenericVoiceEvents.verify(request(good), secret: "other"))
        XCTAssertThrowsError(try GenericVoiceEvents.verify(request(good, "text/plain"), secret: "s3cret"))
    }

    func testInstructionsAsJSON() throws {
        let settings = try VoiceSettings(ChannelConfig(id: "pbx", kind: .voice, provider: "generic", skill: "general",
                                                       settings: ["hmac_secret": "s", "control_url": "http://127.0.0.1:9/control",
                                                                  "menu.prompt": "按1", "menu.options.1": "general"]),
                                         environment: ChannelEnvironment(skills: ["general"]))
        func object(_ i: CallInstruction) throws -> [String: Any] {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data(GenericVoiceAnswer.json(i, settings: settings).utf8)) as? [String: Any])
        }
        XCTAssertEqual(try object(.queue(position: 2, waitedSeconds: 5))["position"] as? Int, 2)
        XCTAssertEqual(try object(.queue(position: nil, waitedSeconds: 5))["waited"] as? Int, 5)
        XCTAssertEqual(try object(.bridge(endpoint: "sip:1001@pbx"))["endpoint"] as? String, "sip:1001@pbx")
        XCTAssertEqual(try object(.voicemail)["maxLength"] as? Int, 120)
        XCTAssertEqual(try object(.menu(attempt: 1))["options"] as? [String: String], ["1": "general"])
        XCTAssertEqual(try object(.hangup(reason: "the call has ended"))["action"] as? String, "hangup")
        XCTAssertEqual(try object(.acknowledge)["action"] as? String, "none")
    }

    func testTheCallsAPIRetriesOnlyWhatDidNothingAndTellsTheAgentWhenTheCallerIsGone() {
        let api = TwilioCallsAPI(apiBase: "http://127.0.0.1:9", accountSid: "AC1", authToken: "tok")
        let request = api.updateCall(callSid: "CA1", twiml: "<Response><Dial><Number>+86138</Number></Dial></Response>", idempotencyKey: "CA1:o1")
        XCTAssertEqual(request.url, "http://127.0.0.1:9/2010-04-01/Accounts/AC1/Calls/CA1.json")
        XCTAssertEqual(try FormURLEncoding.decode(request.body).first?.1, "<Response><Dial><Number>+86138</Number></Dial></Response>")
        XCTAssertEqual(request.headers["Authorization"], "Basic " + Base64.encode(Array("AC1:tok".utf8)))

        XCTAssertEqual(TwilioCallsAPI.interpret(TransportResponse(status: 200, body: Array(#"{"sid":"CA1"}"#.utf8))), .sent(providerId: "CA1"))
        let gone = TwilioCallsAPI.interpret(TransportResponse(status: 400, body: Array(#"{"code":21220,"message":"Call is not in-progress. Cannot redirect."}"#.utf8)))
        guard case .gone(_, let hint) = gone else { return XCTFail("\(gone)") }
        XCTAssertEqual(hint, TwilioCallsAPI.callGoneHint)
        guard case .gone(_, TwilioCallsAPI.callGoneHint) = TwilioCallsAPI.interpret(TransportResponse(status: 404, body: [])) else { return XCTFail() }
        guard case .retry = TwilioCallsAPI.interpret(TransportResponse(status: 429, body: [])) else { return XCTFail("429 did nothing") }
        // Unknown whether Twilio acted: never resent (a second <Dial> rings the agent again or cuts
        // the bridge); the caller's next wait request recovers a lost update.
        for unknown in [TransportResponse(status: 0, body: [], error: "timeout"), TransportResponse(status: 503, body: [])] {
            XCTAssertEqual(TwilioCallsAPI.interpret(unknown), .sent(providerId: nil), "\(unknown)")
        }
        guard case .failed = TwilioCallsAPI.interpret(TransportResponse(status: 401, body: Array(#"{"code":20003}"#.utf8))) else { return XCTFail() }
    }
}
