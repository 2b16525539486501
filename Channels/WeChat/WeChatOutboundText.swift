import SwitchboardCore

/// The text a WeChat reply carries: the message's text parts, then any media or location as a
/// line the citizen can open (images by `media_id` need the agent upload path of a later issue).
enum WeChatOutboundText {
    static func of(_ outbound: OutboundMessage) -> String? {
        var lines: [String] = []
        for part in outbound.parts {
            switch part {
            case .text(let t) where !t.isEmpty: lines.append(t)
            case .media(let url, _, let name, _): lines.append([name, url].compactMap { $0 }.joined(separator: " "))
            case .location(let lat, let lon, let label): lines.append([label, "\(lat),\(lon)"].compactMap { $0 }.joined(separator: " "))
            default: continue
            }
        }
        return lines.isEmpty ? nil : lines.joined(separator: "\n\n")
    }
}
