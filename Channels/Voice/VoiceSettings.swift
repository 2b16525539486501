import SwitchboardCore
import TwilioSupport

/// The settings of a `voice` channel (DESIGN §10.5; issue 10 "Config shape"), validated with their
/// key paths.
///
/// Both providers: `skill` (common), `greeting` (text said in Chinese) or `greeting_audio` (a URL
/// played), `say_voice` (Twilio's `voice` attribute), `menu: {prompt, options: {digit: skill},
/// default}`, `voicemail_after` (default 120 s; `0s` never), `voicemail_when_no_agents` (default
/// true), `voicemail_prompt`, `voicemail_max_length` (default 120 s), `voicemail_transcribe`
/// (default false: Twilio's recording transcription understands English only,
/// https://www.twilio.com/docs/voice/twiml/record#transcribe; a PBX sends its own), `voice_offer_timeout`
/// (default 15 s), `position_every` (default 30 s), `hold_music` (a URL), `caller_id`,
/// `callback_retry_after` (default 30 min) and `callback_attempts` (default 3) for voicemails' call-backs.
/// `twilio`: `account_sid`, `auth_token`, `public_url` (the incoming-call URL configured at
/// Twilio: the signature base, and the base of every callback URL the broker writes into TwiML),
/// `api_base` (default `https://api.twilio.com`). `generic`: `hmac_secret`, `control_url`.
struct VoiceSettings: Sendable {
    enum Provider: String, CaseIterable, Sendable {
        case twilio, generic
    }

    struct Menu: Sendable, Equatable {
        var prompt: String
        /// Digit → skill.
        var options: [String: String]
        var defaultSkill: String
    }

    let channelId: String
    let provider: Provider
    /// Every declared skill (a PBX's `skill` on an incoming call must be one).
    let declaredSkills: [String]
    let skill: String
    let greeting: String?
    let greetingAudio: String?
    let sayVoice: String?
    let menu: Menu?
    let voicemailAfterSeconds: Int?
    let voicemailWhenNoAgents: Bool
    let voicemailPrompt: String
    let voicemailMaxLengthSeconds: Int
    let voicemailTranscribe: Bool
    let offerTimeoutSeconds: Int
    let callbackRetryAfterSeconds: Int
    let callbackAttempts: Int
    let positionEverySeconds: Int
    let holdMusic: String?
    let callerId: String?
    // twilio
    let accountSid: String?
    let verifier: TwilioRequestVerifier?
    let apiBase: String
    // generic
    let hmacSecret: String?
    let controlURL: String?

    static let common = ["greeting", "greeting_audio", "say_voice", "menu", "voicemail_after", "voicemail_when_no_agents",
                         "voicemail_prompt", "voicemail_max_length", "voicemail_transcribe", "callback_retry_after", "callback_attempts", "voice_offer_timeout", "position_every", "hold_music", "caller_id"]
    static let allowed: [Provider: [String]] = [
        .twilio: common + ["account_sid", "auth_token", "public_url", "api_base"],
        .generic: common + ["hmac_secret", "control_url"],
    ]
    static let defaultVoicemailPrompt = "当前坐席繁忙，请在提示音后留言，留下您的姓名和事由，按井号键结束，我们会尽快给您回电。"

    init(_ config: ChannelConfig, environment: ChannelEnvironment) throws(ChannelConfigurationError) {
        let id = config.id
        func error(_ key: String, _ problem: String) -> ChannelConfigurationError {
            ChannelConfigurationError(channelId: id, key: key, problem: problem)
        }
        let provider = try config.providerCase(Provider.self)
        let allowed = Self.allowed[provider] ?? []
        if let unknown = config.unknownSettings(allowed: allowed).first {
            throw error(unknown, "is not a setting of a \(provider.rawValue) voice channel (settings: \(allowed.joined(separator: ", ")))")
        }
        func known(_ skill: String, _ key: String) throws(ChannelConfigurationError) -> String {
            guard environment.skills.isEmpty || environment.skills.contains(skill) else {
                throw error(key, "unknown skill '\(skill)' (declared: \(environment.skills.joined(separator: ", ")))")
            }
            return skill
        }
        func seconds(_ key: String, default value: Int, allowZero: Bool = false) throws(ChannelConfigurationError) -> Int {
            guard let text = config.value(key) else { return value }
            guard let s = DurationParser.seconds(from: text), s >= (allowZero ? 0 : 1), s <= 86_400 else {
                throw error(key, "must be a duration such as 15s or 2m (at most 24h), found '\(text)'")
            }
            return Int(s.rounded())
        }
        func url(_ key: String) throws(ChannelConfigurationError) -> String? {
            guard let value = config.value(key) else { return nil }
            guard WebURL.isAbsoluteHTTP(value) else { throw error(key, "must be an http:// or https:// URL, found '\(value)'") }
            return value
        }
        channelId = id
        self.provider = provider
        declaredSkills = environment.skills
        skill = try known(config.skill, "skill")
        greeting = config.value("greeting")
        greetingAudio = try url("greeting_audio")
        if greeting != nil, greetingAudio != nil { throw error("greeting_audio", "give greeting (text) or greeting_audio (a URL), not both") }
        sayVoice = config.value("say_voice")
        holdMusic = try url("hold_music")
        callerId = config.value("caller_id")

        let options = config.mapping("menu.options")
        if config.settings.keys.contains(where: { $0.hasPrefix("menu") }) {
            guard let prompt = config.value("menu.prompt") else { throw .missing(id, "menu.prompt", because: "(what the caller hears)") }
            guard !options.isEmpty else { throw .missing(id, "menu.options", because: "(digit: skill, e.g. { \"1\": general })") }
            var mapped: [String: String] = [:]
            for (digit, skill) in options {
                guard digit.count == 1, let d = digit.first, d.isASCII, d.isNumber || d == "*" || d == "#" else {
                    throw error("menu.options.\(digit)", "a menu key is one digit, * or #")
                }
                mapped[digit] = try known(skill, "menu.options.\(digit)")
            }
            let fallback = try known(config.value("menu.default") ?? config.skill, "menu.default")
            if let stray = config.settings.keys.sorted().first(where: {
                $0.hasPrefix("menu.") && $0 != "menu.prompt" && $0 != "menu.default" && !$0.hasPrefix("menu.options.")
            }) {
                throw error(stray, "is not part of menu (prompt, options, default)")
            }
            menu = Menu(prompt: prompt, options: mapped, defaultSkill: fallback)
        } else {
            menu = nil
        }
        let after = try seconds("voicemail_after", default: 120, allowZero: true)
        voicemailAfterSeconds = after == 0 ? nil : after
        func flag(_ key: String, default value: Bool) throws(ChannelConfigurationError) -> Bool {
            switch config.value(key) {
            case nil: return value
            case "true", "yes", "on": return true
            case "false", "no", "off": return false
            case let other?: throw error(key, "must be true or false, found '\(other)'")
            }
        }
        voicemailWhenNoAgents = try flag("voicemail_when_no_agents", default: true)
        voicemailTranscribe = try flag("voicemail_transcribe", default: false)
        voicemailPrompt = config.value("voicemail_prompt") ?? Self.defaultVoicemailPrompt
        voicemailMaxLengthSeconds = try seconds("voicemail_max_length", default: 120)
        offerTimeoutSeconds = try seconds("voice_offer_timeout", default: 15)
        callbackRetryAfterSeconds = try seconds("callback_retry_after", default: 1800)
        switch config.value("callback_attempts").map({ Int($0) }) {
        case nil: callbackAttempts = 3
        case let n?? where (1...20).contains(n): callbackAttempts = n
        default: throw error("callback_attempts", "must be a whole number from 1 to 20, found '\(config.value("callback_attempts") ?? "")'")
        }
        positionEverySeconds = try seconds("position_every", default: 30)

        switch provider {
        case .twilio:
            guard let sid = config.value("account_sid") else { throw .missing(id, "account_sid", because: "(AC…) for the Calls API") }
            guard sid.hasPrefix("AC"), sid.count <= 64, sid.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                throw error("account_sid", "must be a Twilio Account SID (AC followed by letters and digits)")
            }
            guard let token = config.value("auth_token") else { throw .missing(id, "auth_token", because: "to verify X-Twilio-Signature and call the Calls API") }
            guard let publicURL = config.value("public_url") else {
                throw .missing(id, "public_url", because: "because Twilio signs the URL it calls, and callbacks are built from it")
            }
            let base = config.value("api_base") ?? "https://api.twilio.com"
            guard WebURL.isAbsoluteHTTP(base), !base.contains("?"), !base.contains("#") else {
                throw error("api_base", "must be an http(s) URL without query or fragment, found '\(base)'")
            }
            accountSid = sid
            verifier = try TwilioRequestVerifier(authToken: token, publicURL: publicURL, channelId: id)
            apiBase = base.hasSuffix("/") ? String(base.dropLast()) : base
            hmacSecret = nil
            controlURL = nil
        case .generic:
            guard let secret = config.value("hmac_secret") else { throw .missing(id, "hmac_secret", because: "to verify X-Signature") }
            accountSid = nil
            verifier = nil
            apiBase = ""
            hmacSecret = secret
            controlURL = try url("control_url")
            guard controlURL != nil else { throw .missing(id, "control_url", because: "(where bridge instructions are sent)") }
        }
    }

    /// What the call state machine needs of these settings.
    var policy: CallPolicy {
        CallPolicy(defaultSkill: menu?.defaultSkill ?? skill, hasMenu: menu != nil, voicemailAfterSeconds: voicemailAfterSeconds,
                   voicemailWhenNoAgents: voicemailWhenNoAgents, offerTimeoutSeconds: offerTimeoutSeconds,
                   callbackRetryAfterSeconds: callbackRetryAfterSeconds, callbackAttempts: callbackAttempts,
                   prefersSIP: provider == .generic)
    }
}
