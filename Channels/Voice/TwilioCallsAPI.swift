import Foundation
import SwitchboardCore
import SwitchboardCrypto

/// Call control through Twilio's Calls API (issue 10 "Bridging on accept"): "update call" with new
/// TwiML moves the caller out of its `<Enqueue>` wait and into a `<Dial>` to the agent
/// (https://www.twilio.com/docs/voice/api/call-resource#update-a-call-resource):
///
///     POST {api_base}/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json   Twiml=<Response>…</Response>
///
/// Sent as an outbox `.action` delivery: retried, never doubled (the outbox key is
/// `<CallSid>:<offer>`). Updating a call twice with the same `<Dial>` would ring the agent twice,
/// so only an answer that says nothing happened (no response, 429, 5xx) is retried.
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
        if status == 0 { return .retry(reason: "no response from Twilio (\(response.error ?? "connection failed or timed out"))") }
        if (200..<300).contains(status) {
            let sid = (try? JSONDecoder().decode(Resource.self, from: Data(response.body)))?.sid
            return .sent(providerId: sid)
        }
        let failure = try? JSONDecoder().decode(Failure.self, from: Data(response.body))
        let code = failure?.code?.text
        let reason = "HTTP \(status)" + (code.map { ": Twilio error \($0)" } ?? "") + (failure?.message.map { " \($0.prefix(200))" } ?? "")
        if status == 404 || code.map(callGoneCodes.contains) == true {
            return .failed(reason: reason, agentHint: callGoneHint)
        }
        if status == 429 || (500..<600).contains(status) { return .retry(reason: reason) }
        return .failed(reason: reason, agentHint: "无法接通来电（\(reason)），请联系管理员。")
    }

    private struct Resource: Decodable { var sid: String? }
    private struct Failure: Decodable {
        var code: FlexibleString?
        var message: String?
    }
}
