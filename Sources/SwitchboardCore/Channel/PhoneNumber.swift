/// Normalizes the phone numbers SMS gateways and telephony platforms send into E.164 (`+`
/// country code subscriber number, at most 15 digits: ITU-T E.164 §6), the form every phone
/// identity is indexed under (DESIGN §6), so the same citizen texting through Twilio and through
/// Aliyun, or calling, is one contact.
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
        // Byte-level: every inbound SMS normalizes two numbers (From, To), and the String-level
        // version (scalar filtering, prefix removal) cost ~5k instructions each (callgrind).
        var digits: [UInt8] = []
        digits.reserveCapacity(16)
        var plus = false
        for byte in raw.utf8 {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "-"):
                continue
            case UInt8(ascii: "+") where digits.isEmpty && !plus:
                plus = true
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                digits.append(byte)
            default:
                return nil
            }
        }
        var hadPrefix = plus
        if !plus, digits.count >= 2, digits[0] == UInt8(ascii: "0"), digits[1] == UInt8(ascii: "0") {
            digits.removeFirst(2)
            hadPrefix = true
        }
        guard !digits.isEmpty else { return nil }
        if !hadPrefix, digits.count == 11, digits[0] == UInt8(ascii: "1") {
            digits.insert(contentsOf: [UInt8(ascii: "8"), UInt8(ascii: "6")], at: 0)
        }
        guard (7...15).contains(digits.count), digits[0] != UInt8(ascii: "0") else { return nil }
        return "+" + String(decoding: digits, as: UTF8.self)
    }
}
