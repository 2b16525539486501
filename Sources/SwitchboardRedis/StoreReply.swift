/// Reading the RESP arrays the store scripts answer with (the hot-path scripts return arrays, not
/// JSON, so neither side spends a JSON encode/decode on the envelope: DESIGN §12).
struct StoreReply {
    let items: [RedisReply]

    init?(_ reply: RedisReply, count: Int) {
        guard let items = reply.array, items.count >= count else { return nil }
        self.items = items
    }

    /// Element `i` as text; nil (Lua `false`) and missing elements read as "".
    func string(_ i: Int) -> String {
        i < items.count ? (items[i].string ?? "") : ""
    }

    func int(_ i: Int) -> Int64 {
        i < items.count ? (items[i].int ?? 0) : 0
    }

    func bool(_ i: Int) -> Bool { int(i) != 0 }

    /// Element `i` as text, or nil when it is empty.
    func nonEmpty(_ i: Int) -> String? {
        let s = string(i)
        return s.isEmpty ? nil : s
    }
}

extension RedisReply {
    /// An array of bulk strings (script answers like history and replay); nil for another shape.
    var strings: [String]? {
        guard let a = array else { return nil }
        var out: [String] = []
        out.reserveCapacity(a.count)
        for item in a {
            guard let s = item.string else { return nil }
            out.append(s)
        }
        return out
    }
}
