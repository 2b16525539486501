/// What the outbox should do with a WeChat / WeCom API answer (DESIGN §10.1 transport results:
/// `sent`, `retry`, `refreshCredentials`, `failed(reason, agentHint)`). The Core's delivery
/// outcome is being redesigned; this is the channel's own classification for the adapter to map.
public enum WeChatErrorDisposition: Sendable, Equatable {
    case ok
    /// The access token is invalid or expired: drop it, fetch a new one, retry at once, once.
    case refreshToken
    /// Transient (system busy, rate limits): retry with backoff.
    case retry(reason: String)
    /// Retrying cannot help; the agent is told why in Chinese and what to do instead.
    case failedWithHint(reason: String, agentHint: String)
    case failed(reason: String)
}

/// Which API answered: the two platforms reuse numbers with different meanings (WeCom 40001 is
/// "不合法的secret参数", which a token refresh cannot fix; Official Account 40001 is an invalid
/// or expired token).
public enum WeChatAPIPlatform: Sendable, Equatable {
    case officialAccount
    case wecom
}

/// Classifies `errcode` (DESIGN §10.3). Sources:
/// - Official Account 全局返回码 (https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html):
///   -1 系统繁忙; 40001 AppSecret 错误或 access_token 无效; 40014 不合法的 access_token;
///   42001 access_token 超时; 45009 接口调用超过限制; 45011 API 调用太频繁;
///   45015 回复时间超过限制 (the 48-hour window of 客服消息); 45047 客服接口下行条数超过上限.
///   客服消息 (https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Customer_Service_Messages.html)
///   currently allows 5 messages within 48 hours of a user's message (older pages said 20), so
///   the hint names no number.
/// - WeCom 全局错误码 (https://developer.work.weixin.qq.com/document/path/90313): -1 系统繁忙;
///   40014 不合法的access_token; 42001 access_token已过期; 45009 接口调用超过限制; 45033 接口并发调用超过限制;
///   95018 `send msg session status invalid` (kf/send_msg outside a session the API may answer:
///   微信客服 "发送消息", https://developer.work.weixin.qq.com/document/path/94677, allows
///   sending within 48 hours of the customer's last message, 5 messages).
///   95016 is listed as a session-state error (不允许这种状态转换, from service_state/trans);
///   its text was not confirmed against the page, so it only gets a generic hint.
public enum WeChatAPIError {
    public static func classify(errcode: Int, errmsg: String, platform: WeChatAPIPlatform) -> WeChatErrorDisposition {
        let reason = "errcode \(errcode): \(errmsg)"
        switch (platform, errcode) {
        case (_, 0): return .ok
        case (_, -1), (_, 45009), (.officialAccount, 45011), (.wecom, 45033): return .retry(reason: reason)
        case (.officialAccount, 40001), (_, 40014), (_, 42001): return .refreshToken
        case (.officialAccount, 45015): return .failedWithHint(reason: reason, agentHint: windowHint)
        case (.officialAccount, 45047): return .failedWithHint(reason: reason, agentHint: quotaHint)
        case (.wecom, 95018): return .failedWithHint(reason: reason, agentHint: kfSessionHint)
        case (.wecom, 95016): return .failedWithHint(reason: reason, agentHint: kfStateHint)
        default: return .failed(reason: reason)
        }
    }

    public static let windowHint = "超出48小时客服消息窗口，可改用短信联系"
    public static let quotaHint = "客服消息条数已达上限（用户发消息后48小时内可回复的条数有限），请等用户再次发消息，或改用短信联系"
    public static let kfSessionHint = "微信客服会话状态不允许发送消息（会话可能已结束或客户超过48小时未发消息），可改用短信联系"
    public static let kfStateHint = "微信客服会话状态不允许此操作（会话可能已被转接或结束）"
}
