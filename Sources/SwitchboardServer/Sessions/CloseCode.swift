import CLibWebSockets

/// Every WebSocket close code the broker sends, in one place (RFC 6455 §7.4.1; 1012 from the IANA
/// registry; 4xxx are the application's own, DESIGN §9), mapped to lws' type in one function.
enum CloseCode: UInt32 {
    /// 1001: the node is going away (a visitor reconnects and gets its history on `hello`).
    case goingAway = 1001
    /// 1002: protocol error: a close frame whose payload is 1 byte, or whose code may not be sent
    /// (RFC 6455 §7.4; answered from `EventLoopServer`).
    case protocolError = 1002
    /// 1003: a frame type the protocol does not use (binary).
    case unacceptableData = 1003
    /// 1008: policy violation (a socket whose send queue is full, commands flooding before welcome).
    case policyViolation = 1008
    /// 1009: a message larger than `limits.max_ws_message_bytes`.
    case messageTooLarge = 1009
    /// 1012: service restart: the console resumes on a node that is ready.
    case serviceRestart = 1012
    /// 4401: not authenticated (no agent `auth`, or no visitor `hello`, within
    /// `limits.auth_timeout`; or a bad token).
    case unauthenticated = 4401

    var lws: lws_close_status { lws_close_status(rawValue: rawValue) }

    /// Whether a received close frame's payload is one RFC 6455 allows: empty, or a status code an
    /// endpoint may send (§7.4.1, §7.4.2: 1000–1003, 1007–1011 and 3000–4999; lws 4.1 itself
    /// rewrites 1012–1015 to 1002, so they count as invalid here too) followed by UTF-8 (§5.5.1).
    static func isValidClosePayload(_ payload: UnsafeRawBufferPointer) -> Bool {
        if payload.isEmpty { return true }
        guard payload.count >= 2 else { return false }
        let code = Int(payload[0]) << 8 | Int(payload[1])
        guard (1000...1003).contains(code) || (1007...1011).contains(code) || (3000...4999).contains(code) else { return false }
        return String(validating: payload[2...], as: UTF8.self) != nil
    }
}
