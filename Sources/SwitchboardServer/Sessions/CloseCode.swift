import CLibWebSockets

/// Every WebSocket close code the broker sends, in one place (RFC 6455 §7.4.1; 1012 from the IANA
/// registry; 4xxx are the application's own, DESIGN §9), mapped to lws' type in one function.
enum CloseCode: UInt32 {
    /// 1001: the node is going away (a visitor reconnects and gets its history on `hello`).
    case goingAway = 1001
    /// 1003: a frame type the protocol does not use (binary).
    case unacceptableData = 1003
    /// 1008: policy violation (a socket whose send queue is full, commands flooding before welcome).
    case policyViolation = 1008
    /// 1009: a message larger than `limits.max_ws_message_bytes`.
    case messageTooLarge = 1009
    /// 1012: service restart: the console resumes on a node that is ready.
    case serviceRestart = 1012
    /// 4401: not authenticated (no `auth` within `limits.auth_timeout`, or a bad token).
    case unauthenticated = 4401

    var lws: lws_close_status { lws_close_status(rawValue: rawValue) }
}
