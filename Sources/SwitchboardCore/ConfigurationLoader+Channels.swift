import Yams

/// The `channels` section: one entry per configured channel instance (DESIGN §6, §10).
extension ConfigurationLoader {
    /// Keys with a typed home in `ChannelConfig`; every other key is a provider setting.
    static let channelFields = ["id", "kind", "provider", "skill", "priority", "outbound"]
    static let outboundKeys = ["url", "account_sid", "auth_token", "from"]
    static let priorities = 0...9

    static func readChannels(_ map: ConfigMap, skills: [String], _ reader: ConfigReader) -> [ChannelConfig] {
        guard let items = reader.sequence(map["channels"], at: "channels") else { return [] }
        var channels: [ChannelConfig] = []
        var firstIndexOfId: [String: Int] = [:]
        for (i, item) in items.enumerated() {
            let path = "channels[\(i)]"
            guard let entry = reader.mapping(item, at: path) else {
                if ConfigReader.isNull(item) { reader.fail(path, "expected a mapping of keys, found nothing") }
                continue
            }
            let id = reader.requiredString(entry, "id")
            if let id {
                if !isValidId(id) {
                    reader.fail(entry.path("id"), "'\(id)' is not a valid id (letters, digits, '_', '-', '.', '@'): it is part of webhook URLs")
                } else if let first = firstIndexOfId[id] {
                    reader.fail(entry.path("id"), "duplicate channel id '\(id)' (also channels[\(first)])")
                } else {
                    firstIndexOfId[id] = i
                }
            }
            let kind = readKind(entry, reader)
            // Which providers a kind has, and what each requires, is the kind's own factory's to say
            // (ChannelCatalog, run by `serve` and `check-config`).
            let provider = reader.string(entry, "provider").flatMap { $0.isEmpty ? nil : $0 }
            let skill = reader.requiredString(entry, "skill")
            if let skill, !skills.contains(skill) {
                reader.fail(entry.path("skill"), "unknown skill '\(skill)' (\(declared(skills)))")
            }
            let priority = reader.integer(entry, "priority", default: 0, in: priorities)
            let settings = readSettings(entry, reader)
            let outbound = readOutbound(reader.mapping(entry["outbound"], at: entry.path("outbound")),
                                        channelToken: settings["auth_token"], reader)
            // Without a kind there is no channel to describe; the issue is recorded, and leaving
            // it out keeps kind-based checks (the visitor secret) from guessing.
            guard let kind else { continue }
            channels.append(ChannelConfig(id: id ?? "", kind: kind, provider: provider, skill: skill ?? "",
                                          priority: priority, settings: settings, outbound: outbound))
        }
        return channels
    }

    private static func readKind(_ entry: ConfigMap, _ reader: ConfigReader) -> ChannelKind? {
        guard let text = reader.requiredString(entry, "kind") else { return nil }
        guard let kind = ChannelKind(rawValue: text) else {
            reader.fail(entry.path("kind"), "unknown channel kind '\(text)' (kinds: \(ChannelKind.allCases.map(\.rawValue).joined(separator: ", ")))")
            return nil
        }
        return kind
    }

    /// Provider settings as resolved strings, keyed by their path inside the channel: a nested
    /// mapping's values as `imap.url`, `menu_skills.COMPLAINT`; a list's as `handoff_keywords[0]`.
    /// Each kind's factory validates its own keys (DESIGN §10.1 "Config"), and its errors keep the
    /// path because the key is the path.
    private static func readSettings(_ entry: ConfigMap, _ reader: ConfigReader) -> [String: String] {
        var settings: [String: String] = [:]
        for key in entry.keys where !channelFields.contains(key) {
            flatten(entry[key], key: key, path: entry.path(key), into: &settings, reader)
        }
        return settings
    }

    private static func flatten(_ node: Node?, key: String, path: String, into settings: inout [String: String], _ reader: ConfigReader) {
        guard let node, !ConfigReader.isNull(node) else { return }
        switch node {
        case .mapping:
            guard let map = reader.mapping(node, at: path) else { return }
            for child in map.keys {
                flatten(map[child], key: key + "." + child, path: map.path(child), into: &settings, reader)
            }
        case .sequence(let items):
            for (i, item) in items.enumerated() {
                flatten(item, key: "\(key)[\(i)]", path: "\(path)[\(i)]", into: &settings, reader)
            }
        default:
            if let value = reader.scalar(node, at: path) { settings[key] = value }
        }
    }

    private static func readOutbound(_ map: ConfigMap?, channelToken: String?, _ reader: ConfigReader) -> OutboundSettings? {
        guard let map else { return nil }
        reader.checkKeys(map, allowed: outboundKeys)
        let url = reader.requiredString(map, "url")
        if let url, !WebURL.isAbsoluteHTTP(url) {
            reader.fail(map.path("url"), "must be an http:// or https:// URL, found '\(url)'")
        }
        let nonEmpty = { (key: String) -> String? in reader.string(map, key).flatMap { $0.isEmpty ? nil : $0 } }
        // The gateway's basic-auth password is usually the same account token that signs inbound
        // webhooks, so it defaults to the channel's own `auth_token`.
        return OutboundSettings(url: url ?? "", accountSid: nonEmpty("account_sid"),
                                authToken: nonEmpty("auth_token") ?? channelToken.flatMap { $0.isEmpty ? nil : $0 },
                                from: nonEmpty("from"))
    }
}
