/// Bounds on what one SMS webhook may carry (DESIGN §11: "bounded everything"). The server has
/// already capped the body size; these stop a single field from being absurd for an SMS, so a
/// bad gateway or a forger cannot push megabyte "texts" or thousands of media into the store.
enum SMSLimits {
    /// One inbound text, in UTF-8 bytes. Twilio caps a message body at 1,600 characters; a
    /// concatenated SMS in Chinese (UCS-2, 67 characters per segment) stays well below this.
    static let maxTextBytes = 16 * 1024
    /// Twilio MMS carries at most 10 media items
    /// (https://www.twilio.com/docs/messaging/guides/accepted-mime-types).
    static let maxMedia = 10
    /// Messages in one Aliyun batch push.
    static let maxBatch = 1000
    /// Provider message ids (Twilio SIDs are 34 characters; Aliyun sequence ids are numbers).
    static let maxIdBytes = 128
    /// Phone numbers, gateway numbers and extension codes as the provider sends them.
    static let maxAddressBytes = 64
    static let maxURLBytes = 2048
    static let maxErrorBytes = 512
    /// Twilio's documented outbound body limit, in characters (error 21617 above it).
    static let maxOutboundCharacters = 1600
}
