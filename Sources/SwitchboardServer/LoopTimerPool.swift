import SwitchboardLoop

/// One-shot delays for flows that may wait on several things at once (a token another node is
/// fetching, for every delivery that needs it): each `schedule` gets a `LoopTimer` of its own,
/// kept alive until it fires. Loop thread only; cancelled with the pool.
final class LoopTimerPool {
    private let context: OpaquePointer
    private var pending: [Int: LoopTimer] = [:]
    private var next = 0

    init(context: OpaquePointer) {
        self.context = context
    }

    func schedule(_ seconds: Double, _ action: @escaping () -> Void) {
        let id = next
        next += 1
        let timer = LoopTimer(context: context)
        pending[id] = timer
        timer.schedule(after: seconds) { [weak self] in
            self?.pending[id] = nil
            action()
        }
    }
}
