import CLibWebSockets

/// Swift state attached to one lws connection through its opaque user pointer
/// (`lws_set_opaque_user_data`), retained while attached and released when lws reports the
/// connection closed. Subclasses: `HTTPExchange`, `WebSocketSession`, `HTTPClientRequest`.
///
/// Loop thread only. `wsi` is cleared on close: a late asynchronous completion (a Redis reply
/// for a client that already went away) then finds `nil` and does nothing.
class LoopConnection {
    var wsi: OpaquePointer?

    init(wsi: OpaquePointer?) {
        self.wsi = wsi
    }

    /// Attaches `self` to `wsi`, retaining it until `detach(from:)`.
    func attach(to wsi: OpaquePointer) {
        self.wsi = wsi
        lws_set_opaque_user_data(wsi, Unmanaged.passRetained(self).toOpaque())
    }

    /// Reads the connection attached to `wsi`, if any.
    static func attached(to wsi: OpaquePointer?) -> LoopConnection? {
        guard let wsi, let p = lws_get_opaque_user_data(wsi) else { return nil }
        return Unmanaged<LoopConnection>.fromOpaque(p).takeUnretainedValue()
    }

    /// Detaches and releases the connection attached to `wsi`.
    static func detach(from wsi: OpaquePointer?) {
        guard let wsi, let p = lws_get_opaque_user_data(wsi) else { return }
        lws_set_opaque_user_data(wsi, nil)
        let connection = Unmanaged<LoopConnection>.fromOpaque(p)
        connection.takeUnretainedValue().wsi = nil
        connection.release()
    }

    /// The peer's IP address without reverse DNS.
    static func peerAddress(_ wsi: OpaquePointer) -> String {
        var buf = [CChar](repeating: 0, count: 64)
        guard lws_get_peer_simple(wsi, &buf, buf.count) != nil else { return "" }
        return String(cBuffer: buf)
    }
}

extension String {
    /// Decodes a NUL-terminated C buffer (repairing invalid UTF-8).
    init(cBuffer buf: [CChar]) {
        let end = buf.firstIndex(of: 0) ?? buf.count
        self = buf.withUnsafeBytes { String(decoding: $0[..<end], as: UTF8.self) }
    }
}
