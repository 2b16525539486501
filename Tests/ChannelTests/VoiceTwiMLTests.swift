import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import SwitchboardCore
import TwilioSupport
import XCTest
@testable import VoiceChannel

/// TwiML the Voice channel writes (issue 10), checked by parsing it as XML: what a caller or a
/// setting supplies never breaks the document.
final class VoiceTwiMLTests: XCTestCase {
    static func config(_ extra: [String: String] = [:]) -> ChannelConfig {
        var settings = ["account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "tok",
                        "public_url": "https://example.org/v1/channels/hotline/twilio",
                        "greeting": "您好，欢迎致电12345政务服务便民热线。",
                        "menu.prompt": "咨询请按1，投诉请按2", "menu.options.1": "general", "menu.options.2": "complaints",
                        "menu.default": "general", "caller_id": "+8610690000"]
        settings.merge(extra) { $1 }
        return ChannelConfig(id: "hotline", kind: .voice, provider: "twilio", skill: "general", settings: settings)
    }

    static func renderer(_ extra: [String: String] = [:]) throws -> VoiceTwiMLRenderer {
        let settings = try VoiceSettings(config(extra), environment: ChannelEnvironment(skills: ["general", "complaints"]))
        return VoiceTwiMLRenderer(settings: settings, verifier: settings.verifier!)
    }

    /// The document as (element, attributes, text) in document order, through a real XML parser.
    static func parse(_ xml: String) throws -> [(String, [String: String], String)] {
        final class Collector: NSObject, XMLParserDelegate {
            var out: [(String, [String: String], String)] = []
            var stack: [Int] = []
            func parser(_ p: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String]) {
                stack.append(out.count)
                out.append((name, attributes, ""))
            }
            func parser(_ p: XMLParser, foundCharacters string: String) {
                if let i = stack.last { out[i].2 += string }
            }
            func parser(_ p: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) { stack.removeLast() }
        }
        let parser = XMLParser(data: Data(xml.utf8))
        let collector = Collector()
        parser.delegate = collector
        guard parser.parse() else { throw parser.parserError ?? NSError(domain: "xml", code: 1) }
        return collector.out
    }

    func testIncomingWithAMenuGreetsThenGathers() throws {
        let xml = try Self.renderer().render(.menu(attempt: 1), on: .incoming, callId: "CA1").xml
        let elements = try Self.parse(xml)
        XCTAssertEqual(elements.map(\.0), ["Response", "Say", "Gather", "Say"])
        XCTAssertEqual(elements[1].1["language"], "zh-CN")
        XCTAssertEqual(elements[1].2, "您好，欢迎致电12345政务服务便民热线。")
        XCTAssertEqual(elements[2].1["action"], "https://example.org/v1/channels/hotline/twilio/gather?attempt=1")
        XCTAssertEqual(elements[2].1["numDigits"], "1")
        XCTAssertEqual(elements[3].2, "咨询请按1，投诉请按2")
        // The repeat: no greeting again.
        XCTAssertEqual(try Self.parse(Self.renderer().render(.menu(attempt: 2), on: .gather, callId: "CA1").xml).map(\.0), ["Response", "Gather", "Say"])
    }

    func testQueueEnqueuesIntoTheConversationsOwnWaitAndTheWaitSaysThePosition() throws {
        let r = try Self.renderer(["hold_music": "https://example.org/hold.mp3"])
        let enqueue = try Self.parse(r.render(.queue(position: 3, waitedSeconds: 0), on: .gather, callId: "CA1").xml)
        XCTAssertEqual(enqueue.map(\.0), ["Response", "Enqueue"])
        XCTAssertEqual(enqueue[1].2, "CA1", "the call's own queue, named by its CallSid")
        XCTAssertEqual(enqueue[1].1["waitUrl"], "https://example.org/v1/channels/hotline/twilio/wait")
        XCTAssertEqual(enqueue[1].1["action"], "https://example.org/v1/channels/hotline/twilio/queue")

        let wait = try Self.parse(r.render(.queue(position: 3, waitedSeconds: 40), on: .wait, callId: "CA1").xml)
        XCTAssertEqual(wait.map(\.0), ["Response", "Say", "Play"])
        XCTAssertEqual(wait[1].2, "您前面还有 2 位，请耐心等候。")
        let next = try Self.parse(Self.renderer().render(.queue(position: 1, waitedSeconds: 40), on: .wait, callId: "CA1").xml)
        XCTAssertEqual(next.map(\.0), ["Response", "Say", "Pause"])
        XCTAssertEqual(next[1].2, "您是下一位，请稍候。")
        XCTAssertEqual(next[2].1["length"], "30")
    }

    func testVoicemailLeavesTheWaitThenRecordsWithATranscriptWhenAsked() throws {
        XCTAssertNil(try Self.parse(Self.renderer().render(.voicemail, on: .queue, callId: "CA1").xml)[2].1["transcribe"],
                     "off by default: Twilio transcribes English only")
        let r = try Self.renderer(["voicemail_transcribe": "true"])
        XCTAssertEqual(try Self.parse(r.render(.voicemail, on: .wait, callId: "CA1").xml).map(\.0), ["Response", "Leave"],
                       "Twilio allows no <Record> in a waitUrl document")
        let record = try Self.parse(r.render(.voicemail, on: .queue, callId: "CA1").xml)
        XCTAssertEqual(record.map(\.0), ["Response", "Say", "Record", "Say", "Hangup"])
        XCTAssertEqual(record[2].1["maxLength"], "120")
        XCTAssertEqual(record[2].1["transcribe"], "true")
        XCTAssertEqual(record[2].1["transcribeCallback"], "https://example.org/v1/channels/hotline/twilio/transcription")
        XCTAssertEqual(record[2].1["action"], "https://example.org/v1/channels/hotline/twilio/recording")
        XCTAssertEqual(try Self.parse(r.render(.hangup(reason: "voicemail recorded"), on: .recording, callId: "CA1").xml).map(\.2)[1], VoiceTwiMLRenderer.thanks)
    }

    func testTheBridgeDialsTheAgentsNumberOrSIPWithItsStatusCallback() throws {
        let r = try Self.renderer()
        let number = try Self.parse(TwiML([r.dial("+8613800000001")]).xml)
        XCTAssertEqual(number.map(\.0), ["Response", "Dial", "Number"])
        XCTAssertEqual(number[1].1["callerId"], "+8610690000")
        XCTAssertEqual(number[1].1["action"], "https://example.org/v1/channels/hotline/twilio/dial", "a bridge nobody answers comes back")
        XCTAssertEqual(number[2].2, "+8613800000001")
        XCTAssertEqual(number[2].1["statusCallback"], "https://example.org/v1/channels/hotline/twilio/status?leg=agent")
        XCTAssertEqual(try Self.parse(TwiML([r.dial("sip:1001@pbx.example")]).xml).map(\.0), ["Response", "Dial", "Sip"])
    }

    func testWhatCallersAndSettingsSupplyIsTextNeverMarkup() throws {
        let hostile = "</Say><Hangup/>&amp; \"'<Dial>12345</Dial>\u{1}\u{FFFE}\t\n末"
        let r = try Self.renderer(["greeting": hostile, "say_voice": "a\" onload=\"x", "menu.prompt": hostile])
        let elements = try Self.parse(r.render(.menu(attempt: 1), on: .incoming, callId: "CA1").xml)
        XCTAssertEqual(elements.map(\.0), ["Response", "Say", "Gather", "Say"], "no element smuggled in")
        XCTAssertEqual(elements[1].2, "</Say><Hangup/>&amp; \"'<Dial>12345</Dial>\t\n末", "controls dropped, the rest as written")
        XCTAssertEqual(elements[1].1["voice"], "a\" onload=\"x")
        let enqueue = try Self.parse(r.render(.queue(position: nil, waitedSeconds: 0), on: .gather, callId: "c<&>\"").xml)
        XCTAssertEqual(enqueue[1].2, "c<&>\"")
        let dial = try Self.parse(TwiML([r.dial("+86<138>&\"")]).xml)
        XCTAssertEqual(dial[2].2, "+86<138>&\"")
        XCTAssertEqual(TwiML.escape("a\tb\nc", attribute: true), "a&#9;b&#10;c")
    }

    func testABridgeAnsweredToAWaitLeavesTheQueueAndTheQueueActionDials() throws {
        let r = try Self.renderer()
        XCTAssertEqual(try Self.parse(r.render(.bridge(endpoint: "+8613800000001"), on: .wait, callId: "CA1").xml).map(\.0), ["Response", "Leave"],
                       "Twilio allows no <Dial> in a waitUrl document")
        XCTAssertEqual(try Self.parse(r.render(.bridge(endpoint: "+8613800000001"), on: .queue, callId: "CA1").xml).map(\.0),
                       ["Response", "Dial", "Number"])
    }

    func testAcknowledgeIsAnEmptyResponse() throws {
        XCTAssertEqual(try Self.renderer().render(.acknowledge, on: .status, callId: "CA1").xml, #"<?xml version="1.0" encoding="UTF-8"?><Response></Response>"#)
    }
}
