import SwitchboardCore

/// The settings of a `wechat` channel, validated with their key paths (DESIGN §10.1 "Config").
///
/// Both providers: `token` (the callback token), `encoding_aes_key` (43 characters),
/// `api_base` (default the platform's own host; tests point it at a local sink), `skill`.
/// `official_account`: `app_id`, `app_secret`, `previous_encoding_aes_key` (key rotation),
/// `welcome`, `menu_skills: {KEY: skill}`; without `encoding_aes_key` only plain mode is accepted.
/// `wecom_kf`: `corp_id`, `secret`, `open_kfid` (optional: only this account's callbacks),
/// `end_session_on_close` (optional, not acted on yet).
struct WeChatSettings: Sendable {
    enum Provider: String, CaseIterable, Sendable {
        case officialAccount = "official_account"
        case wecomKf = "wecom_kf"
    }

    let channelId: String
    let provider: Provider
    let token: String
    let crypto: WeChatCrypto?
    let apiBase: String
    /// `app_id` (Official Account) or `corp_id` (WeCom): the receive id inside every plaintext.
    let appId: String
    let secret: String
    let welcome: String?
    let menuSkills: [String: String]
    let openKfId: String?
    /// `media.max_bytes`: the largest image downloaded to pass on to `media/upload`.
    let mediaMaxBytes: Int

    static let allowed: [Provider: [String]] = [
        .officialAccount: ["app_id", "app_secret", "token", "encoding_aes_key", "previous_encoding_aes_key", "api_base",
                           "welcome", "menu_skills", "original_id"],
        .wecomKf: ["corp_id", "secret", "token", "encoding_aes_key", "api_base", "open_kfid", "end_session_on_close"],
    ]

    init(_ config: ChannelConfig, environment: ChannelEnvironment) throws(ChannelConfigurationError) {
        let id = config.id
        func error(_ key: String, _ problem: String) -> ChannelConfigurationError {
            ChannelConfigurationError(channelId: id, key: key, problem: problem)
        }
        let provider = try config.providerCase(Provider.self)
        if let unknown = config.unknownSettings(allowed: Self.allowed[provider] ?? []).first {
            throw error(unknown, "is not a setting of a \(provider.rawValue) channel (settings: \((Self.allowed[provider] ?? []).joined(separator: ", ")))")
        }
        func required(_ key: String, _ why: String) throws(ChannelConfigurationError) -> String {
            guard let value = config.value(key) else { throw .missing(id, key, because: why) }
            return value
        }
        channelId = id
        self.provider = provider
        token = try required("token", "to verify the platform's signatures")
        switch provider {
        case .officialAccount:
            appId = try required("app_id", "(the Official Account's AppID) to check decrypted callbacks and fetch tokens")
            secret = try required("app_secret", "to fetch access tokens (stable_token)")
        case .wecomKf:
            appId = try required("corp_id", "(the WeCom CorpID) to check decrypted callbacks and fetch tokens")
            secret = try required("secret", "(the 微信客服 Secret) to fetch access tokens (gettoken)")
        }
        let aesKey = config.value("encoding_aes_key")
        if provider == .wecomKf, aesKey == nil {
            throw .missing(id, "encoding_aes_key", because: "because WeCom callbacks are always encrypted")
        }
        if let aesKey {
            let current: WeChatAESKey
            do { current = try WeChatAESKey(encodingAESKey: aesKey) } catch { throw ChannelConfigurationError(channelId: id, key: "encoding_aes_key", problem: error.description) }
            var previous: WeChatAESKey?
            if let old = config.value("previous_encoding_aes_key") {
                do { previous = try WeChatAESKey(encodingAESKey: old) } catch { throw ChannelConfigurationError(channelId: id, key: "previous_encoding_aes_key", problem: error.description) }
            }
            crypto = WeChatCrypto(current: current, previous: previous)
        } else {
            if config.value("previous_encoding_aes_key") != nil {
                throw error("previous_encoding_aes_key", "needs encoding_aes_key (the current key) as well")
            }
            crypto = nil
        }
        let defaultBase = provider == .officialAccount ? "https://api.weixin.qq.com" : "https://qyapi.weixin.qq.com"
        let base = config.value("api_base") ?? defaultBase
        let lower = base.lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://"), !base.contains("?"), !base.contains("#") else {
            throw error("api_base", "must be an http(s) URL without query or fragment, found '\(base)'")
        }
        apiBase = base.hasSuffix("/") ? String(base.dropLast()) : base
        welcome = config.value("welcome")
        // A mapping of menu key → skill: a scalar, a list or a deeper mapping would map nothing.
        let entries = config.mapping("menu_skills")
        let direct = Set(entries.map { "menu_skills." + $0.key })
        if let stray = config.settings.keys.filter({ $0.hasPrefix("menu_skills") && !direct.contains($0) }).sorted().first {
            throw error(stray, "menu_skills must map menu keys to skill names, e.g. { COMPLAINT: complaints }")
        }
        var skills: [String: String] = [:]
        for (key, skill) in entries {
            guard environment.skills.isEmpty || environment.skills.contains(skill) else {
                throw error("menu_skills.\(key)", "unknown skill '\(skill)' (declared: \(environment.skills.joined(separator: ", ")))")
            }
            skills[key] = skill
        }
        menuSkills = skills
        openKfId = config.value("open_kfid")
        mediaMaxBytes = environment.mediaMaxBytes
    }
}
