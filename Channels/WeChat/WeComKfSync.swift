import SwitchboardCore

/// One page of `kf/sync_msg` ("读取消息", https://developer.work.weixin.qq.com/document/path/94670):
///
///     {"errcode":0,"errmsg":"ok","next_cursor":"4gw7MepFLfgF2VC5npN","has_more":1,
///      "msg_list":[{"msgid":…,"open_kfid":…,"external_userid":…,"send_time":1615478585,
///                   "origin":3,"msgtype":"text","text":{"content":"你好"}}, …]}
///
/// `origin`: 3 a message from the WeChat customer, 4 a system event, 5 a message a servicer
/// sent from the WeCom client. Only origin 3 is a customer message for the broker
/// (`WeComKfMessage.isFromCustomer`); messages sent through the API never come back.
public struct WeComKfSyncPage: Sendable, Equatable {
    public var nextCursor: String
    public var hasMore: Bool
    public var messages: [WeComKfMessage]

    public init(nextCursor: String, hasMore: Bool, messages: [WeComKfMessage]) {
        self.nextCursor = nextCursor
        self.hasMore = hasMore
        self.messages = messages
    }

    /// The page, or the API's error status for `WeChatAPIError.classify`. Throws `.malformed`
    /// when the body is not a sync_msg answer at all.
    public static func parse(_ body: [UInt8]) throws(ChannelError) -> Result<WeComKfSyncPage, WeChatAPIStatus> {
        let answer = try WeChatJSON.decode(Answer.self, from: body, what: "kf/sync_msg answer")
        if let code = answer.errcode, code != 0 { return .failure(WeChatAPIStatus(errcode: code, errmsg: answer.errmsg ?? "")) }
        var messages: [WeComKfMessage] = []
        for (index, item) in (answer.msg_list ?? []).enumerated() {
            messages.append(try WeComKfMessage(item, index: index))
        }
        return .success(WeComKfSyncPage(nextCursor: answer.next_cursor ?? "", hasMore: answer.has_more?.value ?? false, messages: messages))
    }

    private struct Answer: Decodable {
        var errcode: Int?
        var errmsg: String?
        var next_cursor: String?
        var has_more: FlexibleFlag?
        var msg_list: [WeComKfMessage.Item]?
    }
}

/// One entry of `msg_list`.
public struct WeComKfMessage: Sendable, Equatable {
    public var msgId: String
    public var openKfId: String
    /// The customer (`wm…`); for events it is inside the event object and copied here.
    public var externalUserId: String
    public var sendTime: Int64
    public var origin: Int
    public var servicerUserId: String?
    public var content: Content

    public enum Content: Sendable, Equatable {
        case text(String)
        case image(mediaId: String)
        case voice(mediaId: String)
        case video(mediaId: String)
        case file(mediaId: String)
        case location(latitude: Double, longitude: Double, name: String, address: String)
        case link(title: String, description: String, url: String, picUrl: String)
        /// `event.event_type` (enter_session, msg_send_fail, servicer_status_change, …).
        case event(type: String)
        /// A msgtype this model does not read (business_card, miniprogram, msgmenu, channels…);
        /// stored as a note like `WeChatCallback.Body.unsupported`.
        case unsupported(msgType: String)
    }

    /// Only origin 3 (sent by the WeChat customer) becomes an inbound message.
    public var isFromCustomer: Bool { origin == 3 }

    /// Core parts for text, location and link (as in `WeChatCallback.messageParts`); nil for
    /// media (fetch `mediaId` with `media/get`), events and unsupported types.
    public var messageParts: [MessagePart]? {
        switch content {
        case .text(let text): return [.text(text)]
        case .location(let lat, let lon, let name, let address):
            return [WeChatParts.location(latitude: lat, longitude: lon, label: [name, address].filter { !$0.isEmpty }.joined(separator: " "))]
        case .link(let title, let description, let url, _): return [WeChatParts.link(title: title, description: description, url: url)]
        default: return nil
        }
    }

    public var mediaId: String? {
        switch content {
        case .image(let id), .voice(let id), .video(let id), .file(let id): return id
        default: return nil
        }
    }

    struct Item: Decodable {
        struct Text: Decodable { var content: String }
        struct Media: Decodable { var media_id: String }
        struct Location: Decodable { var latitude: Double; var longitude: Double; var name: String?; var address: String? }
        struct Link: Decodable { var title: String?; var desc: String?; var url: String; var pic_url: String? }
        struct Event: Decodable { var event_type: String; var open_kfid: String?; var external_userid: String? }

        var msgid: String
        var open_kfid: String?
        var external_userid: String?
        var send_time: Int64?
        var origin: Int?
        var servicer_userid: String?
        var msgtype: String
        var text: Text?
        var image: Media?
        var voice: Media?
        var video: Media?
        var file: Media?
        var location: Location?
        var link: Link?
        var event: Event?
    }

    init(_ item: Item, index: Int) throws(ChannelError) {
        func missing(_ field: String) -> ChannelError { .malformed("kf/sync_msg answer: msg_list[\(index)] (\(item.msgtype)) has no '\(field)'") }
        func media(_ body: Item.Media?) throws(ChannelError) -> String {
            guard let id = body?.media_id, !id.isEmpty else { throw missing("\(item.msgtype).media_id") }
            return id
        }
        guard !item.msgid.isEmpty else { throw missing("msgid") }
        msgId = item.msgid
        origin = item.origin ?? (item.msgtype == "event" ? 4 : 0)
        sendTime = item.send_time ?? 0
        servicerUserId = item.servicer_userid
        openKfId = item.open_kfid ?? item.event?.open_kfid ?? ""
        externalUserId = item.external_userid ?? item.event?.external_userid ?? ""
        switch item.msgtype {
        case "text":
            guard let text = item.text else { throw missing("text") }
            content = .text(text.content)
        case "image": content = .image(mediaId: try media(item.image))
        case "voice": content = .voice(mediaId: try media(item.voice))
        case "video": content = .video(mediaId: try media(item.video))
        case "file": content = .file(mediaId: try media(item.file))
        case "location":
            guard let l = item.location else { throw missing("location") }
            guard abs(l.latitude) <= 90, abs(l.longitude) <= 180 else { throw .malformed("kf/sync_msg answer: msg_list[\(index)] location out of range") }
            content = .location(latitude: l.latitude, longitude: l.longitude, name: l.name ?? "", address: l.address ?? "")
        case "link":
            guard let l = item.link else { throw missing("link") }
            content = .link(title: l.title ?? "", description: l.desc ?? "", url: l.url, picUrl: l.pic_url ?? "")
        case "event":
            guard let e = item.event else { throw missing("event") }
            content = .event(type: e.event_type)
        default:
            content = .unsupported(msgType: item.msgtype)
        }
        if isFromCustomer, externalUserId.isEmpty { throw missing("external_userid") }
    }
}

/// `has_more` is documented as 0/1; a boolean is accepted too.
private struct FlexibleFlag: Decodable {
    var value: Bool
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) { value = b } else { value = try c.decode(Int.self) != 0 }
    }
}
