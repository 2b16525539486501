import SwitchboardCore

/// Core message parts shared by the Official Account callback and WeCom's sync_msg, so a link
/// or a location reads the same to the agent whichever way it came.
enum WeChatParts {
    /// A link as text: title, description and URL on their own lines, empty ones left out.
    static func link(title: String, description: String, url: String) -> MessagePart {
        .text([title, description, url].filter { !$0.isEmpty }.joined(separator: "\n"))
    }

    /// A location; an empty label is no label.
    static func location(latitude: Double, longitude: Double, label: String) -> MessagePart {
        .location(lat: latitude, lon: longitude, label: label.isEmpty ? nil : label)
    }
}
