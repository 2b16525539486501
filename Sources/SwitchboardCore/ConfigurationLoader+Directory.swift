import Yams

/// Skills, agents and API keys: the sections that name people and integrations.
extension ConfigurationLoader {
    static let agentKeys = ["id", "name", "role", "token_sha256", "skills", "capacity", "phone", "sip", "voice_exclusive"]
    static let apiKeyKeys = ["id", "key_sha256"]
    static let skillLevels = 1...10

    static func readSkills(_ map: ConfigMap, _ reader: ConfigReader) -> [String] {
        guard let items = reader.sequence(map["skills"], at: "skills") else { return [] }
        var skills: [String] = []
        for (i, item) in items.enumerated() {
            let path = "skills[\(i)]"
            guard let name = reader.scalar(item, at: path) else { continue }
            if !isValidSkillName(name) {
                reader.fail(path, "'\(name)' is not a valid skill name (letters, digits, '_', '-', '.')")
            } else if let first = skills.firstIndex(of: name) {
                reader.fail(path, "duplicate skill '\(name)' (also skills[\(first)])")
            } else {
                skills.append(name)
            }
        }
        return skills
    }

    static func readAgents(_ map: ConfigMap, skills: [String], _ reader: ConfigReader) -> [AgentConfig] {
        guard let items = reader.sequence(map["agents"], at: "agents") else { return [] }
        var agents: [AgentConfig] = []
        var firstIndexOfId: [String: Int] = [:]
        var firstIndexOfToken: [String: Int] = [:]
        for (i, item) in items.enumerated() {
            let path = "agents[\(i)]"
            guard let entry = reader.mapping(item, at: path) else {
                if ConfigReader.isNull(item) { reader.fail(path, "expected a mapping of keys, found nothing") }
                continue
            }
            reader.checkKeys(entry, allowed: agentKeys)
            let id = reader.requiredString(entry, "id")
            if let id {
                if !isValidId(id) {
                    reader.fail(entry.path("id"), "'\(id)' is not a valid id (letters, digits, '_', '-', '.', '@')")
                } else if let first = firstIndexOfId[id] {
                    reader.fail(entry.path("id"), "duplicate agent id '\(id)' (also agents[\(first)])")
                } else {
                    firstIndexOfId[id] = i
                }
            }
            // The console shows the id when no display name is configured.
            let name = reader.string(entry, "name").flatMap { $0.isEmpty ? nil : $0 } ?? id ?? ""
            let role = reader.choice(entry, "role", default: AgentConfig.Role.agent, allowed: [.agent, .supervisor, .admin])
            let token = readHash(entry, "token_sha256", reader)
            if let token {
                // Two agents with one token would log in as whichever the server finds first.
                if let first = firstIndexOfToken[token] {
                    reader.fail(entry.path("token_sha256"), "same token hash as agents[\(first)]")
                } else {
                    firstIndexOfToken[token] = i
                }
            }
            let skillLevels = readSkillLevels(entry, skills: skills, reader)
            let capacity = readCapacity(entry, reader)
            let (phone, sip) = readVoiceEndpoints(entry, reader)
            if (capacity[.voice] ?? 0) > 0, phone == nil, sip == nil, !reader.hasIssue(at: entry.path("phone"), entry.path("sip")) {
                reader.fail(entry.path("capacity.voice"), "an agent who takes calls needs phone (E.164) or sip, where an accepted call is bridged")
            }
            let exclusive = reader.oneOf(entry, "voice_exclusive", default: "true", allowed: ["true", "false"]) == "true"
            agents.append(AgentConfig(id: id ?? "", name: name, role: role, tokenSHA256: token ?? "",
                                      skills: skillLevels, capacity: capacity, phone: phone, sip: sip, voiceExclusive: exclusive))
        }
        return agents
    }

    private static func readSkillLevels(_ entry: ConfigMap, skills: [String], _ reader: ConfigReader) -> [String: Int] {
        guard let map = reader.mapping(entry["skills"], at: entry.path("skills")) else { return [:] }
        var levels: [String: Int] = [:]
        for skill in map.keys {
            let path = map.path(skill)
            guard skills.contains(skill) else {
                reader.fail(path, "unknown skill '\(skill)' (\(declared(skills)))")
                continue
            }
            guard let text = reader.scalar(map[skill], at: path) else {
                if map[skill].map(ConfigReader.isNull) == true { reader.fail(path, "needs a level from 1 to 10") }
                continue
            }
            guard let level = Int(text) else {
                reader.fail(path, "expected a skill level from 1 to 10, found '\(text)'")
                continue
            }
            if reader.check(level, in: skillLevels, at: path) { levels[skill] = level }
        }
        return levels
    }

    /// `phone` (normalized to E.164) and `sip` (a `sip:` URI); either, both or neither.
    private static func readVoiceEndpoints(_ entry: ConfigMap, _ reader: ConfigReader) -> (phone: String?, sip: String?) {
        var phone: String?, sip: String?
        if let text = reader.string(entry, "phone") {
            phone = PhoneNumber.e164(text)
            if phone == nil { reader.fail(entry.path("phone"), "'\(text)' is not a phone number (E.164, e.g. +8613800000001)") }
        }
        if let text = reader.string(entry, "sip") {
            // Bridged as written into TwiML `<Sip>` or a PBX's bridge: one URI, no spaces or markup.
            if (text.lowercased().hasPrefix("sip:") || text.lowercased().hasPrefix("sips:")) && text.count <= 255
                && text.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && !"<>\"'".unicodeScalars.contains($0) }) {
                sip = text
            } else {
                reader.fail(entry.path("sip"), "'\(text)' is not a SIP URI (sip:1001@pbx.example)")
            }
        }
        return (phone, sip)
    }

    private static func readCapacity(_ entry: ConfigMap, _ reader: ConfigReader) -> [ChannelKind: Int] {
        guard let map = reader.mapping(entry["capacity"], at: entry.path("capacity")) else { return [:] }
        var capacity: [ChannelKind: Int] = [:]
        for key in map.keys {
            let path = map.path(key)
            guard let kind = ChannelKind(rawValue: key) else {
                reader.fail(path, "unknown channel kind '\(key)' (kinds: \(ChannelKind.allCases.map(\.rawValue).joined(separator: ", ")))")
                continue
            }
            guard let text = reader.scalar(map[key], at: path) else { continue }
            guard let slots = Int(text) else {
                reader.fail(path, "expected a whole number of conversations, found '\(text)'")
                continue
            }
            if reader.check(slots, in: 0...Int.max, at: path) { capacity[kind] = slots }
        }
        return capacity
    }

    static func readAPIKeys(_ map: ConfigMap, _ reader: ConfigReader) -> [APIKeyConfig] {
        guard let items = reader.sequence(map["api_keys"], at: "api_keys") else { return [] }
        var keys: [APIKeyConfig] = []
        var firstIndexOfId: [String: Int] = [:]
        var firstIndexOfHash: [String: Int] = [:]
        for (i, item) in items.enumerated() {
            let path = "api_keys[\(i)]"
            guard let entry = reader.mapping(item, at: path) else {
                if ConfigReader.isNull(item) { reader.fail(path, "expected a mapping of keys, found nothing") }
                continue
            }
            reader.checkKeys(entry, allowed: apiKeyKeys)
            let id = reader.requiredString(entry, "id")
            if let id {
                if !isValidId(id) {
                    reader.fail(entry.path("id"), "'\(id)' is not a valid id (letters, digits, '_', '-', '.', '@')")
                } else if let first = firstIndexOfId[id] {
                    reader.fail(entry.path("id"), "duplicate api key id '\(id)' (also api_keys[\(first)])")
                } else {
                    firstIndexOfId[id] = i
                }
            }
            let hash = readHash(entry, "key_sha256", reader)
            if let hash {
                if let first = firstIndexOfHash[hash] {
                    reader.fail(entry.path("key_sha256"), "same key hash as api_keys[\(first)]")
                } else {
                    firstIndexOfHash[hash] = i
                }
            }
            keys.append(APIKeyConfig(id: id ?? "", keySHA256: hash ?? ""))
        }
        return keys
    }

    /// A required lower-case hex SHA-256 (DESIGN §11: tokens and keys are stored only as hashes).
    private static func readHash(_ entry: ConfigMap, _ key: String, _ reader: ConfigReader) -> String? {
        guard let hash = reader.requiredString(entry, key) else { return nil }
        let hex = hash.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
        guard hash.utf8.count == 64, hex else {
            reader.fail(entry.path(key), "must be 64 lower-case hex digits (the SHA-256 of the secret, e.g. from "
                        + "`printf %s SECRET | sha256sum`), found \(hash.utf8.count) characters")
            return nil
        }
        return hash
    }

    static func declared(_ skills: [String]) -> String {
        skills.isEmpty ? "no skills are declared" : "declared skills: \(skills.joined(separator: ", "))"
    }

    /// Skills are Redis key segments (`queue:<skill>`) and wire values; Chinese names are fine.
    static func isValidSkillName(_ name: String) -> Bool {
        !name.isEmpty && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }
    }

    /// Agent, API key and channel ids appear in Redis keys and URL paths, so they stay ASCII and
    /// free of separators.
    static func isValidId(_ id: String) -> Bool {
        !id.isEmpty && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_-.@".contains($0)) }
    }
}
