import Yams

/// The loader's cursor over a composed YAML tree. It reads typed values out of mappings, resolves
/// `env:NAME` secrets, and records an issue for everything wrong instead of stopping, so the
/// loader can report the whole file at once (DESIGN §2).
///
/// Every read returns something usable (the default, or nil) after recording an issue, which lets
/// the loader keep going and find the next problem. Used by one load call, on one thread.
final class ConfigReader {
    private let environment: [String: String]
    private(set) var issues: [ConfigurationError.Issue] = []

    init(environment: [String: String]) {
        self.environment = environment
    }

    func fail(_ path: String, _ reason: String) {
        issues.append(ConfigurationError.Issue(path: path, reason: reason))
    }

    /// Whether a value was already refused, so that checks relating it to other values do not
    /// pile a second, confusing issue onto the default that stands in for it.
    func hasIssue(at paths: String...) -> Bool {
        issues.contains { paths.contains($0.path) }
    }

    // MARK: Shapes

    /// The mapping at `path`; nil when absent or null (no issue) or not a mapping (issue).
    func mapping(_ node: Node?, at path: String) -> ConfigMap? {
        guard let node, !Self.isNull(node) else { return nil }
        guard case .mapping(let mapping) = node else {
            fail(path, "expected a mapping of keys, found \(Self.describe(node))")
            return nil
        }
        var entries: [(key: String, value: Node)] = []
        collect(mapping, into: &entries, at: path)
        return ConfigMap(path: path, entries: entries)
    }

    /// Flattens YAML merge keys (`<<: *defaults`) so that shared blocks of agent or channel
    /// settings work; keys written out beside the merge win, as YAML specifies.
    private func collect(_ mapping: Node.Mapping, into entries: inout [(key: String, value: Node)], at path: String) {
        var own: [(key: String, value: Node)] = []
        var merged: [(key: String, value: Node)] = []
        for (key, value) in mapping {
            if key.tag.description == Tag.Name.merge.rawValue {
                let sources: [Node]
                if case .sequence(let seq) = value { sources = Array(seq) } else { sources = [value] }
                for source in sources {
                    guard case .mapping(let inner) = source else {
                        fail(path, "a merge key (<<) must refer to a mapping")
                        continue
                    }
                    collect(inner, into: &merged, at: path)
                }
                continue
            }
            guard case .scalar(let scalar) = key, !Self.isNull(key) else {
                fail(path, "keys must be plain names, found \(Self.describe(key))")
                continue
            }
            own.append((scalar.string, value))
        }
        let ownKeys = Set(own.map(\.key))
        entries.append(contentsOf: merged.filter { !ownKeys.contains($0.key) })
        entries.append(contentsOf: own)
    }

    /// The items of the sequence at `path`; nil when absent or null (no issue) or not a sequence.
    func sequence(_ node: Node?, at path: String) -> [Node]? {
        guard let node, !Self.isNull(node) else { return nil }
        guard case .sequence(let seq) = node else {
            fail(path, "expected a list, found \(Self.describe(node))")
            return nil
        }
        return Array(seq)
    }

    /// The text of a single value with `env:NAME` replaced; nil when absent or null (no issue),
    /// not a single value, or naming an unset variable (issue).
    func scalar(_ node: Node?, at path: String) -> String? {
        guard let node, !Self.isNull(node) else { return nil }
        guard case .scalar(let scalar) = node else {
            fail(path, "expected a single value, found \(Self.describe(node))")
            return nil
        }
        let text = scalar.string
        guard text.hasPrefix("env:") else { return text }
        let name = String(text.dropFirst(4))
        guard !name.isEmpty else {
            fail(path, "'env:' must be followed by an environment variable name")
            return nil
        }
        guard let value = environment[name] else {
            fail(path, "environment variable '\(name)' is not set")
            return nil
        }
        return value
    }

    // MARK: Typed values

    func string(_ map: ConfigMap, _ key: String) -> String? {
        scalar(map[key], at: map.path(key))
    }

    func string(_ map: ConfigMap, _ key: String, default value: String) -> String {
        string(map, key) ?? value
    }

    /// A value that must be present and not empty.
    func requiredString(_ map: ConfigMap, _ key: String) -> String? {
        let path = map.path(key)
        if map[key] == nil || Self.isNull(map[key]!) {
            fail(path, "is required")
            return nil
        }
        guard let text = scalar(map[key], at: path) else { return nil }
        guard !text.isEmpty else {
            fail(path, "must not be empty")
            return nil
        }
        return text
    }

    func integer(_ map: ConfigMap, _ key: String, default value: Int, in range: ClosedRange<Int>) -> Int {
        let path = map.path(key)
        guard let text = scalar(map[key], at: path) else { return value }
        guard let number = Int(text) else {
            fail(path, "expected a whole number, found '\(text)'")
            return value
        }
        return check(number, in: range, at: path) ? number : value
    }

    /// A non-negative decimal such as a rate; `positive` also refuses zero.
    func number(_ map: ConfigMap, _ key: String, default value: Double, positive: Bool) -> Double {
        let path = map.path(key)
        guard let text = scalar(map[key], at: path) else { return value }
        guard let number = DurationParser.plainDecimal(text) else {
            fail(path, "expected a non-negative number, found '\(text)'")
            return value
        }
        if positive && number <= 0 {
            fail(path, "must be greater than zero")
            return value
        }
        return number
    }

    /// A duration in seconds. Timeouts and intervals must be positive; a few settings (a grace
    /// period, a wrap-up) mean "none" at zero and pass `allowZero`.
    func duration(_ map: ConfigMap, _ key: String, default value: Double, allowZero: Bool = false) -> Double {
        let path = map.path(key)
        guard let text = scalar(map[key], at: path) else { return value }
        guard let seconds = DurationParser.seconds(from: text) else {
            fail(path, "invalid duration '\(text)' (expected e.g. 250ms, 20s, 5m, 2h, 90d or a number of seconds)")
            return value
        }
        if seconds == 0 && !allowZero {
            fail(path, "must be greater than zero")
            return value
        }
        return seconds
    }

    /// A positive byte count.
    func size(_ map: ConfigMap, _ key: String, default value: Int) -> Int {
        let path = map.path(key)
        guard let text = scalar(map[key], at: path) else { return value }
        guard let bytes = ByteSizeParser.bytes(from: text) else {
            fail(path, "invalid size '\(text)' (expected e.g. 512KB, 64KiB, 1MiB or a number of bytes)")
            return value
        }
        guard bytes > 0 else {
            fail(path, "must be greater than zero")
            return value
        }
        return bytes
    }

    /// One of a fixed set of spellings, as an enum.
    func choice<T: RawRepresentable>(_ map: ConfigMap, _ key: String, default value: T, allowed: [T]) -> T
    where T.RawValue == String {
        let text = oneOf(map, key, default: value.rawValue, allowed: allowed.map(\.rawValue))
        return T(rawValue: text) ?? value
    }

    /// One of a fixed set of spellings, as the string itself.
    func oneOf(_ map: ConfigMap, _ key: String, default value: String, allowed: [String]) -> String {
        let path = map.path(key)
        guard let text = scalar(map[key], at: path) else { return value }
        guard allowed.contains(text) else {
            fail(path, "must be one of \(allowed.joined(separator: "|")), found '\(text)'")
            return value
        }
        return text
    }

    func check(_ number: Int, in range: ClosedRange<Int>, at path: String) -> Bool {
        guard range.contains(number) else {
            if range.upperBound == Int.max {
                fail(path, "must be at least \(range.lowerBound), found \(number)")
            } else {
                fail(path, "must be between \(range.lowerBound) and \(range.upperBound), found \(number)")
            }
            return false
        }
        return true
    }

    /// Reports keys the section does not know. A misspelt key would otherwise be ignored in
    /// silence and its default used, which is the worst kind of configuration bug.
    func checkKeys(_ map: ConfigMap, allowed: [String]) {
        var seen = Set<String>()
        for key in map.keys where seen.insert(key).inserted && !allowed.contains(key) {
            var reason = "unknown key '\(key)'"
            if let near = Self.nearest(to: key, among: allowed) { reason += " (did you mean '\(near)'?)" }
            fail(map.path(key), reason)
        }
    }

    // MARK: Helpers

    static func isNull(_ node: Node) -> Bool {
        guard case .scalar = node else { return false }
        return node.tag.description == Tag.Name.null.rawValue
    }

    static func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar(let s): return "'\(s.string)'"
        case .alias: return "an alias"
        }
    }

    /// The closest allowed spelling within two edits, for "did you mean".
    static func nearest(to key: String, among candidates: [String]) -> String? {
        var best: (String, Int)?
        for candidate in candidates {
            let d = editDistance(Array(key.lowercased()), Array(candidate))
            if d <= 2, d < (best?.1 ?? Int.max) { best = (candidate, d) }
        }
        return best?.0
    }

    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            previous = current
        }
        return previous[b.count]
    }
}

/// A mapping's entries in file order (merge keys already flattened), with the key path it sits
/// at so that issues can name `agents[1].skills.billing`.
struct ConfigMap {
    let path: String
    let entries: [(key: String, value: Node)]

    /// The last entry wins for a repeated key, as Yams itself would refuse duplicates anyway.
    subscript(key: String) -> Node? {
        entries.last(where: { $0.key == key })?.value
    }

    var keys: [String] { entries.map(\.key) }

    func path(_ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }
}
