// fuzz-seeds: Tests/Fuzz/Seeds/voice-callbacks/*
import SwitchboardCore
import TwilioSupport
@testable import VoiceChannel

/// The voice callbacks' parsing (issue 10): the input as the form of every Twilio Voice route
/// (`TwilioVoiceCallback.event`, after `FormURLEncoding.decode`, as the adapter runs it once the
/// signature holds) and as the body of the generic PBX events. Every event that parses is then
/// applied to the call state machine twice, and the repeat must have no effect (platforms retry
/// webhooks): a report is applied once, a retried incoming call or wait request opens, queues or
/// diverts nothing again. Only a PBX's menu answer without an attempt number may count twice
/// (it cannot be told from a second miss). Every instruction is rendered as TwiML for every route
/// and as JSON. A `ChannelError`, never a trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = Array(UnsafeBufferPointer(start: data, count: size))
    var events: [CallEvent] = []
    if let pairs = try? FormURLEncoding.decode(body) {
        for route in TwilioVoiceRoute.allCases {
            for query in [[], [("leg", "agent")]] as [[(String, String)]] {
                if let event = try? TwilioVoiceCallback.event(route, form: TwilioForm(pairs), query: TwilioForm(query), menu: H.menu) {
                    events.append(event)
                }
            }
        }
    }
    if let parsed = try? GenericVoiceEvents.events(body, menu: H.menu) { events += parsed }
    var record: CallRecord? = nil
    for (i, event) in events.enumerated() {
        let facts = CallFacts(now: 1_764_790_000_000 + Int64(i) * 7_000, conversationStatus: i % 2 == 0 ? .queued : .assigned,
                              queuePosition: i, agentsLoggedIn: i % 3 != 0, agentEndpoint: i % 4 == 0 ? "+8613800000001" : nil)
        let first = CallLifecycle.apply(event, to: record, facts: facts, policy: H.policy)
        let again = CallLifecycle.apply(event, to: first.record, facts: facts, policy: H.policy)
        if case .menuChoice(_, _, nil) = event.step {} else if !again.effects.isEmpty {
            fatalError("an event applied twice had effects the second time: \(event) → \(again.effects)")
        }
        record = first.record
        for route in TwilioVoiceRoute.allCases { _ = H.renderer.render(first.instruction, on: route, callId: event.callId).xml }
        _ = GenericVoiceAnswer.json(first.instruction, settings: H.settings)
    }
    return 0
}

enum H {
    static let menu = VoiceSettings.Menu(prompt: "咨询请按1，投诉请按2", options: ["1": "general", "2": "complaints"], defaultSkill: "general")
    static let policy = CallPolicy(defaultSkill: "general", hasMenu: true, voicemailAfterSeconds: 20)
    static let settings = try! VoiceSettings(
        ChannelConfig(id: "hotline", kind: .voice, provider: "twilio", skill: "general",
                      settings: ["account_sid": "AC0123", "auth_token": "t", "public_url": "https://example.org/v1/channels/hotline/twilio",
                                 "menu.prompt": "按1", "menu.options.1": "general", "greeting": "您好"]),
        environment: ChannelEnvironment(skills: ["general", "complaints"]))
    static let renderer = VoiceTwiMLRenderer(settings: settings, verifier: settings.verifier!)
}
