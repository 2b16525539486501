import SwitchboardCore

/// Aliyun SMS upstream messages (短信上行, message type `SmsUp`) in HTTP batch push mode
/// (HTTP批量推送模式). Aliyun POSTs a JSON array; each element is one citizen's text:
///
///     [{"phone_number":"13800138000","send_time":"2017-01-01 00:00:00","content":"…",
///       "sign_name":"…","dest_code":"1234","sequence_id":1234567890}]
///
/// and expects `{"code":0,"msg":"接收成功"}`, otherwise it pushes again. Field list from Aliyun's
/// SMS developer reference, "SmsUp" (上行短信消息): phone_number, send_time, content, dest_code
/// and sequence_id (a Number) required; sign_name optional. The push carries no signature, so the
/// adapter can require a shared `?token=`.
enum AliyunSmsUp {
    static let acknowledgement = HTTPResponse(status: 200, text: #"{"code":0,"msg":"接收成功"}"#)

    private struct Item: Decodable {
        var phone_number: String
        var send_time: String?
        var content: String
        var sign_name: String?
        var dest_code: FlexibleString?
        var sequence_id: FlexibleString
    }

    static func messages(_ body: [UInt8]) throws(ChannelError) -> [InboundMessage] {
        let items = try JSONBody.decode([Item].self, from: body, what: "Aliyun SmsUp push")
        guard !items.isEmpty else { throw .malformed("Aliyun SmsUp push: the batch is empty") }
        guard items.count <= SMSLimits.maxBatch else { throw .malformed("Aliyun SmsUp push: more than \(SMSLimits.maxBatch) messages") }
        var messages: [InboundMessage] = []
        messages.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            let at = "[\(index)]."
            // sequence_id is Aliyun's id for the upstream message and so the dedup key for re-pushes.
            let id = try SMSFields.id(item.sequence_id.text, field: at + "sequence_id")
            let from = try SMSFields.phone(item.phone_number, field: at + "phone_number")
            let text = try SMSFields.text(item.content, field: at + "content")
            let to = try SMSFields.optionalAddress(item.dest_code?.text, field: at + "dest_code")
            let parts = try SMSFields.parts(text: text, media: [], textField: at + "content")
            messages.append(InboundMessage(from: Identity(kind: .sms, address: from), externalId: id, parts: parts, to: to))
        }
        return messages
    }
}
