import SwitchboardCore

/// A passive reply (被动回复消息, https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html):
/// the answer to the callback itself, used for the `welcome` text on `subscribe`. In safe mode it
/// is encrypted with fresh random bytes and signed (`WeChatCrypto.encryptedReply`); the server
/// hands those bytes and its clock in through `AnswerContext`.
enum WeChatPassiveReply {
    static func text(_ content: String, to openId: String, from account: String, settings: WeChatSettings, encrypted: Bool,
                     nonce: String, context: AnswerContext) -> HTTPResponse {
        let xml = "<xml><ToUserName>" + WeChatXMLText.cdata(openId) + "</ToUserName><FromUserName>" + WeChatXMLText.cdata(account)
            + "</FromUserName><CreateTime>\(context.nowSeconds)</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>"
            + WeChatXMLText.cdata(content) + "</Content></xml>"
        guard encrypted, let crypto = settings.crypto, context.randomBytes.count >= WeChatCrypto.randomLength else {
            return HTTPResponse(contentType: "application/xml; charset=utf-8", text: xml)
        }
        let body = crypto.encryptedReply(xml: Array(xml.utf8), receiveId: settings.appId,
                                         random16: Array(context.randomBytes.prefix(WeChatCrypto.randomLength)),
                                         token: settings.token, timestamp: String(context.nowSeconds), nonce: nonce)
        return HTTPResponse(contentType: "application/xml; charset=utf-8", text: body)
    }
}
