/// Reads the configuration's durations: `250ms`, `20s`, `5m`, `2h`, `90d`, or a bare number of
/// seconds (`20`, `0.25`). The result is seconds, the unit `Configuration` stores.
///
/// Deliberately small: one number and one unit, no `1h30m` and no negative values, so that a typo
/// is an error rather than a surprising duration. Range checks (positive, ≥ something) belong to
/// the loader, which knows what each key means.
public enum DurationParser {
    /// Unit suffixes and their length in seconds. `ms` must be tried before `m` and `s`.
    private static let units: [(suffix: String, seconds: Double)] = [
        ("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400),
    ]

    /// Seconds, or nil when `text` is not a duration.
    public static func seconds(from text: String) -> Double? {
        let trimmed = stripSpaces(Substring(text))
        for unit in units where trimmed.hasSuffix(unit.suffix) {
            guard let value = plainDecimal(stripSpaces(trimmed.dropLast(unit.suffix.count))) else { return nil }
            return value * unit.seconds
        }
        return plainDecimal(trimmed)
    }

    /// A non-negative decimal without exponent, sign, `inf` or `nan`: `Double(_:)` alone would
    /// accept `1e3`, `-5` and `nan`, none of which an operator means by a duration.
    static func plainDecimal<S: StringProtocol>(_ text: S) -> Double? {
        var sawDigit = false
        var sawDot = false
        for ch in text.utf8 {
            switch ch {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): sawDigit = true
            case UInt8(ascii: "."):
                if sawDot { return nil }
                sawDot = true
            default: return nil
            }
        }
        guard sawDigit else { return nil }
        return Double(String(text))
    }

    /// Spaces and tabs around the value or between number and unit (`20 s`) are allowed.
    static func stripSpaces(_ text: Substring) -> Substring {
        var s = text
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }
}
