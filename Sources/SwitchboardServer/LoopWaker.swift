import CLibWebSockets

/// Wakes the loop from another thread. `@unchecked Sendable` because its only operation,
/// `lws_cancel_service`, is the one lws call that is safe from any thread (DESIGN §5).
final class LoopWaker: @unchecked Sendable {
    private let context: OpaquePointer

    init(context: OpaquePointer) {
        self.context = context
    }

    func wake() {
        lws_cancel_service(context)
    }
}
