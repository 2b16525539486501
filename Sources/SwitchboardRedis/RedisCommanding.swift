/// The narrow seam between the Store/Router and a Redis connection.
///
/// Semantics:
/// - **Ordering.** Replies arrive in the order commands were sent (one connection, RESP pipelining).
/// - **Delivery.** `completion` is called exactly once: with the reply (which may be `.error`), or
///   with `.unavailable` when the connection is down or drops before the reply arrives. Nothing is
///   queued while disconnected: a caller that must not lose data gets an immediate error and tells
///   its own client to retry (HTTP 503), rather than holding the request.
/// - **Thread.** Loop thread only for the async client (completion on the loop thread); the blocking
///   client used by tests and the CLI calls `completion` before `send` returns.
public protocol RedisCommanding: AnyObject {
    func send(_ args: [String], completion: @escaping (Result<RedisReply, RedisError>) -> Void)
    /// The same for arguments that are bytes, not text (media blobs), sent unchanged.
    func send(bytes args: [[UInt8]], completion: @escaping (Result<RedisReply, RedisError>) -> Void)
}

extension RedisCommanding {
    /// Fire-and-forget, for commands whose failure is harmless (heartbeats are rewritten each tick).
    public func send(_ args: [String]) {
        send(args) { _ in }
    }
}
