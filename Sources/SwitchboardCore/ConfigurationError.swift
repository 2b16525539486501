/// Everything wrong with a configuration file, collected in one pass so an operator fixes the
/// whole file at once instead of one key per restart (DESIGN §2).
///
/// Each issue names the key path the way the YAML spells it (`agents[1].skills.billing`,
/// `routing.offer_timeout`) and says why it was refused. `description` prints one issue a line,
/// ready for stderr.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Issue: Sendable, Equatable, CustomStringConvertible {
        /// The key path, e.g. `channels[0].auth_token`; `(document)` for the file as a whole.
        public var path: String
        public var reason: String

        public init(path: String, reason: String) {
            self.path = path
            self.reason = reason
        }

        public var description: String { "\(path): \(reason)" }
    }

    /// In the order the loader checked them (section by section); never empty when thrown.
    public var issues: [Issue]

    public init(issues: [Issue]) {
        self.issues = issues
    }

    public init(path: String, reason: String) {
        self.init(issues: [Issue(path: path, reason: reason)])
    }

    /// The key paths that have at least one issue.
    public var paths: [String] { issues.map(\.path) }

    /// The reasons given for one key path.
    public func reasons(for path: String) -> [String] {
        issues.filter { $0.path == path }.map(\.reason)
    }

    public var description: String {
        issues.map(\.description).joined(separator: "\n")
    }
}
