import Synchronization

/// A flag set from a signal-handling thread and read by the loop (DESIGN §5: Atomic for signal flags).
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .releasing) }
    var isSet: Bool { flag.load(ordering: .acquiring) }
}
