import SwitchboardCore

/// A WeChat Official Account (公众号) channel (DESIGN §10.3): callbacks in plain, compatible or
/// safe mode, replies through 客服消息 `custom/send` with the shared `stable_token`.
///
/// Route `wechat` (GET and POST, signed, 64 KiB: a callback is a few hundred bytes):
/// - `GET ?signature&timestamp&nonce&echostr`: the URL check; answers `echostr` when
///   `signature = sha1(sort(token, timestamp, nonce))` matches.
/// - `POST ?signature&timestamp&nonce[&encrypt_type=aes&msg_signature]`: `signature` is checked
///   in every mode; with `encrypt_type=aes` (safe and compatible mode) `msg_signature` over the
///   `<Encrypt>` element is checked too, and only the decrypted message is read. A channel with an
///   `encoding_aes_key` refuses plain callbacks (403): their signature does not cover the body (its appid must
///   be `app_id`; the previous key is tried when the current one fails). Answered `success`
///   once stored, or with the encrypted (safe mode) or plain passive reply `welcome` on subscribe.
///
/// Events: `subscribe` opts the contact back in (and gets `welcome`), `unsubscribe` opts out;
/// `CLICK` on a key in `menu_skills` opens or joins a conversation for that skill; other
/// events (VIEW, SCAN, LOCATION reports, unmapped CLICKs) are acknowledged and not stored.
///
/// Pure and immutable, as `ChannelAdapter` requires.
struct OfficialAccountAdapter: ChannelAdapter {
    let settings: WeChatSettings
    var channelId: String { settings.channelId }
    var kind: ChannelKind { .wechat }

    /// WeChat callbacks are small XML documents; 64 KiB is far above any of them.
    static let maxCallbackBytes = 64 * 1024

    var routes: [ChannelRoute] {
        [ChannelRoute("wechat", methods: ["GET", "POST"], signed: true, maxBodyBytes: Self.maxCallbackBytes)]
    }

    var credentials: (any CredentialSource)? { WeChatAccessToken(settings: settings) }
    var media: (any MediaSource)? { WeChatMediaSource(apiBase: settings.apiBase, platform: .officialAccount) }

    // MARK: inbound

    func receive(_ request: HTTPRequest) throws(ChannelError) -> InboundBatch {
        let query = try WeChatQuery(request)
        guard WeChatSignature.isValid(signature: try query.required("signature"), token: settings.token,
                                      timestamp: try query.required("timestamp"), nonce: try query.required("nonce")) else {
            throw .badSignature("signature does not match (check the channel's token)")
        }
        if request.method == "GET" {
            return InboundBatch(events: [], response: HTTPResponse(contentType: "text/plain; charset=utf-8", text: try query.required("echostr")))
        }
        let outer = try WeChatXML.callbackFields(request.body)
        var encrypted = false
        let fields: [String: String]
        if query.value("encrypt_type") == "aes" {
            guard let crypto = settings.crypto else {
                throw .malformed("the callback is encrypted but channel '\(channelId)' has no encoding_aes_key")
            }
            guard let encrypt = outer["Encrypt"], !encrypt.isEmpty else { throw .malformed("encrypted callback without <Encrypt>") }
            guard WeChatSignature.isValid(msgSignature: try query.required("msg_signature"), token: settings.token,
                                          timestamp: try query.required("timestamp"), nonce: try query.required("nonce"), encrypt: encrypt) else {
                throw .badSignature("msg_signature does not match")
            }
            let inner: [UInt8]
            do { inner = try crypto.decrypt(encrypt: encrypt, receiveId: settings.appId) } catch { throw error.channelError }
            fields = try WeChatXML.callbackFields(inner)
            encrypted = true
        } else {
            // With an EncodingAESKey configured the account is in safe or compatible mode, where
            // the platform always sends `encrypt_type=aes`. A plain callback's signature covers
            // only the timestamp and nonce, not the body: accepting one would let anyone holding
            // a captured query string post a forged message.
            guard settings.crypto == nil else {
                throw .badSignature("channel '\(channelId)' takes encrypted callbacks only (encrypt_type=aes): a plain body is not signed")
            }
            fields = outer
        }
        let callback = try WeChatCallback(fields: fields)
        return batch(for: callback, encrypted: encrypted, nonce: try query.required("nonce"))
    }

    private func batch(for callback: WeChatCallback, encrypted: Bool, nonce: String) -> InboundBatch {
        let contact = Identity(kind: .wechat, address: callback.fromUserName)
        let ack = InboundBatch.ack(events: [])
        func message(_ parts: [MessagePart], skill: String? = nil, media: [String] = []) -> InboundBatch {
            InboundBatch.ack(events: [.message(InboundMessage(from: contact, externalId: callback.dedupKey, parts: parts,
                                                              to: callback.toUserName, skill: skill, mediaToFetch: media))])
        }
        switch callback.body {
        case .subscribe:
            var batch = InboundBatch.ack(events: [.subscription(contact, subscribed: true)])
            if let welcome = settings.welcome {
                batch.answer = .computed { [settings] _, context in
                    WeChatPassiveReply.text(welcome, to: callback.fromUserName, from: callback.toUserName, settings: settings,
                                            encrypted: encrypted, nonce: nonce, context: context)
                }
            }
            return batch
        case .unsubscribe:
            return InboundBatch.ack(events: [.subscription(contact, subscribed: false)])
        case .menuClick(let key):
            guard let skill = settings.menuSkills[key] else { return ack }
            return message([.text("点击菜单：\(key)")], skill: skill)
        case .image:
            let id = callback.mediaId ?? ""
            return message([.media(url: MediaReference.url(channelId: channelId, mediaId: id), mime: "image/jpeg", name: nil, size: nil)],
                           media: [id])
        case .voice(let id, _, let recognition):
            // A voice note is a recording with an optional transcript: the `voicemail` part's shape.
            let url = MediaReference.url(channelId: channelId, mediaId: id)
            return message([.voicemail(recordingUrl: url, transcript: recognition.flatMap { $0.isEmpty ? nil : $0 })], media: [id])
        case .video(let id, _), .shortVideo(let id, _):
            return message([.media(url: MediaReference.url(channelId: channelId, mediaId: id), mime: "video/mp4", name: nil, size: nil)],
                           media: [id])
        case .unsupported(let type, _):
            guard type != "event" else { return ack }
            return message([.text("[不支持的消息类型：\(type)]")])
        case .scan, .reportLocation, .menuView, .kfMsgOrEvent:
            return ack
        default:
            return message(callback.messageParts ?? [])
        }
    }

    // MARK: outbound

    /// `WeChatOutboundPlan`: the text by `custom/send`, then each image by URL downloaded,
    /// uploaded (`media/upload`) and sent by its `media_id`.
    func render(_ outbound: OutboundMessage, credential: String?) throws(ChannelError) -> Delivery {
        let plan = WeChatOutboundPlan(outbound, platform: .officialAccount)
        guard let first = plan.stages.first else { throw .unrenderable("WeChat replies carry text or images; this message has neither") }
        return .http(requests(outbound, credential).request(first, step: 0, data: []))
    }

    func interpret(_ response: TransportResponse, to request: OutboundHTTPRequest, for outbound: OutboundMessage,
                   credential: String?) -> DeliveryOutcome {
        WeChatOutboundPlan(outbound, platform: .officialAccount).next(after: request, response: response, platform: .officialAccount,
                                                                      build: requests(outbound, credential).request)
    }

    private func requests(_ outbound: OutboundMessage, _ credential: String?) -> WeChatOutboundRequests {
        WeChatOutboundRequests(settings: settings, platform: .officialAccount, outbound: outbound, credential: credential, openKfId: nil)
    }
}
