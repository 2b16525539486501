import SwitchboardCore
import TwilioSupport

/// The phone channel (DESIGN §10.5; issue 10): a telephony platform carries the call, the broker
/// decides who answers it. Each webhook is one `InboundEvent.call`; the server applies it to the
/// call's state and the answer tells the platform what to do next (TwiML for Twilio, JSON for a
/// PBX), built from the stored outcome, so nothing is promised to the caller that Redis does not
/// hold.
///
/// | provider | sub-path below `/v1/channels/<id>/` | body | verification | answer |
/// |----------|-------------------------------------|------|--------------|--------|
/// | twilio   | `twilio`, `twilio/status`, `twilio/gather`, `twilio/wait`, `twilio/queue`, `twilio/recording`, `twilio/transcription` | form | `X-Twilio-Signature` over `public_url` + suffix + query | TwiML |
/// | generic  | `events` | JSON (`GenericVoiceEvents`) | `X-Signature: sha256=<hex>` | `{"action":…}` |
///
/// Outbound: the bridge to the agent who accepted (`TwilioCallsAPI`); a call takes no messages.
/// Pure and immutable (`Sendable`), as `ChannelAdapter` requires.
public struct VoiceAdapter: ChannelAdapter {
    public var channelId: String { settings.channelId }
    public var kind: ChannelKind { .voice }
    let settings: VoiceSettings
    private let renderer: VoiceTwiMLRenderer?
    private let callsAPI: TwilioCallsAPI?
    private let control: GenericVoiceControl?
    /// The recordings the proxy route plays (`VoiceRecordingSource`).
    public let media: (any MediaSource)?

    public init(config: ChannelConfig, environment: ChannelEnvironment) throws(ChannelConfigurationError) {
        guard config.kind == .voice else {
            throw ChannelConfigurationError(channelId: config.id, key: "kind", problem: "must be 'voice' for the voice adapter, not '\(config.kind.rawValue)'")
        }
        settings = try VoiceSettings(config, environment: environment)
        if let verifier = settings.verifier, let sid = settings.accountSid {
            renderer = VoiceTwiMLRenderer(settings: settings, verifier: verifier)
            callsAPI = TwilioCallsAPI(apiBase: settings.apiBase, accountSid: sid, authToken: verifier.authToken)
        } else {
            renderer = nil
            callsAPI = nil
        }
        if let sid = settings.accountSid, let verifier = settings.verifier {
            media = VoiceRecordingSource(basicAuth: (sid, verifier.authToken))
        } else {
            media = VoiceRecordingSource(basicAuth: nil)
        }
        if let url = settings.controlURL, let secret = settings.hmacSecret {
            control = GenericVoiceControl(url: url, secret: secret)
        } else {
            control = nil
        }
    }

    public var routes: [ChannelRoute] {
        switch settings.provider {
        case .twilio: return TwilioVoiceRoute.allCases.map { ChannelRoute($0.rawValue) }
        case .generic: return [ChannelRoute(Self.genericRoute)]
        }
    }

    static let genericRoute = "events"

    public func receive(_ request: HTTPRequest) throws(ChannelError) -> InboundBatch {
        guard request.method == "POST" else { throw .unknownRoute("\(request.method) is not accepted: voice webhooks are POST only") }
        let policy = settings.policy
        switch settings.provider {
        case .twilio:
            guard let route = TwilioVoiceRoute(rawValue: request.subpath), let renderer, let verifier = settings.verifier else {
                throw .unknownRoute("channel '\(channelId)' (voice via Twilio) has no route '\(request.subpath)'")
            }
            let form = try verifier.verifiedForm(request, suffix: route.suffix)
            let query = try FormURLEncoding.decode(Array(request.query.utf8), what: "query string")
            let event = try TwilioVoiceCallback.event(route, form: TwilioForm(form), query: TwilioForm(query), menu: settings.menu)
            let callId = event?.callId ?? ""
            return InboundBatch(events: event.map { [.call($0, policy)] } ?? [], answer: .computed { outcomes, _ in
                HTTPResponse(status: 200, contentType: "text/xml; charset=utf-8", text: renderer.render(Self.instruction(outcomes), on: route, callId: callId).xml)
            })
        case .generic:
            guard request.subpath == Self.genericRoute, let secret = settings.hmacSecret else {
                throw .unknownRoute("channel '\(channelId)' (voice via a PBX) has no route '\(request.subpath)'")
            }
            try GenericVoiceEvents.verify(request, secret: secret)
            let events = try GenericVoiceEvents.events(request.body, menu: settings.menu, skills: settings.declaredSkills)
            let settings = settings
            return InboundBatch(events: events.map { .call($0, policy) }, answer: .computed { outcomes, _ in
                HTTPResponse(status: 200, text: GenericVoiceAnswer.json(Self.instruction(outcomes), settings: settings))
            })
        }
    }

    /// What the call does next: the last call outcome of the batch (a PBX's incoming call with its
    /// IVR choice is one event; its voicemail with the transcript two, the recording's decides).
    static func instruction(_ outcomes: [EventOutcome]) -> CallInstruction {
        for case .call(_, let instruction) in outcomes.reversed() where instruction != .acknowledge { return instruction }
        return .acknowledge
    }

    /// The only thing that leaves through a voice channel is call control: the bridge an agent's
    /// acceptance queued (`callId` set, `to` the agent's endpoint). A written reply cannot be.
    public func render(_ outbound: OutboundMessage, credential: String?) throws(ChannelError) -> Delivery {
        guard let callId = outbound.callId else {
            throw .unrenderable("a phone call takes no written messages (channel '\(channelId)'); reply on another channel or call back")
        }
        // `to` holds the agent's endpoints (phone and/or SIP, `AgentConfig.voiceEndpoints`).
        guard let endpoint = AgentConfig.voiceEndpoint(from: outbound.to, preferSIP: settings.provider == .generic) else {
            throw .unrenderable("the accepting agent has no phone or sip to bridge the call to")
        }
        if let callsAPI, let renderer {
            return .action(callsAPI.updateCall(callSid: callId, twiml: TwiML([renderer.dial(endpoint)]).xml,
                                               idempotencyKey: outbound.idempotencyKey))
        }
        guard let control else { throw .unrenderable("channel '\(channelId)' has no control_url") }
        return .action(control.bridge(callId: callId, endpoint: endpoint, idempotencyKey: outbound.idempotencyKey))
    }

    public func interpret(_ response: TransportResponse, to request: OutboundHTTPRequest, for outbound: OutboundMessage,
                          credential: String?) -> DeliveryOutcome {
        callsAPI != nil ? TwilioCallsAPI.interpret(response) : GenericVoiceControl.interpret(response)
    }
}
