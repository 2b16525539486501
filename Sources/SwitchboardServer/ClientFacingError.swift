import Logging
import Synchronization
import SwitchboardCrypto
import SwitchboardRedis

/// A store failure as a client may see it (issue 9): the code and message of a coded script error,
/// but never the text of an internal one. Redis's own errors and uncoded script errors name keys,
/// scripts and library internals; a client gets a generic message and an incident id, and the
/// log line with the detail carries the same id. Used by `HTTPResponder` (REST, webhooks, media)
/// and by the WebSocket sessions' `error` frames.
struct ClientFacingError {
    let status: Int
    let code: String
    let message: String
    /// Set for internal errors only: the id of the log line that has the detail.
    let incident: String?

    static let genericMessage = "internal error; the broker log has the detail under this incident id"

    init(_ error: StoreError, logger: Logger, during context: @autoclosure () -> String) {
        guard case .internal(let detail) = error else {
            self.init(status: error.httpStatus, code: error.code, message: error.message, incident: nil)
            return
        }
        let incident = Self.newIncidentId()
        logger.error("internal error", metadata: ["incident": "\(incident)", "during": "\(context())", "detail": "\(detail)"])
        self.init(status: 500, code: "internal", message: Self.genericMessage, incident: incident)
    }

    private init(status: Int, code: String, message: String, incident: String?) {
        self.status = status
        self.code = code
        self.message = message
        self.incident = incident
    }

    /// 12 hex digits, random; a process-wide counter if the kernel has no randomness to give.
    private static func newIncidentId() -> String {
        if let bytes = try? SecureRandom.bytes(6) { return Hex.encode(bytes) }
        return "local-\(fallbackCounter.withLock { $0 += 1; return $0 })"
    }
    private static let fallbackCounter = Mutex(0)
}
