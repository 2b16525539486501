import CLibWebSockets

/// A server-side WebSocket with a bounded send queue and coalesced writes (DESIGN §9, §11, §12).
///
/// - Events are queued as encoded JSON bytes. Each `SERVER_WRITEABLE` drains the queue into ONE
///   text frame with events separated by `\n` (measured: one frame per event costs ~5–7 µs of CPU
///   per delivery; batching is ~20× cheaper).
/// - Past `maxQueueBytes` the peer is too slow: the socket is closed with 1008 (policy violation)
///   and nothing else on the loop waits for it. A peer that reads nothing at all never lets lws
///   flush its buffered output, so the close frame cannot go out: such a socket is dropped
///   `closeDeadline` seconds after the close was decided (else it would linger half-dead, its
///   agent still "connected" and offered conversations it never sees).
/// - Incoming messages are reassembled from fragments up to `maxMessageBytes` (else 1009).
///   Invalid UTF-8 in text frames is rejected by lws itself (`LWS_SERVER_OPTION_VALIDATE_UTF8`,
///   close 1007).
///
/// Loop thread only.
class WebSocketSession: LoopConnection {
    let maxQueueBytes: Int
    let maxMessageBytes: Int
    let remoteAddress: String
    private var queue: [[UInt8]] = []
    private var queuedBytes = 0
    private var rx: [UInt8] = []
    private var pendingClose: (code: CloseCode, reason: String)?
    private(set) var isClosing = false
    /// Called once when the send queue overflowed, just before the 1008 close (for the log).
    var onOverflow: ((WebSocketSession) -> Void)?

    /// Seconds a closing socket may take to flush before it is dropped without a close frame.
    static let closeDeadline: Int32 = 5

    /// Largest frame one writable callback produces; the rest waits for the next callback so a
    /// huge backlog does not become one huge allocation.
    static let maxFrameBytes = 256 << 10

    init(wsi: OpaquePointer, maxQueueBytes: Int, maxMessageBytes: Int) {
        self.maxQueueBytes = maxQueueBytes
        self.maxMessageBytes = maxMessageBytes
        self.remoteAddress = LoopConnection.peerAddress(wsi)
        super.init(wsi: wsi)
    }

    // MARK: to override

    /// One complete text message from the peer.
    func received(_ message: [UInt8]) {}
    /// The socket is gone (after `LWS_CALLBACK_CLOSED`).
    func closed() {}
    /// The send queue was written out completely (a producer holding more, such as a resume
    /// replay, may queue its next part).
    func sendQueueDrained() {}

    /// Bytes queued and not yet handed to lws.
    var queuedByteCount: Int { queuedBytes }

    // MARK: sending

    /// Queues one encoded event. Returns false (and starts closing with 1008) when the peer is
    /// too slow to keep the queue under its bound.
    @discardableResult
    func enqueue(_ event: [UInt8]) -> Bool {
        guard let wsi, !isClosing else { return false }
        if queuedBytes + event.count > maxQueueBytes {
            onOverflow?(self)
            close(code: .policyViolation, reason: "send queue full")
            return false
        }
        queue.append(event)
        queuedBytes += event.count
        lws_callback_on_writable(wsi)
        return true
    }

    func enqueue(_ text: String) {
        enqueue(Array(text.utf8))
    }

    /// Closes with `code` from the next writable callback (lws only closes from inside a callback
    /// for this connection, by returning -1 there).
    func close(code: CloseCode, reason: String) {
        guard let wsi, !isClosing else { return }
        isClosing = true
        pendingClose = (code, reason)
        queue.removeAll()
        queuedBytes = 0
        lws_callback_on_writable(wsi)
        lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, Self.closeDeadline)
    }

    /// From `LWS_CALLBACK_SERVER_WRITEABLE`. Returns -1 to close.
    func writable() -> Int32 {
        guard let wsi else { return -1 }
        if let close = pendingClose {
            var reason = Array(close.reason.utf8.prefix(120))
            lws_close_reason(wsi, close.code.lws, &reason, reason.count)
            return -1
        }
        guard !queue.isEmpty else { return 0 }
        let pre = sb_lws_pre()
        var frame = [UInt8]()
        frame.reserveCapacity(pre + min(queuedBytes + queue.count, Self.maxFrameBytes))
        frame.append(contentsOf: repeatElement(0, count: pre))
        var taken = 0
        for event in queue {
            if taken > 0 && frame.count - pre + 1 + event.count > Self.maxFrameBytes { break }
            if taken > 0 { frame.append(UInt8(ascii: "\n")) }
            frame.append(contentsOf: event)
            taken += 1
        }
        let bytes = queue[..<taken].reduce(0) { $0 + $1.count }
        queue.removeFirst(taken)
        queuedBytes -= bytes
        let length = frame.count - pre
        let written = frame.withUnsafeMutableBufferPointer { buf in
            lws_write(wsi, buf.baseAddress! + pre, length, LWS_WRITE_TEXT)
        }
        if written < length { return -1 }
        if queue.isEmpty {
            sendQueueDrained()
        } else {
            lws_callback_on_writable(wsi)
        }
        return 0
    }

    // MARK: receiving

    /// From `LWS_CALLBACK_RECEIVE`. Returns -1 to close.
    func receive(_ input: UnsafeRawBufferPointer) -> Int32 {
        guard let wsi, !isClosing else { return isClosing ? 0 : -1 }
        if lws_is_first_fragment(wsi) != 0 {
            rx.removeAll(keepingCapacity: true)
        }
        // The frame header announces the frame's length (`lws_remaining_packet_payload` is what is
        // still to come): a message that cannot fit is closed at its first bytes, not after all of
        // them. A header announcing 2^63 bytes held the socket open for as long as the client
        // kept trickling (hostile-input tier, issue 9).
        if rx.count + input.count + Int(clamping: lws_remaining_packet_payload(wsi)) > maxMessageBytes {
            rx.removeAll()
            close(code: .messageTooLarge, reason: "message larger than \(maxMessageBytes) bytes")
            return 0
        }
        rx.append(contentsOf: input)
        guard lws_is_final_fragment(wsi) != 0, lws_remaining_packet_payload(wsi) == 0 else { return 0 }
        if lws_frame_is_binary(wsi) != 0 {
            close(code: .unacceptableData, reason: "binary frames are not part of the protocol")
            return 0
        }
        let message = rx
        rx.removeAll(keepingCapacity: true)
        received(message)
        return 0
    }
}
