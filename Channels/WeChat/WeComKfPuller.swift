import SwitchboardCore

/// `kf/sync_msg` pages for the server's pull loop (`ChannelPuller`; 读取消息,
/// https://developer.work.weixin.qq.com/document/path/94670). Only customer messages (origin 3)
/// become inbound messages, deduplicated on their `msgid`; system events and servicers' own
/// messages are skipped. Each keeps the `open_kfid` it came through, so replies leave from it.
struct WeComKfPuller: ChannelPuller {
    let settings: WeChatSettings

    func pageRequest(trigger: PullTrigger, cursor: String?, credential: String?) -> OutboundHTTPRequest {
        OutboundHTTPRequest(url: settings.apiBase + "/cgi-bin/kf/sync_msg?" + FormURLEncoding.encode([("access_token", credential ?? "")]),
                            headers: ["content-type": "application/json"],
                            body: Array(WeComKfAPI.syncMsgBody(cursor: cursor, token: trigger.token, openKfId: trigger.source).utf8))
    }

    func parsePage(_ response: TransportResponse, trigger: PullTrigger) -> PullPageResult {
        // Any answer but a 2xx with errcode 0 (a 5xx whose body is JSON included) is no page.
        if let problem = WeChatAPIAnswer.problem(response, platform: .wecom) {
            return problem.refresh ? .refreshCredentials(problem.reason) : .failed(problem.reason)
        }
        let page: WeComKfSyncPage
        do {
            switch try WeComKfSyncPage.parse(response.body) {
            case .success(let p): page = p
            case .failure(let status):
                if case .refreshToken = status.disposition(.wecom) { return .refreshCredentials("errcode \(status.errcode): \(status.errmsg)") }
                return .failed("errcode \(status.errcode): \(status.errmsg)")
            }
        } catch {
            return .failed(error.message)
        }
        let channelId = settings.channelId
        let events: [InboundEvent] = page.messages.filter(\.isFromCustomer).map { m in
            let contact = Identity(kind: .wechat, address: m.externalUserId)
            var parts = m.messageParts ?? []
            var media: [String] = []
            if let id = m.mediaId {
                let url = MediaReference.url(channelId: channelId, mediaId: id)
                switch m.content {
                case .voice: parts = [.voicemail(recordingUrl: url, transcript: nil)]
                case .image: parts = [.media(url: url, mime: "image/jpeg", name: nil, size: nil)]
                case .video: parts = [.media(url: url, mime: "video/mp4", name: nil, size: nil)]
                default: parts = [.media(url: url, mime: "application/octet-stream", name: nil, size: nil)]
                }
                media = [id]
            }
            if parts.isEmpty, case .unsupported(let type) = m.content { parts = [.text("[不支持的消息类型：\(type)]")] }
            return .message(InboundMessage(from: contact, externalId: m.msgId, parts: parts, to: m.openKfId, mediaToFetch: media))
        }.filter {
            if case .message(let m) = $0 { return !m.parts.isEmpty }
            return true
        }
        return .page(events: events, nextCursor: page.nextCursor.isEmpty ? nil : page.nextCursor, hasMore: page.hasMore)
    }
}
