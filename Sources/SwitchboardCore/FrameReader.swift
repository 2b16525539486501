import Foundation

/// Reads the fields of one client frame and turns every problem into a `ProtocolError` that
/// names the field and carries the frame's `ref`. Shared by the agent and visitor protocols.
struct FrameReader {
    let type: String
    let ref: WireRef?
    private let fields: [String: JSONValue]

    /// Parses the frame's JSON, its `ref` and its `type`.
    init(bytes: [UInt8]) throws(ProtocolError) {
        guard let value = JSONValue.parse(bytes) else {
            throw ProtocolError(code: .badRequest, message: "frame is not valid JSON")
        }
        guard case .object(let fields) = value else {
            throw ProtocolError(code: .badRequest, message: "frame must be a JSON object, found \(value.kindName)")
        }
        switch fields["ref"] {
        case nil, .null?: ref = nil
        case .string(let s)?: ref = .string(s)
        case .integer(let i)?: ref = .integer(i)
        case .number(let d)?: ref = .number(d)
        case let other?:
            throw ProtocolError(code: .badRequest, message: "field 'ref' must be a string or a number, found \(other.kindName)")
        }
        guard let typeValue = fields["type"] else {
            throw ProtocolError(code: .badRequest, message: "missing field 'type'", ref: ref)
        }
        guard case .string(let type) = typeValue else {
            throw ProtocolError(code: .badRequest, message: "field 'type' must be a string, found \(typeValue.kindName)", ref: ref)
        }
        self.type = type
        self.fields = fields
    }

    func badRequest(_ message: String) -> ProtocolError {
        ProtocolError(code: .badRequest, message: message, ref: ref)
    }

    func unknownType() -> ProtocolError {
        ProtocolError(code: .unknownType, message: "unknown type '\(type)'", ref: ref)
    }

    /// Whether the field is there with a non-null value.
    func has(_ name: String) -> Bool {
        switch fields[name] {
        case nil, .null?: return false
        default: return true
        }
    }

    func raw(_ name: String) -> JSONValue? { fields[name] }

    /// A present, non-empty string, at most `maxLength` characters.
    func string(_ name: String, maxLength: Int? = nil) throws(ProtocolError) -> String {
        guard has(name) else { throw badRequest("missing field '\(name)'") }
        guard let text = try optionalString(name, maxLength: maxLength) else {
            throw badRequest("field '\(name)' must not be empty")
        }
        return text
    }

    /// A string when present; absent, null and "" all read as nil, because clients commonly
    /// send empty strings for unset form fields.
    func optionalString(_ name: String, maxLength: Int? = nil) throws(ProtocolError) -> String? {
        switch fields[name] {
        case nil, .null?: return nil
        case .string(let s)?:
            if s.isEmpty { return nil }
            if let maxLength, s.count > maxLength {
                throw badRequest("field '\(name)' must be at most \(maxLength) characters, found \(s.count)")
            }
            return s
        case let other?:
            throw badRequest("field '\(name)' must be a string, found \(other.kindName)")
        }
    }

    /// An integer when present (a JSON number with no fraction), checked against `range`.
    func optionalInteger(_ name: String, in range: ClosedRange<Int64>) throws(ProtocolError) -> Int64? {
        let value: Int64
        switch fields[name] {
        case nil, .null?: return nil
        case .integer(let i)?: value = i
        case .number(let d)? where d == d.rounded() && abs(d) < 9e15: value = Int64(d)
        case .number(let d)?:
            throw badRequest("field '\(name)' must be a whole number, found \(JSONFragment.number(d).json)")
        case let other?:
            throw badRequest("field '\(name)' must be a whole number, found \(other.kindName)")
        }
        guard range.contains(value) else {
            if range.upperBound == Int64.max {
                throw badRequest("field '\(name)' must be at least \(range.lowerBound), found \(value)")
            }
            throw badRequest("field '\(name)' must be between \(range.lowerBound) and \(range.upperBound), found \(value)")
        }
        return value
    }

    func integer(_ name: String, in range: ClosedRange<Int64>) throws(ProtocolError) -> Int64 {
        guard let value = try optionalInteger(name, in: range) else { throw badRequest("missing field '\(name)'") }
        return value
    }

    /// One of an enum's raw values.
    func choice<T: RawRepresentable & CaseIterable>(_ name: String, as _: T.Type) throws(ProtocolError) -> T?
    where T.RawValue == String {
        guard let text = try optionalString(name) else { return nil }
        guard let value = T(rawValue: text) else {
            let allowed = T.allCases.map(\.rawValue).joined(separator: "|")
            throw badRequest("field '\(name)' must be one of \(allowed), found '\(text)'")
        }
        return value
    }

    /// Message text as typed by a person: not blank, at most `maxLength` characters.
    func messageText(_ name: String, maxLength: Int) throws(ProtocolError) -> String {
        switch fields[name] {
        case nil, .null?: throw badRequest("missing field '\(name)'")
        case .string(let s)?:
            try Self.checkText(s, field: name, maxLength: maxLength, reader: self)
            return s
        case let other?:
            throw badRequest("field '\(name)' must be a string, found \(other.kindName)")
        }
    }

    static func checkText(_ s: String, field: String, maxLength: Int, reader: FrameReader) throws(ProtocolError) {
        if s.allSatisfy(\.isWhitespace) { throw reader.badRequest("field '\(field)' must not be blank") }
        if s.count > maxLength {
            throw reader.badRequest("field '\(field)' must be at most \(maxLength) characters, found \(s.count)")
        }
    }
}
