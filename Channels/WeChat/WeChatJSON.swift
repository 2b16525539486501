import Foundation
import SwitchboardCore

/// Decoding WeChat / WeCom API answers, with failures as `ChannelError.malformed` that say
/// which answer was bad (the bodies come from the provider, not from a contact).
enum WeChatJSON {
    static func decode<T: Decodable>(_ type: T.Type, from body: [UInt8], what: String) throws(ChannelError) -> T {
        guard String(validating: body, as: UTF8.self) != nil else { throw .malformed("\(what): body is not valid UTF-8") }
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch let DecodingError.keyNotFound(key, _) {
            throw .malformed("\(what): missing field '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, context) where !context.codingPath.isEmpty {
            throw .malformed("\(what): field '\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type")
        } catch {
            throw .malformed("\(what): body is not the expected JSON")
        }
    }

    /// `{"k":v,…}` from already-encoded values, in the given order (stable bodies for tests
    /// and for the outbox's idempotent retries).
    static func object(_ members: [(String, String)]) -> String {
        "{" + members.map { JSONString.quote($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
    }
}

/// The `errcode` / `errmsg` pair every WeChat and WeCom answer carries (absent on success for
/// some Official Account APIs, such as `stable_token`).
public struct WeChatAPIStatus: Error, Sendable, Equatable, Decodable {
    public var errcode: Int
    public var errmsg: String

    public init(errcode: Int, errmsg: String) {
        self.errcode = errcode
        self.errmsg = errmsg
    }

    private enum Key: String, CodingKey { case errcode, errmsg }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        errcode = try c.decodeIfPresent(Int.self, forKey: .errcode) ?? 0
        errmsg = try c.decodeIfPresent(String.self, forKey: .errmsg) ?? ""
    }

    /// Reads the status of any answer (`custom/send`, `kf/send_msg`, `service_state/trans`, …).
    public static func parse(_ body: [UInt8]) throws(ChannelError) -> WeChatAPIStatus {
        try WeChatJSON.decode(WeChatAPIStatus.self, from: body, what: "WeChat API answer")
    }

    public func disposition(_ platform: WeChatAPIPlatform) -> WeChatErrorDisposition {
        WeChatAPIError.classify(errcode: errcode, errmsg: errmsg, platform: platform)
    }
}
