import SwitchboardCore

/// A WeCom customer-service (微信客服) channel (DESIGN §10.3): the callback only says "there is
/// news"; the broker pulls the messages with `kf/sync_msg` (`WeComKfPuller`) and replies with
/// `kf/send_msg` while the session stays API-managed.
///
/// Route `wechat` (GET and POST, signed, 64 KiB):
/// - `GET ?msg_signature&timestamp&nonce&echostr`: the URL check; `msg_signature` covers the
///   encrypted `echostr`, which is decrypted (receive id `corp_id`) and answered in plain text
///   (https://developer.work.weixin.qq.com/document/path/90930).
/// - `POST ?msg_signature&timestamp&nonce`: the `<Encrypt>` element is checked and decrypted;
///   `Event=kf_msg_or_event` becomes a `fetch` for its `OpenKfId` with its `Token`; anything
///   else is acknowledged and not stored.
///
/// Replies: `kf/send_msg` text, at most 2,048 bytes a message, so a longer reply goes as several
/// messages in one attempt (`DeliveryOutcome.next`), each with a `msgid` derived from the outbox
/// idempotency key and its piece number, so a retried piece is recognisable.
struct WeComKfAdapter: ChannelAdapter {
    let settings: WeChatSettings
    var channelId: String { settings.channelId }
    var kind: ChannelKind { .wechat }

    var routes: [ChannelRoute] {
        [ChannelRoute("wechat", methods: ["GET", "POST"], signed: true, maxBodyBytes: OfficialAccountAdapter.maxCallbackBytes)]
    }

    var credentials: (any CredentialSource)? { WeChatAccessToken(settings: settings) }
    var puller: (any ChannelPuller)? { WeComKfPuller(settings: settings) }
    var media: (any MediaSource)? { WeChatMediaSource(apiBase: settings.apiBase, platform: .wecom) }

    // MARK: inbound

    func receive(_ request: HTTPRequest) throws(ChannelError) -> InboundBatch {
        guard let crypto = settings.crypto else { throw .malformed("channel '\(channelId)' has no encoding_aes_key") }
        let query = try WeChatQuery(request)
        let signature = try query.required("msg_signature")
        let timestamp = try query.required("timestamp"), nonce = try query.required("nonce")
        let encrypt: String
        if request.method == "GET" {
            // The echostr arrives URL-encoded base64; a literal `+` reaches us as a space.
            encrypt = try query.required("echostr").replacingSpaces()
        } else {
            let outer = try WeChatXML.callbackFields(request.body)
            guard let value = outer["Encrypt"], !value.isEmpty else { throw .malformed("WeCom callback without <Encrypt>") }
            encrypt = value
        }
        guard WeChatSignature.isValid(msgSignature: signature, token: settings.token, timestamp: timestamp, nonce: nonce, encrypt: encrypt) else {
            throw .badSignature("msg_signature does not match (check the channel's token)")
        }
        let plain: [UInt8]
        do { plain = try crypto.decrypt(encrypt: encrypt, receiveId: settings.appId) } catch { throw error.channelError }
        if request.method == "GET" {
            guard let echo = UTF8Text.decode(plain) else { throw .malformed("the decrypted echostr is not text") }
            return InboundBatch(events: [], response: HTTPResponse(contentType: "text/plain; charset=utf-8", text: echo))
        }
        let callback = try WeChatCallback(fields: try WeChatXML.callbackFields(plain))
        guard case .kfMsgOrEvent(let token, let openKfId) = callback.body else { return InboundBatch.ack(events: []) }
        if let only = settings.openKfId, only != openKfId { return InboundBatch.ack(events: []) }
        return InboundBatch.ack(events: [.fetch(PullTrigger(source: openKfId, token: token))])
    }

    // MARK: outbound

    /// `WeChatOutboundPlan`: the text in pieces of at most 2,048 bytes, then each image by URL
    /// downloaded, uploaded (`media/upload`) and sent by its `media_id`, all from the
    /// `open_kfid` the contact wrote to.
    func render(_ outbound: OutboundMessage, credential: String?) throws(ChannelError) -> Delivery {
        let plan = WeChatOutboundPlan(outbound, platform: .wecom)
        guard let first = plan.stages.first else { throw .unrenderable("WeChat replies carry text or images; this message has neither") }
        return .http(try requests(outbound, credential).request(first, step: 0, data: []))
    }

    func interpret(_ response: TransportResponse, to request: OutboundHTTPRequest, for outbound: OutboundMessage,
                   credential: String?) -> DeliveryOutcome {
        guard let requests = try? requests(outbound, credential) else {
            return .failed(reason: "no open_kfid to reply from")
        }
        return WeChatOutboundPlan(outbound, platform: .wecom).next(after: request, response: response, platform: .wecom,
                                                                   build: requests.request)
    }

    private func requests(_ outbound: OutboundMessage, _ credential: String?) throws(ChannelError) -> WeChatOutboundRequests {
        guard let openKfId = outbound.replyFrom ?? settings.openKfId else {
            throw .unrenderable("no open_kfid to reply from (the conversation did not record which customer-service account the contact wrote to)")
        }
        return WeChatOutboundRequests(settings: settings, platform: .wecom, outbound: outbound, credential: credential, openKfId: openKfId)
    }
}

extension String {
    /// A base64 value read from a query whose `+` was decoded as a space.
    func replacingSpaces() -> String {
        String(map { $0 == " " ? "+" : $0 })
    }
}
