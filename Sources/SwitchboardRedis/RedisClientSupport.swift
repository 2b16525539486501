import CHiredis

/// Conversions shared by the blocking and the async hiredis clients.
enum RedisClientSupport {
    /// Calls `body` with hiredis' argc/argv/argvlen view of `args` (binary-safe lengths).
    static func withArgv<R>(_ args: [String], _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R) -> R {
        var buffers: [UnsafeMutablePointer<CChar>] = []
        var lengths: [Int] = []
        buffers.reserveCapacity(args.count)
        lengths.reserveCapacity(args.count)
        for arg in args {
            var utf8 = Array(arg.utf8)
            let n = utf8.count
            let p = UnsafeMutablePointer<CChar>.allocate(capacity: max(n, 1))
            utf8.withUnsafeMutableBytes { raw in
                if n > 0 { p.withMemoryRebound(to: UInt8.self, capacity: n) { $0.update(from: raw.bindMemory(to: UInt8.self).baseAddress!, count: n) } }
            }
            buffers.append(p)
            lengths.append(n)
        }
        defer { buffers.forEach { $0.deallocate() } }
        var argv: [UnsafePointer<CChar>?] = buffers.map { UnsafePointer($0) }
        return argv.withUnsafeMutableBufferPointer { av in
            lengths.withUnsafeBufferPointer { lens in
                body(Int32(args.count), av.baseAddress!, lens.baseAddress!)
            }
        }
    }

    static func convert(_ r: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let reply = r.pointee
        switch reply.type {
        case REDIS_REPLY_STRING:
            return .bulk(bytes(reply.str, reply.len))
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: bytes(reply.str, reply.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: bytes(reply.str, reply.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(reply.integer)
        case REDIS_REPLY_ARRAY:
            var items: [RedisReply] = []
            items.reserveCapacity(Int(reply.elements))
            for i in 0..<Int(reply.elements) {
                if let child = reply.element[i] { items.append(convert(child)) } else { items.append(.null) }
            }
            return .array(items)
        default:
            return .null
        }
    }

    static func bytes(_ p: UnsafeMutablePointer<CChar>?, _ len: Int) -> [UInt8] {
        guard let p, len > 0 else { return [] }
        return p.withMemoryRebound(to: UInt8.self, capacity: len) { Array(UnsafeBufferPointer(start: $0, count: len)) }
    }

    static func errorString(_ c: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: c.pointee.errstr) { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            let end = bytes.firstIndex(of: 0) ?? bytes.count
            return String(decoding: bytes[..<end], as: UTF8.self)
        }
    }
}
