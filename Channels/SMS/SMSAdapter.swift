import SwitchboardCore
import SwitchboardCrypto
import TwilioSupport

/// The SMS channel (DESIGN §10, SMS): inbound texts and delivery reports from Twilio, Aliyun,
/// Tencent Cloud or a generic HMAC-signed gateway, and outbound texts through a Twilio Messages
/// API–style endpoint.
///
/// Webhook sub-paths below `/v1/channels/<channelId>/`, POST only, those of the configured
/// provider only (any other is `unknownRoute`, 404):
///
/// | provider | sub-path         | body                       | verification                     | answer |
/// |----------|------------------|----------------------------|----------------------------------|--------|
/// | twilio   | `twilio`         | form: inbound SMS/MMS      | `X-Twilio-Signature` (HMAC-SHA1) | empty TwiML |
/// | twilio   | `twilio/status`  | form: status callback      | `X-Twilio-Signature`             | empty TwiML |
/// | aliyun   | `aliyun`         | JSON array (SmsUp)         | `?token=` if `webhook_token` set | `{"code":0,"msg":"接收成功"}` |
/// | tencent  | `tencent`        | JSON reply callback        | `?token=` if `webhook_token` set | `{"result":0,"errmsg":"OK"}` |
/// | generic  | `generic`        | JSON message               | `X-Signature: sha256=<hex>`      | `{"ok":true}` |
/// | generic  | `generic/status` | JSON status                | `X-Signature`                    | `{"ok":true}` |
///
/// Settings (`ChannelConfig.settings`): `auth_token` and `public_url` (twilio), `hmac_secret`
/// (generic), `webhook_token` (aliyun, tencent; optional), `public_url` (generic; optional, for
/// status callbacks). `outbound`: `url`, `account_sid`, `auth_token` (defaults to the channel's
/// `auth_token`) and `from` (a number, or a Twilio Messaging Service SID `MG…`).
///
/// Pure and immutable (`Sendable`), as `ChannelAdapter` requires: no I/O, clock or randomness.
public struct SMSAdapter: ChannelAdapter {
    public let channelId: String
    public var kind: ChannelKind { .sms }
    public let provider: SMSProvider

    /// The configured provider's sub-paths, POST only. Aliyun and Tencent pushes carry no
    /// signature (at most a shared `?token=`), so they are public routes behind the rate limit.
    public var routes: [ChannelRoute] {
        let signed = provider == .twilio || provider == .generic
        return provider.subpaths.map { ChannelRoute($0, methods: ["POST"], signed: signed) }
    }

    /// Twilio: the signature check over `public_url` (its own query dropped; the request's appended).
    private let twilio: TwilioRequestVerifier?
    /// Where the gateway posts delivery reports for our sends: `public_url` + `/status`, if set.
    private let statusCallbackURL: String?
    private let hmacSecret: String?
    private let webhookToken: String?
    private let messagesAPI: TwilioMessagesAPI?

    /// Builds the adapter for an `sms` channel, or names the first setting that is missing or
    /// unusable.
    public init(config: ChannelConfig) throws(ChannelConfigurationError) {
        let id = config.id
        guard config.kind == .sms else {
            throw ChannelConfigurationError(channelId: id, key: "kind", problem: "must be 'sms' for the SMS adapter, not '\(config.kind.rawValue)'")
        }
        let provider = try config.providerCase(SMSProvider.self)
        let settings = config.settings
        func value(_ key: String) -> String? { settings[key].flatMap { $0.isEmpty ? nil : $0 } }

        var twilio: TwilioRequestVerifier?
        var publicURL: String?
        var hmacSecret: String?
        var webhookToken: String?
        switch provider {
        case .twilio:
            guard let token = value("auth_token") else { throw .missing(id, "auth_token", because: "to verify X-Twilio-Signature") }
            guard let url = value("public_url") else {
                throw .missing(id, "public_url", because: "because Twilio signs the public URL it posts to")
            }
            let verifier = try TwilioRequestVerifier(authToken: token, publicURL: url, channelId: id)
            twilio = verifier
            publicURL = verifier.publicURL
        case .generic:
            guard let secret = value("hmac_secret") else { throw .missing(id, "hmac_secret", because: "to verify X-Signature") }
            hmacSecret = secret
            publicURL = try value("public_url").map { url throws(ChannelConfigurationError) in
                try TwilioRequestVerifier.publicBase(url, channelId: id)
            }
        case .aliyun, .tencent:
            if let token = settings["webhook_token"] {
                guard !token.isEmpty else {
                    throw ChannelConfigurationError(channelId: id, key: "webhook_token", problem: "must not be empty (leave it out to accept unsigned pushes)")
                }
                webhookToken = token
            }
        }
        if settings["webhook_token"] != nil, provider == .twilio || provider == .generic {
            throw ChannelConfigurationError(channelId: id, key: "webhook_token",
                                        problem: "applies only to the unsigned aliyun and tencent providers; \(provider.rawValue) requests are signed")
        }

        let statusCallbackURL = publicURL.map { $0.hasSuffix("/") ? $0 + "status" : $0 + "/status" }
        var messagesAPI: TwilioMessagesAPI?
        if let outbound = config.outbound {
            let lower = outbound.url.lowercased()
            guard lower.hasPrefix("https://") || lower.hasPrefix("http://") else {
                throw ChannelConfigurationError(channelId: id, key: "outbound.url", problem: "must be an http(s) URL")
            }
            guard let sid = outbound.accountSid, !sid.isEmpty else {
                throw .missing(id, "outbound.account_sid", because: "as the Basic-auth user of the Messages API")
            }
            guard let password = outbound.authToken.flatMap({ $0.isEmpty ? nil : $0 }) ?? value("auth_token") else {
                throw .missing(id, "outbound.auth_token", because: "(or the channel's auth_token) as the Basic-auth password")
            }
            guard let from = outbound.from, !from.isEmpty else {
                throw .missing(id, "outbound.from", because: "as the sender number or Messaging Service SID")
            }
            messagesAPI = TwilioMessagesAPI(url: outbound.url, accountSid: sid, password: password, from: from,
                                            statusCallback: statusCallbackURL)
        }

        self.channelId = id
        self.provider = provider
        self.twilio = twilio
        self.statusCallbackURL = statusCallbackURL
        self.hmacSecret = hmacSecret
        self.webhookToken = webhookToken
        self.messagesAPI = messagesAPI
    }

    // MARK: Inbound

    public func receive(_ request: HTTPRequest) throws(ChannelError) -> InboundBatch {
        guard provider.subpaths.contains(request.subpath) else {
            throw .unknownRoute("channel '\(channelId)' (SMS via \(provider.rawValue)) has no route '\(request.subpath)'")
        }
        // Every provider POSTs; a GET here is a browser or a scanner, not a gateway.
        guard request.method == "POST" else {
            throw .unknownRoute("\(request.method) is not accepted on '\(request.subpath)': SMS webhooks are POST only")
        }
        switch request.subpath {
        case "twilio":
            let pairs = try verifiedTwilioForm(request)
            return InboundBatch(events: [.message(try TwilioWebhook.inbound(pairs))], response: TwilioWebhook.acknowledgement)
        case "twilio/status":
            let pairs = try verifiedTwilioForm(request)
            let events = try TwilioWebhook.status(pairs).map { [InboundEvent.deliveryStatus($0)] } ?? []
            return InboundBatch(events: events, response: TwilioWebhook.acknowledgement)
        case "aliyun":
            try checkWebhookToken(request)
            try requireJSON(request)
            let messages = try AliyunSmsUp.messages(request.body)
            return InboundBatch(events: messages.map { .message($0) }, response: AliyunSmsUp.acknowledgement)
        case "tencent":
            try checkWebhookToken(request)
            try requireJSON(request)
            return InboundBatch(events: [.message(try TencentSmsReply.message(request.body))], response: TencentSmsReply.acknowledgement)
        case "generic":
            try verifyGeneric(request)
            return InboundBatch(events: [.message(try GenericSMSGateway.message(request.body))], response: GenericSMSGateway.acknowledgement)
        case "generic/status":
            try verifyGeneric(request)
            return InboundBatch(events: [.deliveryStatus(try GenericSMSGateway.status(request.body))], response: GenericSMSGateway.acknowledgement)
        default:
            throw .unknownRoute("channel '\(channelId)' has no route '\(request.subpath)'")
        }
    }

    /// The URL Twilio signed for `request`: `public_url`, plus `/status` for the status callback,
    /// plus the request's query. Nil unless the provider is Twilio.
    public func twilioSignedURL(for request: HTTPRequest) -> String? {
        twilio?.signedURL(suffix: request.subpath.hasSuffix("/status") ? "status" : "", query: request.query)
    }

    private func verifiedTwilioForm(_ request: HTTPRequest) throws(ChannelError) -> [(String, String)] {
        guard let twilio else { throw .unknownRoute("channel '\(channelId)' has no Twilio route") }
        return try twilio.verifiedForm(request, suffix: request.subpath.hasSuffix("/status") ? "status" : "")
    }

    private func verifyGeneric(_ request: HTTPRequest) throws(ChannelError) {
        guard let hmacSecret else { throw .unknownRoute("channel '\(channelId)' has no generic gateway") }
        try GenericSMSGateway.verify(signatureHeader: request.headers["x-signature"], body: request.body, secret: hmacSecret)
        try requireJSON(request)
    }

    /// Aliyun and Tencent pushes are unsigned; with `webhook_token` set, the URL configured at
    /// the provider must carry `?token=<webhook_token>`, compared in constant time.
    private func checkWebhookToken(_ request: HTTPRequest) throws(ChannelError) {
        guard let webhookToken else { return }
        let query = try FormURLEncoding.decode(Array(request.query.utf8), what: "query string")
        let tokens = query.filter { $0.0 == "token" }.map(\.1)
        guard !tokens.isEmpty else { throw .badSignature("missing ?token= (this channel requires webhook_token)") }
        guard tokens.count == 1 else { throw .badSignature("repeated ?token= parameter") }
        guard ConstantTime.equals(tokens[0], webhookToken) else { throw .badSignature("wrong ?token=") }
    }

    private func requireJSON(_ request: HTTPRequest) throws(ChannelError) {
        guard request.mediaType == "application/json" else {
            throw .unsupportedMediaType("\(provider.rawValue) webhooks are application/json, not '\(request.mediaType)'")
        }
    }

    // MARK: Outbound

    public func render(_ outbound: OutboundMessage, credential: String?) throws(ChannelError) -> Delivery {
        guard let messagesAPI else { throw .unrenderable("channel '\(channelId)' has no outbound settings") }
        return .http(try messagesAPI.request(for: outbound))
    }

    public func interpret(_ response: TransportResponse, to request: OutboundHTTPRequest, for outbound: OutboundMessage,
                          credential: String?) -> DeliveryOutcome {
        TwilioMessagesAPI.interpret(response)
    }

}
