import SwitchboardCore

/// WeCom 微信客服 request bodies (DESIGN §10.3). The adapter adds `{api_base}` and
/// `?access_token=…`.
public enum WeComKfAPI {
    /// `text.content` of `kf/send_msg` is at most 2,048 bytes (微信客服 "发送消息",
    /// https://developer.work.weixin.qq.com/document/path/94677: "消息内容，最长不超过2048个字节").
    public static let maxTextBytes = 2048
    /// `limit` of `kf/sync_msg`: default and maximum 1000.
    public static let syncLimit = 1000

    /// `POST {api_base}/cgi-bin/kf/sync_msg` ("读取消息", https://developer.work.weixin.qq.com/document/path/94670):
    /// `{"cursor":…,"token":…,"limit":1000,"open_kfid":…}`. The cursor is left out on the first
    /// pull (the API then starts at the oldest message of the last 3 days); the token from the
    /// callback is optional but without it the API is strictly rate-limited.
    public static func syncMsgBody(cursor: String?, token: String?, openKfId: String, limit: Int = syncLimit) -> String {
        var members: [(String, String)] = []
        if let cursor, !cursor.isEmpty { members.append(("cursor", JSONString.quote(cursor))) }
        if let token, !token.isEmpty { members.append(("token", JSONString.quote(token))) }
        members.append(("limit", String(max(1, min(limit, syncLimit)))))
        members.append(("open_kfid", JSONString.quote(openKfId)))
        return WeChatJSON.object(members)
    }

    /// `POST {api_base}/cgi-bin/kf/send_msg` text:
    /// `{"touser":…,"open_kfid":…,"msgid":…,"msgtype":"text","text":{"content":…}}`. `msgId`
    /// (at most 32 bytes of `[0-9a-zA-Z_-]`) makes a retried send recognisable; nil lets WeCom
    /// choose. `content` must already fit `maxTextBytes`: split longer replies with `textChunks`.
    public static func sendTextBody(to externalUserId: String, openKfId: String, msgId: String?, content: String) -> String {
        sendBody(to: externalUserId, openKfId: openKfId, msgId: msgId, type: "text", payload: [("content", JSONString.quote(content))])
    }

    /// `kf/send_msg` image by the `media_id` of an upload: `"msgtype":"image","image":{"media_id":…}`.
    public static func sendImageBody(to externalUserId: String, openKfId: String, msgId: String?, mediaId: String) -> String {
        sendBody(to: externalUserId, openKfId: openKfId, msgId: msgId, type: "image", payload: [("media_id", JSONString.quote(mediaId))])
    }

    private static func sendBody(to externalUserId: String, openKfId: String, msgId: String?, type: String,
                                 payload: [(String, String)]) -> String {
        var members = [("touser", JSONString.quote(externalUserId)), ("open_kfid", JSONString.quote(openKfId))]
        if let msgId { members.append(("msgid", JSONString.quote(msgId))) }
        members.append(("msgtype", JSONString.quote(type)))
        members.append((type, WeChatJSON.object(payload)))
        return WeChatJSON.object(members)
    }

    /// `POST {api_base}/cgi-bin/kf/service_state/trans` (微信客服 "变更会话状态"):
    /// `{"open_kfid":…,"external_userid":…,"service_state":N}` plus `servicer_userid` when the
    /// new state is 3 (人工接待). The states: 0 未处理, 1 由智能助手接待 (the API-managed state
    /// Switchboard keeps while its agents answer), 2 待接入池排队中, 3 由人工接待, 4 已结束/未开始.
    public static func serviceStateTransBody(openKfId: String, externalUserId: String, serviceState: Int,
                                             servicerUserId: String? = nil) -> String {
        var members = [("open_kfid", JSONString.quote(openKfId)), ("external_userid", JSONString.quote(externalUserId)),
                       ("service_state", String(serviceState))]
        if let servicerUserId { members.append(("servicer_userid", JSONString.quote(servicerUserId))) }
        return WeChatJSON.object(members)
    }

    /// `text` cut into pieces of at most `maxBytes` UTF-8 bytes, never inside a character
    /// (grapheme cluster), so Chinese text and emoji arrive whole. A single character longer than
    /// `maxBytes` (a pathological combining sequence) is cut between Unicode scalars. An empty
    /// text gives no pieces.
    public static func textChunks(_ text: String, maxBytes: Int = maxTextBytes) -> [String] {
        precondition(maxBytes >= 4, "a chunk must hold any one Unicode scalar")
        var chunks: [String] = []
        var current = ""
        var currentBytes = 0
        func append(_ piece: String, bytes: Int) {
            if currentBytes + bytes > maxBytes {
                chunks.append(current)
                current = ""
                currentBytes = 0
            }
            current += piece
            currentBytes += bytes
        }
        for character in text {
            let bytes = character.utf8.count
            if bytes <= maxBytes {
                append(String(character), bytes: bytes)
            } else {
                for scalar in character.unicodeScalars { append(String(scalar), bytes: String(scalar).utf8.count) }
            }
        }
        if !current.isEmpty { chunks.append(current) }
        return chunks
    }
}
