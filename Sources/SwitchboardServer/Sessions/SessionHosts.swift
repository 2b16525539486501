import Logging
import SwitchboardCore
import SwitchboardRedis
import WebChatChannel

/// What every WebSocket session may reach of its node: nothing more (DESIGN §4: loop thread
/// only). `Broker` is the one implementation; tests may provide another.
protocol SessionHost: AnyObject {
    var configuration: Configuration { get }
    var nodeId: String { get }
    var store: Store! { get }
    var router: Router! { get }
    var sessions: SessionRegistry { get }
    var logger: Logger { get }
    /// The lws context, for the sessions' timers (LoopTimer).
    var loopContext: OpaquePointer? { get }
    /// Milliseconds since the epoch: the clock every script call is given (DESIGN §7).
    func now() -> Int64
}

/// What an agent console's session may reach besides.
protocol AgentSessionHost: SessionHost {
    var metrics: BrokerMetrics { get }
    var isReady: Bool { get }
    /// Stores a reply and starts its delivery (`ReplySender`).
    func send(_ request: SendRequest, completion: @escaping (Result<SendOutcome, StoreError>) -> Void)
    /// Delivers what the outbox holds now rather than at its next poll (a call's bridge, queued
    /// with the acceptance: the caller is waiting on the line).
    func deliverSoon()
}

/// What a web visitor's session may reach besides.
protocol VisitorSessionHost: SessionHost {
    var visitorTokens: VisitorToken { get }
    var isShuttingDown: Bool { get }
    /// Stores the visitor's message like a webhook's (`IngestPipeline`).
    func ingest(channel: ChannelConfig, message: InboundMessage, visitorNode: String?,
                completion: @escaping (Result<IngestOutcome, StoreError>) -> Void)
}

extension SessionHost {
    /// A store failure as a WebSocket `error` frame: an internal error's text goes to the log, the
    /// client gets a generic message with the incident id (`ClientFacingError`, issue 9).
    func errorFrame(ref: WireRef?, _ error: StoreError, prefix: String = "", during context: @autoclosure () -> String) -> String {
        let e = ClientFacingError(error, logger: logger, during: context())
        return WireEvent.error(ref: ref, code: e.code, message: prefix + e.message, incident: e.incident)
    }
}
