// swift-tools-version:6.0
// Switchboard — real-time omnichannel message broker. Layout: ../shared/DESIGN.md §3.
import PackageDescription

let package = Package(
    name: "Switchboard",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "switchboard", targets: ["switchboard"]),
        // Bench/: the load generator and the bare-stack ceiling it is compared with (Bench/README.md).
        .executable(name: "LoadGen", targets: ["LoadGen"]),
        .executable(name: "Baseline", targets: ["Baseline"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // C libraries: module.modulemap + shim.h only (DESIGN §5).
        .systemLibrary(name: "CLibWebSockets", path: "Sources/CLibWebSockets", pkgConfig: "libwebsockets",
                       providers: [.apt(["libwebsockets-dev"])]),
        .systemLibrary(name: "CHiredis", path: "Sources/CHiredis", pkgConfig: "hiredis",
                       providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "openssl",
                       providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CLibXML2", path: "Sources/CLibXML2", pkgConfig: "libxml-2.0",
                       providers: [.apt(["libxml2-dev"])]),
        // GMime 3 for MIME (email, the mailbox's multipart forms: issue 11); its GObject macros as functions.
        .systemLibrary(name: "CGMime", path: "Sources/CGMime", pkgConfig: "gmime-3.0",
                       providers: [.apt(["libgmime-3.0-dev"])]),

        // Pure core: model, wire protocol, ChannelAdapter, Configuration. No C, no I/O, no clocks.
        .target(name: "SwitchboardCore",
                dependencies: [.product(name: "Yams", package: "Yams")]),

        // Small, tested wrappers over OpenSSL: digests, HMAC, base64, constant-time compare, random.
        .target(name: "SwitchboardCrypto", dependencies: ["COpenSSL"]),

        // Channels: one target each, depending on the Core (plus COpenSSL for signatures).
        .target(name: "WebChatChannel", dependencies: ["SwitchboardCore", "COpenSSL", "SwitchboardCrypto"], path: "Channels/WebChat"),
        // Twilio's webhook signature and form fields, shared by the SMS and Voice channels.
        .target(name: "TwilioSupport", dependencies: ["SwitchboardCore", "SwitchboardCrypto"], path: "Channels/Twilio"),
        .target(name: "SMSChannel", dependencies: ["SwitchboardCore", "COpenSSL", "SwitchboardCrypto", "TwilioSupport"], path: "Channels/SMS"),
        // Voice: Twilio Voice webhooks and TwiML, a generic JSON form for PBXs (DESIGN §10.5).
        .target(name: "VoiceChannel", dependencies: ["SwitchboardCore", "SwitchboardCrypto", "TwilioSupport"], path: "Channels/Voice"),
        // WeChat: libxml2 (entities off, no network) reads the callback XML (DESIGN §10.3).
        .target(name: "WeChatChannel", dependencies: ["SwitchboardCore", "SwitchboardCrypto", "CLibXML2"], path: "Channels/WeChat"),
        // Email: MIME parsed with GMime (DESIGN §10.4; issue 11, in progress: the parser first).
        .target(name: "EmailChannel", dependencies: ["SwitchboardCore", "SwitchboardCrypto", "CGMime"], path: "Channels/Email"),

        // The event loop: LoopDriver (the lws context on libev/epoll or poll(2)) and LoopTimer, over
        // the shims in CLibWebSockets/shim.h (docs/design-notes.md §4).
        .target(name: "SwitchboardLoop", dependencies: ["CLibWebSockets"]),

        // Redis: async hiredis client on the lws loop, Lua scripts, Store and Router.
        .target(name: "SwitchboardRedis",
                dependencies: ["SwitchboardCore", "CHiredis", "CLibWebSockets", "SwitchboardCrypto", "SwitchboardLoop"],
                resources: [.copy("Scripts")]),

        // Server: lws context, HTTP routing, WS sessions, outbound HTTP, timers, workers, web assets.
        .target(name: "SwitchboardServer",
                dependencies: [
                    "SwitchboardCore", "SwitchboardRedis", "SwitchboardLoop", "CLibWebSockets", "COpenSSL",
                    "SwitchboardCrypto", "WebChatChannel",
                    .product(name: "Logging", package: "swift-log"),
                    .product(name: "Prometheus", package: "swift-prometheus"),
                ],
                resources: [.copy("Web")]),

        .executableTarget(name: "switchboard",
                          dependencies: [
                              "SwitchboardCore", "SwitchboardServer", "SwitchboardRedis", "SwitchboardCrypto",
                              "SMSChannel", "WebChatChannel", "WeChatChannel", "VoiceChannel",
                              .product(name: "ArgumentParser", package: "swift-argument-parser"),
                              .product(name: "Logging", package: "swift-log"),
                          ]),

        // Bench/ (DESIGN §3): LoadGen drives the broker or the Baseline over loopback; Baseline is
        // HTTP POST → XADD → push on the same lws + async-hiredis stack.
        .executableTarget(name: "LoadGen",
                          dependencies: [
                              "CLibWebSockets", "SwitchboardLoop", "SwitchboardRedis", "SwitchboardCrypto", "TwilioSupport", "SMSChannel", "WeChatChannel",
                              .product(name: "Histogram", package: "hdrhistogram-swift"),
                          ],
                          path: "Bench/LoadGen"),
        .executableTarget(name: "Baseline", dependencies: ["CLibWebSockets", "SwitchboardLoop", "SwitchboardRedis"],
                          path: "Bench/Baseline"),

        .testTarget(name: "SwitchboardCoreTests", dependencies: ["SwitchboardCore"]),
        .testTarget(name: "ChannelTests", dependencies: ["SwitchboardCore", "SwitchboardCrypto", "TwilioSupport", "SMSChannel", "WebChatChannel", "WeChatChannel", "EmailChannel",
                                                         "VoiceChannel"],
                    resources: [.copy("Fixtures")]),
        // A throwaway redis-server per test case, shared by the integration tiers.
        .target(name: "SwitchboardTestSupport", dependencies: ["SwitchboardRedis"], path: "Tests/Support"),
        .testTarget(name: "SwitchboardRedisTests", dependencies: ["SwitchboardRedis", "SwitchboardCore", "CHiredis", "SwitchboardTestSupport"]),
        .testTarget(name: "SwitchboardLoopTests", dependencies: ["SwitchboardLoop", "CLibWebSockets"]),
        .testTarget(name: "ServerTests", dependencies: ["SwitchboardServer", "SwitchboardCore", "SwitchboardRedis", "SwitchboardLoop",
                                                       "SwitchboardTestSupport", .product(name: "Logging", package: "swift-log")]),
    ],
    swiftLanguageModes: [.v6]
)
