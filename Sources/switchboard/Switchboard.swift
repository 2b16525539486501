import ArgumentParser
import Foundation
import Logging
import SwitchboardCore
import SwitchboardCrypto
import SMSChannel
import SwitchboardServer
import VoiceChannel
import WebChatChannel
import WeChatChannel

/// The channel kinds this build serves: one factory per channel target under `Channels/`. Adding a
/// channel means its folder, its target in Package.swift, and one line here.
let channelCatalog = ChannelCatalog([
    SMSChannelFactory(),
    WebChatChannelFactory(),
    WeChatChannelFactory(),
    VoiceChannelFactory(),
])

/// The executable: CLI, config loading, wiring. Thin on purpose (DESIGN §3); the broker lives in
/// SwitchboardServer.
@main
struct Switchboard: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "Real-time omnichannel message broker for contact centres.",
        subcommands: [Serve.self, CheckConfig.self, Token.self],
        defaultSubcommand: Serve.self)
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the broker (HTTP, WebSocket, webhooks) on one port.")

    @Option(name: .shortAndLong, help: "The YAML configuration file.")
    var config: String = "config/demo.yaml"

    @Option(help: "Override node.id (default: hostname-pid).")
    var nodeId: String?

    func run() throws {
        var configuration = try ConfigFile.load(config)
        if let nodeId { configuration.node.id = nodeId }
        if configuration.node.id.isEmpty {
            configuration.node.id = "\(ProcessInfo.processInfo.hostName)-\(getpid())"
        }
        let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let broker = try Broker(configuration: configuration, channels: channelCatalog, logger: Logger(label: "switchboard"))
        let status = broker.run()
        if status != 0 { throw ExitCode(status) }
    }
}

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check-config",
                                                    abstract: "Validate a configuration file and print every problem found.")

    @Argument(help: "The YAML configuration file.")
    var file: String

    func run() throws {
        let configuration = try ConfigFile.load(file)
        // Each channel kind validates its own settings (DESIGN §10.1): the same factories `serve` uses.
        do {
            _ = try channelCatalog.adapters(for: configuration)
        } catch {
            ConfigFile.fail("\(file): invalid configuration\n\(error.description)")
        }
        print("\(file): OK — \(configuration.agents.count) agents, \(configuration.skills.count) skills, \(configuration.channels.count) channels")
    }
}

struct Token: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Mint a random agent token or API key and print it with the SHA-256 that goes in the config.")

    @Option(help: "Random bytes in the token.")
    var bytes: Int = 24

    func run() throws {
        guard (16...64).contains(bytes) else { throw ValidationError("--bytes must be between 16 and 64") }
        let token = Base64.encodeURLSafe(try SecureRandom.bytes(bytes))
        print("token:        \(token)")
        print("token_sha256: \(Digest.sha256Hex(Array(token.utf8)))")
        print("Give the token to the agent (or integration); put only token_sha256 (or key_sha256) in the config.")
    }
}

/// Reads a config file and runs the pure loader with the process environment (`env:NAME`).
enum ConfigFile {
    static func load(_ path: String) throws -> Configuration {
        guard let data = FileManager.default.contents(atPath: path) else {
            fail("cannot read configuration file '\(path)'")
        }
        let text = String(decoding: data, as: UTF8.self)
        do {
            return try ConfigurationLoader.load(yaml: text, environment: ProcessInfo.processInfo.environment)
        } catch {
            fail("\(path): invalid configuration\n\(error.description)")
        }
    }

    /// A configuration problem is the operator's to fix, not a usage error: print it (every
    /// problem, one per line) without the CLI usage text, and exit 1.
    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(1)
    }
}
