/// Reads the configuration's sizes: `1MiB`, `64KiB`, `512KB`, `2GB`, `100B`, or a bare number of
/// bytes. Binary units (`KiB`, `MiB`, `GiB`) are powers of 1024, decimal ones (`KB`, `MB`, `GB`)
/// powers of 1000, as the units say. Units are matched case-insensitively.
///
/// Whole numbers only: a size is a count of bytes, and `1.5MiB` invites rounding questions no one
/// needs. Overflowing values are rejected rather than wrapped.
public enum ByteSizeParser {
    /// Longest suffixes first, so `64KiB` is not read as `64Ki` bytes. No one-letter `k`/`m`: Redis
    /// reads `1k` as 1000 and `1kb` as 1024, so a bare letter would mislead someone.
    private static let units: [(suffix: String, bytes: Int)] = [
        ("kib", 1 << 10), ("mib", 1 << 20), ("gib", 1 << 30),
        ("kb", 1_000), ("mb", 1_000_000), ("gb", 1_000_000_000),
        ("b", 1),
    ]

    /// Bytes, or nil when `text` is not a size.
    public static func bytes(from text: String) -> Int? {
        let lower = DurationParser.stripSpaces(Substring(text)).lowercased()
        var number = Substring(lower)
        var multiplier = 1
        if let unit = units.first(where: { lower.hasSuffix($0.suffix) }) {
            number = lower.dropLast(unit.suffix.count)
            multiplier = unit.bytes
        }
        number = DurationParser.stripSpaces(number)
        guard !number.isEmpty, number.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let value = Int(number) else { return nil }
        let (product, overflow) = value.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : product
    }
}
