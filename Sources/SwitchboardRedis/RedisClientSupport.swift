import CHiredis

/// Conversions shared by the blocking and the async hiredis clients.
enum RedisClientSupport {
    /// `args` as one RESP array of bulk strings (RESP2, "Sending commands to a Redis server"),
    /// for `redisAsyncFormattedCommand` and `redisAppendFormattedCommand` (both clients use it).
    /// hiredis' own argv formatting (`sdscatfmt` per argument) cost ~11k instructions per FCALL on
    /// the hot path (callgrind); this is one pass into one buffer.
    static func resp(_ args: [String]) -> [UInt8] {
        // Upper bound: per argument its bytes plus `$`, ≤ 20 digits and two CRLFs.
        var size = 24
        for arg in args { size += arg.utf8.count + 25 }
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            let out = buffer.baseAddress!
            var at = writeHeader(UInt8(ascii: "*"), args.count, to: out)
            for var arg in args {
                at += arg.withUTF8 { bytes -> Int in
                    var n = writeHeader(UInt8(ascii: "$"), bytes.count, to: out + at)
                    if let base = bytes.baseAddress, !bytes.isEmpty { (out + at + n).update(from: base, count: bytes.count) }
                    n += bytes.count
                    out[at + n] = 13
                    out[at + n + 1] = 10
                    return n + 2
                }
            }
            count = at
        }
    }

    /// Binary-safe arguments (media blobs) as one RESP array: the same framing as `resp(_:)`.
    static func resp(bytes args: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(24 + args.reduce(0) { $0 + $1.count + 25 })
        out.append(contentsOf: Array("*\(args.count)\r\n".utf8))
        for arg in args {
            out.append(contentsOf: Array("$\(arg.count)\r\n".utf8))
            out.append(contentsOf: arg)
            out.append(contentsOf: [13, 10])
        }
        return out
    }

    /// Writes `<type><decimal>\r\n` (e.g. `$12\r\n`) at `out`; returns the bytes written.
    @inline(__always)
    private static func writeHeader(_ type: UInt8, _ value: Int, to out: UnsafeMutablePointer<UInt8>) -> Int {
        out[0] = type
        var digits = 1
        var rest = value / 10
        while rest > 0 { digits += 1; rest /= 10 }
        rest = value
        for i in stride(from: digits, to: 0, by: -1) {
            out[i] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
        }
        out[digits + 1] = 13
        out[digits + 2] = 10
        return digits + 3
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
