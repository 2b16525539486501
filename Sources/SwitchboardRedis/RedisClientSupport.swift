import CHiredis

/// Conversions shared by the blocking and the async hiredis clients.
enum RedisClientSupport {
    /// Calls `body` with hiredis' argc/argv/argvlen view of `args` (binary-safe lengths). Every
    /// argument is copied once into one buffer (hiredis copies them again into its command), so a
    /// command costs one allocation for its bytes instead of one per argument.
    static func withArgv<R>(_ args: [String], _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R) -> R {
        var total = 0
        for arg in args { total += arg.utf8.count }
        let storage = UnsafeMutableRawPointer.allocate(byteCount: max(total, 1), alignment: 1)
        defer { storage.deallocate() }
        var argv: [UnsafePointer<CChar>?] = []
        var lengths: [Int] = []
        argv.reserveCapacity(args.count)
        lengths.reserveCapacity(args.count)
        var offset = 0
        for var arg in args {
            let n = arg.withUTF8 { src -> Int in
                if let base = src.baseAddress, src.count > 0 { (storage + offset).copyMemory(from: base, byteCount: src.count) }
                return src.count
            }
            argv.append(UnsafePointer((storage + offset).assumingMemoryBound(to: CChar.self)))
            lengths.append(n)
            offset += n
        }
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
