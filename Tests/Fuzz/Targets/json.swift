// fuzz-seeds: Tests/Fuzz/Seeds/json/* Tests/Fuzz/Seeds/agent-command/* Tests/ChannelTests/Fixtures/sms/*.json Tests/ChannelTests/Fixtures/wechat/*.json
@testable import SwitchboardCore

/// The hand-written JSON parser every client frame goes through (`JSONValue.parse`) and the
/// lookup that reads one string out of a document (`JSONLookup.string`). A document the parser
/// accepts must come back through its own `jsonText` as the same value (numbers compared as
/// numbers: `1e2` is written `100` and read back as an integer).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    for path in [["type"], ["a", "b"], ["payload", "message", "text"], [""]] {
        _ = JSONLookup.string(in: bytes, at: path)
    }
    guard let value = JSONValue.parse(bytes) else { return 0 }
    let text = value.jsonText
    guard let again = JSONValue.parse(Array(text.utf8)), numeric(again) == numeric(value) else { fatalError("jsonText does not parse back: \(text)") }
    if case .object(let members) = value, let (key, first) = members.first, case .string = first {
        _ = JSONLookup.string(in: bytes, at: [key])
    }
    return 0
}

/// `value` with every integer as a double, so `100` and `1e2` compare equal.
func numeric(_ value: JSONValue) -> JSONValue {
    switch value {
    case .integer(let i): return .number(Double(i))
    case .array(let items): return .array(items.map(numeric))
    case .object(let members): return .object(members.mapValues(numeric))
    default: return value
    }
}
