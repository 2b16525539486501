import SwitchboardCore

/// Official Account API request bodies and the token answer (DESIGN §10.3). The adapter adds
/// `{api_base}` and `?access_token=…`; these are the JSON bodies only.
public enum OfficialAccountAPI {
    /// `POST {api_base}/cgi-bin/stable_token` (getStableAccessToken,
    /// https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/getStableAccessToken.html):
    /// `{"grant_type":"client_credential","appid":…,"secret":…}`, plus `"force_refresh":true`
    /// when asked (the forced mode invalidates the previous token; limited to 20 a day).
    public static func stableTokenBody(appId: String, secret: String, forceRefresh: Bool = false) -> String {
        var members = [("grant_type", JSONString.quote("client_credential")), ("appid", JSONString.quote(appId)),
                       ("secret", JSONString.quote(secret))]
        if forceRefresh { members.append(("force_refresh", "true")) }
        return WeChatJSON.object(members)
    }

    /// The `stable_token` answer: `{"access_token":…,"expires_in":7200}`, or an error status
    /// (`{"errcode":40013,"errmsg":"invalid appid"}`) returned as `.failure` for classification.
    public static func parseStableToken(_ body: [UInt8]) throws(ChannelError) -> Result<IssuedCredential, WeChatAPIStatus> {
        struct Answer: Decodable {
            var access_token: String?
            var expires_in: Int?
            var errcode: Int?
            var errmsg: String?
        }
        let answer = try WeChatJSON.decode(Answer.self, from: body, what: "stable_token answer")
        if let code = answer.errcode, code != 0 { return .failure(WeChatAPIStatus(errcode: code, errmsg: answer.errmsg ?? "")) }
        guard let token = answer.access_token, !token.isEmpty else { throw .malformed("stable_token answer: missing field 'access_token'") }
        guard let expiresIn = answer.expires_in, expiresIn > 0 else { throw .malformed("stable_token answer: missing or bad 'expires_in'") }
        return .success(IssuedCredential(token: token, expiresInSeconds: expiresIn))
    }

    /// `POST {api_base}/cgi-bin/message/custom/send` text (客服消息,
    /// https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html):
    /// `{"touser":OPENID,"msgtype":"text","text":{"content":…}}`.
    public static func customSendText(to openId: String, content: String) -> String {
        customSend(to: openId, type: "text", payload: [("content", JSONString.quote(content))])
    }

    /// The same for an image uploaded first with `media/upload`: `"image":{"media_id":…}`.
    public static func customSendImage(to openId: String, mediaId: String) -> String {
        customSend(to: openId, type: "image", payload: [("media_id", JSONString.quote(mediaId))])
    }

    private static func customSend(to openId: String, type: String, payload: [(String, String)]) -> String {
        WeChatJSON.object([("touser", JSONString.quote(openId)), ("msgtype", JSONString.quote(type)), (type, WeChatJSON.object(payload))])
    }
}
