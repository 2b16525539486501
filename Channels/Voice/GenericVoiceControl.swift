import SwitchboardCore
import SwitchboardCrypto

/// Call control pushed to a PBX's `control_url` (issue 10 item 5): the bridge an agent's acceptance
/// sends, as the PBX script receives it:
///
///     POST {control_url}   X-Signature: sha256=<hex HMAC-SHA256(hmac_secret, body)>
///     {"action":"bridge","call_id":"…","endpoint":"sip:1001@pbx.example","idempotency_key":"<call>:<offer>"}
///
/// Sent once, as the Twilio update is (`TwilioCallsAPI`): only a 429 is retried; a lost answer is
/// not resent, since the PBX's next `call.waiting` is answered with the same bridge.
struct GenericVoiceControl: Sendable {
    var url: String
    var secret: String

    func bridge(callId: String, endpoint: String, idempotencyKey: String) -> OutboundHTTPRequest {
        let body = Array(#"{"action":"bridge","call_id":\#(JSONString.quote(callId)),"endpoint":\#(JSONString.quote(endpoint)),"idempotency_key":\#(JSONString.quote(idempotencyKey))}"#.utf8)
        return OutboundHTTPRequest(method: "POST", url: url,
                                   headers: ["Content-Type": "application/json", "X-Signature": HMACSignatureHeader.value(body: body, secret: secret)],
                                   body: body)
    }

    /// 2xx: done. 404 or 410: the PBX no longer has the call (the caller hung up). 429: retried.
    static func interpret(_ response: TransportResponse) -> DeliveryOutcome {
        switch response.status {
        case 200..<300: return .sent(providerId: nil)
        case 404, 410: return .gone(reason: "HTTP \(response.status): the PBX has no such call", agentHint: TwilioCallsAPI.callGoneHint)
        case 429: return .retry(reason: "HTTP 429 from the PBX")
        case 0, 500..<600: return .sent(providerId: nil)   // unknown whether it acted: the next call.waiting recovers
        default: return .failed(reason: "HTTP \(response.status) from the PBX's control_url",
                                agentHint: "无法接通来电（交换机拒绝了桥接请求），请联系管理员。")
        }
    }
}
