/// Normalizes the phone numbers SMS gateways send into E.164 (`+` country code subscriber
/// number, at most 15 digits: ITU-T E.164 §6), the form every SMS identity is indexed under
/// (DESIGN §6), so the same citizen texting through Twilio and through Aliyun is one contact.
public enum PhoneNumber {
    /// The E.164 form of `raw`, or nil when it cannot be one. Accepted:
    /// - `+8613812345678` (already E.164; Twilio always sends this form);
    /// - `008613812345678` (international prefix);
    /// - `13812345678`: an 11-digit number starting with 1 is a mainland China mobile without its
    ///   country code, as Aliyun and Tencent send domestic numbers (Aliyun SendSms:
    ///   "国内短信：+/+86/0086/86或无任何前缀的11位手机号码");
    /// - `8613812345678`: the same with `86` in front;
    /// - other bare digits: the country code is already included, as Aliyun writes international
    ///   numbers ("国际/港澳台消息：国际区号+号码", e.g. `85200001234`).
    /// Spaces and hyphens are ignored. A number with a leading zero after the prefix, fewer than
    /// 7 or more than 15 digits, or any other character is rejected.
    public static func e164(_ raw: String) -> String? {
        let compact = raw.unicodeScalars.filter { $0 != " " && $0 != "-" }
        var text = String(String.UnicodeScalarView(compact))
        var hadPrefix = false
        if text.hasPrefix("+") {
            text.removeFirst()
            hadPrefix = true
        } else if text.hasPrefix("00") {
            text.removeFirst(2)
            hadPrefix = true
        }
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        if !hadPrefix {
            if text.utf8.count == 11, text.hasPrefix("1") { text = "86" + text }
        }
        guard (7...15).contains(text.utf8.count), !text.hasPrefix("0") else { return nil }
        return "+" + text
    }
}
