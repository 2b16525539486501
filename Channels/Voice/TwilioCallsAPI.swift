import Foundation
import SwitchboardCore
import SwitchboardCrypto

/// Call control through Twilio's Calls API (issue 10 "Bridging on accept"): "update call" with new
/// TwiML moves the caller out of its `<Enqueue>` wait and into a `<Dial>` to the agent
/// (https://www.twilio.com/docs/voice/api/call-resource#update-a-call-resource):
///
///     POST {api_base}/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json   Twiml=<Response>…</Response>
///
/// Sent as an outbox `.action` delivery, once per acceptance (the outbox key is
/// `<CallSid>:<offer>`). A second update with the same `<Dial>` would restart it (the agent's
/// phone rings again, or a bridge already up is cut), so only an answer that proves Twilio did
/// nothing (429, "Too Many Requests") is retried. A lost answer (timeout, 5xx) is not: if the
/// update did not take, the caller is still on hold, and the next wait request (every
/// `position_every` seconds) finds the call accepted and moves the caller to the agent itself
/// (`CallLifecycle.current`: `<Leave/>`, then the `<Dial>`).
struct TwilioCallsAPI: Sendable, Equatable {
    var apiBase: String
    var accountSid: String
    var authToken: String

    /// Twilio's answers for a call that is gone (https://www.twilio.com/docs/api/errors/21220:
    /// "Invalid call state for redirect": the call is not in progress) or never was (20404).
    static let callGoneCodes: Set<String> = ["21220", "20404"]
    static let callGoneHint = "来电者已挂机，通话未能接通。"

    func updateCall(callSid: String, twiml: String, idempotencyKey: String) -> OutboundHTTPRequest {
        let credentials = Base64.encode(Array("\(accountSid):\(authToken)".utf8))
        let sid = FormURLEncoding.encodeComponent(callSid)
        return OutboundHTTPRequest(
            method: "POST", url: "\(apiBase)/2010-04-01/Accounts/\(accountSid)/Calls/\(sid).json",
            headers: ["Authorization": "Basic \(credentials)", "Content-Type": "application/x-www-form-urlencoded",
                      "I-Twilio-Idempotency-Token": idempotencyKey],
            body: Array(FormURLEncoding.encode([("Twiml", twiml)]).utf8))
    }

    /// 200 with the Call resource: bridged. 404 or error 21220: the caller hung up in between,
    /// which the server turns into an abandon and tells the agent plainly.
    static func interpret(_ response: TransportResponse) -> DeliveryOutcome {
        let status = response.status
        if status == 0 {
            // Unknown whether Twilio acted: not retried (see above); the wait request recovers.
            return .sent(providerId: nil)
        }
        if (200..<300).contains(status) {
            let sid = (try? JSONDecoder().decode(Resource.self, from: Data(response.body)))?.sid
            return .sent(providerId: sid)
        }
        let failure = try? JSONDecoder().decode(Failure.self, from: Data(response.body))
        let code = failure?.code?.text
        let reason = "HTTP \(status)" + (code.map { ": Twilio error \($0)" } ?? "") + (failure?.message.map { " \($0.prefix(200))" } ?? "")
        if status == 404 || code.map(callGoneCodes.contains) == true {
            return .gone(reason: reason, agentHint: callGoneHint)
        }
        if status == 429 { return .retry(reason: reason) }
        if (500..<600).contains(status) { return .sent(providerId: nil) }
        return .failed(reason: reason, agentHint: "无法接通来电（\(reason)），请联系管理员。")
    }

    private struct Resource: Decodable { var sid: String? }
    private struct Failure: Decodable {
        var code: FlexibleString?
        var message: String?
    }
}
