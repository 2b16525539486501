import SwitchboardCore
import SwitchboardCrypto

/// The access tokens of the two providers (DESIGN §10.1 "Credentials"), cached in Redis by the
/// server so every node shares one.
///
/// - Official Account: `POST {api_base}/cgi-bin/stable_token` (getStableAccessToken): the stable
///   token does not invalidate the previous one on a normal call; `force` adds `force_refresh`
///   after the API refused a token (limited to 20 a day by the platform).
/// - WeCom: `GET {api_base}/cgi-bin/gettoken?corpid=…&corpsecret=…`
///   (https://developer.work.weixin.qq.com/document/path/91039); each call issues a token, the
///   previous one stays valid until it expires.
struct WeChatAccessToken: CredentialSource {
    let settings: WeChatSettings

    var cacheKey: String {
        switch settings.provider {
        case .officialAccount: return "wechat:" + settings.appId
        // One corp has a secret per application: the digest tells them apart without storing it.
        case .wecomKf: return "wecom:" + settings.appId + ":" + String(Digest.sha256Hex(Array(settings.secret.utf8)).prefix(12))
        }
    }

    func tokenRequest(force: Bool) -> OutboundHTTPRequest {
        switch settings.provider {
        case .officialAccount:
            return OutboundHTTPRequest(url: settings.apiBase + "/cgi-bin/stable_token", headers: ["content-type": "application/json"],
                                       body: Array(OfficialAccountAPI.stableTokenBody(appId: settings.appId, secret: settings.secret,
                                                                                      forceRefresh: force).utf8))
        case .wecomKf:
            let query = FormURLEncoding.encode([("corpid", settings.appId), ("corpsecret", settings.secret)])
            return OutboundHTTPRequest(method: "GET", url: settings.apiBase + "/cgi-bin/gettoken?" + query, headers: [:], body: [])
        }
    }

    func parseToken(_ response: TransportResponse) -> Result<IssuedCredential, CredentialError> {
        guard response.status != 0 else { return .failure(CredentialError("no answer from the token API: \(response.error ?? "")", retryable: true)) }
        guard (200..<300).contains(response.status) else {
            return .failure(CredentialError("the token API answered HTTP \(response.status)", retryable: response.status >= 500 || response.status == 429))
        }
        do {
            switch try OfficialAccountAPI.parseStableToken(response.body) {
            case .success(let issued): return .success(issued)
            case .failure(let status):
                let platform: WeChatAPIPlatform = settings.provider == .officialAccount ? .officialAccount : .wecom
                let retryable: Bool
                if case .retry = status.disposition(platform) { retryable = true } else { retryable = false }
                return .failure(CredentialError("the token API refused: errcode \(status.errcode): \(status.errmsg)", retryable: retryable))
            }
        } catch {
            return .failure(CredentialError(error.message, retryable: true))
        }
    }
}
