/// A JSON value some gateways send as a number and others as a string (Aliyun's `sequence_id` is
/// documented as Number; `dest_code` as String but numeric in practice; Twilio's error `code` is a
/// number). Kept as its text.
public struct FlexibleString: Decodable, Sendable, Equatable {
    public var text: String

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let string = try? container.decode(String.self) {
            text = string
        } else if let integer = try? container.decode(Int64.self) {
            text = String(integer)
        } else if let unsigned = try? container.decode(UInt64.self) {
            text = String(unsigned)
        } else {
            throw DecodingError.typeMismatch(String.self, .init(codingPath: decoder.codingPath, debugDescription: "expected a string or an integer"))
        }
    }
}
