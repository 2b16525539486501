import CHiredis

/// A synchronous hiredis connection for tests and CLI commands, never for the loop.
///
/// Conforms to `RedisCommanding` by calling `completion` before `send` returns, so Router and
/// Store code runs unchanged against it. Not thread-safe: one thread at a time.
public final class RedisBlockingConnection: RedisCommanding {
    private var context: UnsafeMutablePointer<redisContext>?

    public init(host: String, port: Int) throws {
        guard let c = redisConnect(host, Int32(port)) else { throw RedisError.unavailable("out of memory") }
        if c.pointee.err != 0 {
            let message = RedisClientSupport.errorString(c)
            redisFree(c)
            throw RedisError.unavailable(message)
        }
        context = c
    }

    public init(unixSocket path: String) throws {
        guard let c = redisConnectUnix(path) else { throw RedisError.unavailable("out of memory") }
        if c.pointee.err != 0 {
            let message = RedisClientSupport.errorString(c)
            redisFree(c)
            throw RedisError.unavailable(message)
        }
        context = c
    }

    deinit {
        if let c = context { redisFree(c) }
    }

    public func send(_ args: [String], completion: @escaping (Result<RedisReply, RedisError>) -> Void) {
        completion(command(args))
    }

    public func send(bytes args: [[UInt8]], completion: @escaping (Result<RedisReply, RedisError>) -> Void) {
        completion(formatted(RedisClientSupport.resp(bytes: args)))
    }

    /// Runs one command and returns its reply.
    public func command(_ args: [String]) -> Result<RedisReply, RedisError> {
        // The same RESP encoding as the async client (RedisClientSupport.resp), then one reply.
        formatted(RedisClientSupport.resp(args))
    }

    private func formatted(_ command: [UInt8]) -> Result<RedisReply, RedisError> {
        guard let c = context else { return .failure(.unavailable("connection closed")) }
        let appended = command.withUnsafeBufferPointer { buf in
            buf.withMemoryRebound(to: CChar.self) { redisAppendFormattedCommand(c, $0.baseAddress, $0.count) }
        }
        var raw: UnsafeMutableRawPointer?
        guard appended == REDIS_OK, redisGetReply(c, &raw) == REDIS_OK, let reply = raw else {
            return .failure(.unavailable(RedisClientSupport.errorString(c)))
        }
        defer { freeReplyObject(reply) }
        return .success(RedisClientSupport.convert(reply.assumingMemoryBound(to: redisReply.self)))
    }

    /// Convenience for tests: the reply, or a trap with the error.
    @discardableResult
    public func run(_ args: String...) -> RedisReply {
        switch command(args) {
        case .success(let r): return r
        case .failure(let e): preconditionFailure("redis \(args.first ?? ""): \(e)")
        }
    }
}
