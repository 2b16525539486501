import SwitchboardCore

/// One Official Account or WeCom customer-service callback, typed from `WeChatXML`'s field map
/// (DESIGN §10.3). Message and event shapes follow the Official Account docs
/// ("接收普通消息", https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html;
/// "接收事件推送", https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html)
/// and WeCom 微信客服 "接收消息和事件" (https://developer.work.weixin.qq.com/document/path/94670).
///
/// Unknown `MsgType`s and events become `.unsupported` instead of an error: WeChat adds types
/// (mini-program cards, new menu events) without notice, and refusing one would make the
/// platform retry it three times and then drop it. The adapter stores it as a text note
/// ("[不支持的消息类型: …]") so the agent sees that the contact sent something. A *known* type
/// with a missing or malformed field is an error (`ChannelError.malformed`), because that is a
/// broken or forged request.
public struct WeChatCallback: Sendable, Equatable {
    /// The account: Official Account original id (`gh_…`), or the WeCom corp id.
    public var toUserName: String
    /// The contact's openid; empty for WeCom's `kf_msg_or_event`, which names no contact.
    public var fromUserName: String
    /// Unix seconds.
    public var createTime: Int64
    /// Present on messages (not on events).
    public var msgId: String?
    public var body: Body

    public enum Body: Sendable, Equatable {
        case text(content: String)
        case image(picUrl: String, mediaId: String)
        /// `recognition` is present when the account has speech recognition on (it may be empty).
        case voice(mediaId: String, format: String, recognition: String?)
        case video(mediaId: String, thumbMediaId: String)
        case shortVideo(mediaId: String, thumbMediaId: String)
        /// `Location_X` is the latitude, `Location_Y` the longitude.
        case location(latitude: Double, longitude: Double, scale: Int, label: String)
        case link(title: String, description: String, url: String)
        /// A follow. Through a parametric QR code, `scene` is the EventKey without its
        /// `qrscene_` prefix and `ticket` the code's ticket; otherwise both are nil.
        case subscribe(scene: String?, ticket: String?)
        case unsubscribe
        /// An existing follower scanned a parametric QR code (EventKey is the scene, no prefix).
        case scan(scene: String, ticket: String?)
        /// The periodic location report (上报地理位置).
        case reportLocation(latitude: Double, longitude: Double, precision: Double)
        /// A `click` menu button (EventKey is the button's key).
        case menuClick(key: String)
        /// A `view` menu button (EventKey is the URL opened).
        case menuView(url: String)
        /// WeCom 微信客服: new messages wait for `kf/sync_msg` with this `token` (valid 10 minutes).
        case kfMsgOrEvent(token: String, openKfId: String)
        /// A MsgType (or, for `MsgType=event`, an Event) this model does not know.
        case unsupported(msgType: String, event: String?)
    }

    /// Types `fields` (from `WeChatXML.fields`). Throws `.malformed` naming the missing or bad field.
    public init(fields: [String: String]) throws(ChannelError) {
        let f = Fields(values: fields)
        toUserName = try f.required("ToUserName")
        createTime = try f.integer("CreateTime")
        let msgType = try f.required("MsgType")
        if msgType == "event" {
            let event = try f.required("Event")
            msgId = nil
            if event.lowercased() == "kf_msg_or_event" {
                fromUserName = f.optional("FromUserName") ?? ""
                body = .kfMsgOrEvent(token: try f.required("Token"), openKfId: try f.required("OpenKfId"))
                return
            }
            fromUserName = try f.required("FromUserName")
            body = try Self.event(event, f)
            return
        }
        fromUserName = try f.required("FromUserName")
        guard let body = try Self.message(msgType, f) else {
            msgId = f.optional("MsgId")
            self.body = .unsupported(msgType: msgType, event: nil)
            return
        }
        msgId = try f.required("MsgId")
        self.body = body
    }

    private static func message(_ msgType: String, _ f: Fields) throws(ChannelError) -> Body? {
        switch msgType {
        case "text": return .text(content: try f.required("Content", allowEmpty: true))
        case "image": return .image(picUrl: try f.required("PicUrl"), mediaId: try f.required("MediaId"))
        case "voice": return .voice(mediaId: try f.required("MediaId"), format: try f.required("Format"), recognition: f.optional("Recognition"))
        case "video": return .video(mediaId: try f.required("MediaId"), thumbMediaId: try f.required("ThumbMediaId"))
        case "shortvideo": return .shortVideo(mediaId: try f.required("MediaId"), thumbMediaId: try f.required("ThumbMediaId"))
        case "location":
            return .location(latitude: try f.coordinate("Location_X", limit: 90), longitude: try f.coordinate("Location_Y", limit: 180),
                             scale: Int(try f.integer("Scale")), label: try f.required("Label", allowEmpty: true))
        case "link":
            return .link(title: try f.required("Title", allowEmpty: true), description: try f.required("Description", allowEmpty: true),
                         url: try f.required("Url"))
        default: return nil
        }
    }

    private static func event(_ event: String, _ f: Fields) throws(ChannelError) -> Body {
        switch event.lowercased() {
        case "subscribe":
            // A plain follow sends an empty (or no) EventKey; a QR follow sends qrscene_<scene>.
            guard let key = f.optional("EventKey"), !key.isEmpty else { return .subscribe(scene: nil, ticket: nil) }
            return .subscribe(scene: key.hasPrefix("qrscene_") ? String(key.dropFirst("qrscene_".count)) : key, ticket: f.optional("Ticket"))
        case "unsubscribe": return .unsubscribe
        case "scan": return .scan(scene: try f.required("EventKey"), ticket: f.optional("Ticket"))
        case "location":
            return .reportLocation(latitude: try f.coordinate("Latitude", limit: 90), longitude: try f.coordinate("Longitude", limit: 180),
                                   precision: try f.number("Precision"))
        case "click": return .menuClick(key: try f.required("EventKey"))
        case "view": return .menuView(url: try f.required("EventKey"))
        default: return .unsupported(msgType: "event", event: event)
        }
    }

    // MARK: Meaning for the broker

    /// What the adapter deduplicates on (DESIGN §10.3): `MsgId` for messages; for events, which
    /// carry none, `FromUserName|CreateTime|Event` (a contact cannot cause the same event twice
    /// in one second); for `kf_msg_or_event`, `OpenKfId|CreateTime|Token`.
    public var dedupKey: String {
        switch body {
        case .kfMsgOrEvent(let token, let openKfId): return "kf:\(openKfId)|\(createTime)|\(token)"
        default:
            if let msgId { return "msg:\(msgId)" }
            return "event:\(fromUserName)|\(createTime)|\(eventName ?? "")"
        }
    }

    /// The event's name as WeChat spells it, nil for messages.
    public var eventName: String? {
        switch body {
        case .subscribe: return "subscribe"
        case .unsubscribe: return "unsubscribe"
        case .scan: return "SCAN"
        case .reportLocation: return "LOCATION"
        case .menuClick: return "CLICK"
        case .menuView: return "VIEW"
        case .kfMsgOrEvent: return "kf_msg_or_event"
        case .unsupported(let msgType, let event): return msgType == "event" ? event : nil
        default: return nil
        }
    }

    /// The media to fetch with `media/get` (image, voice, video, short video), nil otherwise.
    public var mediaId: String? {
        switch body {
        case .image(_, let id), .voice(let id, _, _), .video(let id, _), .shortVideo(let id, _): return id
        default: return nil
        }
    }

    /// The speech-recognition text of a voice message, when the account has it on and it is not empty.
    public var recognition: String? {
        if case .voice(_, _, let text?) = body, !text.isEmpty { return text }
        return nil
    }

    /// The Core message parts of a message that needs no fetching: text → `.text`, location →
    /// `.location`, link → `.text` of title, description and URL on their own lines. Nil for
    /// media (the adapter fetches `mediaId` and builds `.media`), events and unsupported types.
    public var messageParts: [MessagePart]? {
        switch body {
        case .text(let content): return [.text(content)]
        case .location(let lat, let lon, _, let label): return [WeChatParts.location(latitude: lat, longitude: lon, label: label)]
        case .link(let title, let description, let url): return [WeChatParts.link(title: title, description: description, url: url)]
        default: return nil
        }
    }
}

/// Field access with errors that name the field.
private struct Fields {
    var values: [String: String]

    func optional(_ name: String) -> String? { values[name] }

    func required(_ name: String, allowEmpty: Bool = false) throws(ChannelError) -> String {
        guard let value = values[name] else { throw .malformed("WeChat callback is missing <\(name)>") }
        guard allowEmpty || !value.isEmpty else { throw .malformed("WeChat callback has an empty <\(name)>") }
        return value
    }

    /// A non-negative decimal integer (CreateTime, Scale).
    func integer(_ name: String) throws(ChannelError) -> Int64 {
        let text = try required(name)
        guard text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), let value = Int64(text) else {
            throw .malformed("WeChat callback <\(name)> is not a whole number")
        }
        return value
    }

    func number(_ name: String) throws(ChannelError) -> Double {
        guard let value = Double(try required(name)), value.isFinite else { throw .malformed("WeChat callback <\(name)> is not a number") }
        return value
    }

    func coordinate(_ name: String, limit: Double) throws(ChannelError) -> Double {
        let value = try number(name)
        guard abs(value) <= limit else { throw .malformed("WeChat callback <\(name)> is out of range") }
        return value
    }
}
