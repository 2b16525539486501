/// Makes the adapter for one configured channel of its kind, and with that validates the
/// channel's own settings (DESIGN §10.1 "Config": the Core loader knows only the common keys).
///
/// A channel target exports one factory; the executable lists them in a `ChannelCatalog`, and
/// both `serve` and `check-config` build every adapter through it, so a bad setting is reported by
/// `check-config` with its key path, not discovered at 2 a.m. Adding a channel kind means a new
/// folder under `Channels/`, its target in Package.swift and one line in that list.
public protocol ChannelFactory: Sendable {
    /// The kinds (and, where a kind has several, the providers) this factory builds.
    var kind: ChannelKind { get }
    func make(_ config: ChannelConfig, environment: ChannelEnvironment) throws(ChannelConfigurationError) -> any ChannelAdapter
}

/// What an adapter may know of the rest of the configuration while it validates its settings.
public struct ChannelEnvironment: Sendable, Equatable {
    /// Declared skill ids (a WeChat `menu_skills` value must be one).
    public var skills: [String]
    /// `public_base_url`, for providers that sign the URL they call.
    public var publicBaseURL: String?
    /// `media.max_bytes`: the largest media an adapter may download to pass on (an image an agent
    /// or bot sends by URL, uploaded to WeChat).
    public var mediaMaxBytes: Int

    public init(skills: [String] = [], publicBaseURL: String? = nil, mediaMaxBytes: Int = 10 << 20) {
        self.skills = skills
        self.publicBaseURL = publicBaseURL
        self.mediaMaxBytes = mediaMaxBytes
    }

    public init(_ configuration: Configuration) {
        self.init(skills: configuration.skills, publicBaseURL: configuration.publicBaseURL, mediaMaxBytes: configuration.mediaMaxBytes)
    }
}

/// The factories of one build, by kind.
public struct ChannelCatalog: Sendable {
    public let factories: [any ChannelFactory]

    public init(_ factories: [any ChannelFactory]) {
        self.factories = factories
    }

    /// One adapter per configured channel, or every problem found, each naming its channel and key.
    /// A kind without a factory in this build is an error at start, never a silent 404.
    public func adapters(for configuration: Configuration) throws(ChannelCatalogError) -> [String: any ChannelAdapter] {
        let environment = ChannelEnvironment(configuration)
        var out: [String: any ChannelAdapter] = [:]
        var problems: [ChannelConfigurationError] = []
        for (index, channel) in configuration.channels.enumerated() {
            let path = "channels[\(index)]"
            guard let factory = factories.first(where: { $0.kind == channel.kind }) else {
                problems.append(ChannelConfigurationError(channelId: channel.id, key: "kind",
                                                          problem: "'\(channel.kind.rawValue)' is not supported by this build",
                                                          channelPath: path))
                continue
            }
            do {
                out[channel.id] = try factory.make(channel, environment: environment)
            } catch {
                var located = error
                located.channelPath = path
                problems.append(located)
            }
        }
        guard problems.isEmpty else { throw ChannelCatalogError(problems: problems) }
        return out
    }
}

/// Every channel setting that is missing or unusable, one per line.
public struct ChannelCatalogError: Error, Sendable, Equatable, CustomStringConvertible {
    public var problems: [ChannelConfigurationError]

    public var description: String {
        problems.map(\.description).joined(separator: "\n")
    }
}
