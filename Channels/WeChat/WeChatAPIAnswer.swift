import SwitchboardCore

/// What a WeChat or WeCom API answer means for a delivery (DESIGN §10.1 transport results),
/// shared by both providers: no answer or a 5xx/429 is worth a retry; a 2xx carries an
/// `errcode` that `WeChatAPIError.classify` turns into sent, refresh, retry or failed with a hint.
enum WeChatAPIAnswer {
    static func outcome(_ response: TransportResponse, platform: WeChatAPIPlatform, providerId: String? = nil) -> DeliveryOutcome {
        if response.status == 0 {
            return .retry(reason: "no response from the WeChat API (\(response.error ?? "connection failed or timed out"))")
        }
        guard (200..<300).contains(response.status) else {
            let reason = "HTTP \(response.status) from the WeChat API"
            return response.status == 429 || response.status >= 500 ? .retry(reason: reason) : .failed(reason: reason)
        }
        let status: WeChatAPIStatus
        do {
            status = try WeChatAPIStatus.parse(response.body)
        } catch {
            // A 2xx that is not the API's JSON: a proxy's page, never a message the user got.
            return .retry(reason: error.message)
        }
        switch status.disposition(platform) {
        case .ok: return .sent(providerId: providerId)
        case .refreshToken: return .refreshCredentials(reason: "errcode \(status.errcode): \(status.errmsg)")
        case .retry(let reason): return .retry(reason: reason)
        case .failedWithHint(let reason, let hint): return .failed(reason: reason, agentHint: hint)
        case .failed(let reason): return .failed(reason: reason)
        }
    }

    /// The same classification for the calls that are not deliveries (tokens, pulls, media):
    /// nil when the answer is a success, else what went wrong and whether a new token may help.
    static func problem(_ response: TransportResponse, platform: WeChatAPIPlatform) -> (reason: String, refresh: Bool)? {
        switch outcome(response, platform: platform) {
        case .sent, .next: return nil
        case .refreshCredentials(let reason): return (reason, true)
        case .retry(let reason, _), .failed(let reason, _), .gone(let reason, _): return (reason, false)
        }
    }
}
