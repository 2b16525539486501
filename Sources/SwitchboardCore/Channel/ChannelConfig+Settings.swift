/// Reading a channel's flattened settings (`ConfigurationLoader.readSettings`): nested mappings
/// are `parent.child` keys and lists `key[i]`, so a factory reads them back by prefix and reports a
/// problem under the same path the operator wrote.
extension ChannelConfig {
    /// A setting that is present and not empty.
    public func value(_ key: String) -> String? {
        settings[key].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The items of the list `key` (`key[0]`, `key[1]`, …) in order.
    public func list(_ key: String) -> [String] {
        var out: [String] = []
        while let item = settings["\(key)[\(out.count)]"] { out.append(item) }
        return out
    }

    /// The direct scalar entries of the mapping `key` (`key.a`, `key.b`), sorted by name.
    public func mapping(_ key: String) -> [(key: String, value: String)] {
        let prefix = key + "."
        return settings.compactMap { k, v -> (key: String, value: String)? in
            guard k.hasPrefix(prefix) else { return nil }
            let child = String(k.dropFirst(prefix.count))
            return child.contains(".") || child.contains("[") ? nil : (child, v)
        }.sorted { $0.key < $1.key }
    }

    /// The channel's `provider` as one of `P`'s cases; missing or another name is an error that
    /// lists the choices.
    public func providerCase<P: RawRepresentable & CaseIterable>(_ type: P.Type) throws(ChannelConfigurationError) -> P where P.RawValue == String {
        let choices = P.allCases.map(\.rawValue).joined(separator: ", ")
        guard let name = provider, !name.isEmpty else { throw .missing(id, "provider", because: "(one of \(choices))") }
        guard let chosen = P(rawValue: name) else {
            throw ChannelConfigurationError(channelId: id, key: "provider", problem: "must be one of \(choices), not '\(name)'")
        }
        return chosen
    }

    /// Every setting key that is not in `allowed` (or under an allowed mapping), for a factory to
    /// refuse typos by name: `welcom` is an error, not a silent default.
    public func unknownSettings(allowed: [String]) -> [String] {
        settings.keys.filter { key in
            let top = String(key.prefix { $0 != "." && $0 != "[" })
            return !allowed.contains(top)
        }.sorted()
    }
}
