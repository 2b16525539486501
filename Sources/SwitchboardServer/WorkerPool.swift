import Foundation
import Synchronization

/// A small pool of threads for blocking or CPU-heavy work (DNS lookups, later MIME and SMTP),
/// with results posted back to the loop (DESIGN §4).
///
/// Semantics: `submit` runs `work` on some worker thread; its result is queued under a ticket and
/// the loop is woken with `lws_cancel_service` (through `wake`). `drainCompleted()`, called on the
/// loop from `EVENT_WAIT_CANCELLED`, runs each ticket's continuation on the loop thread, in
/// completion order. Continuations stay on the loop side (they may touch loop state and need not
/// be Sendable); only results cross threads.
///
/// `submit` and `drainCompleted` are loop thread only; workers touch only the locked queues.
final class WorkerPool {
    private let shared: Shared
    private var continuations: [Int: (any Sendable) -> Void] = [:]
    private var nextTicket = 0
    private var threads: [Thread] = []

    /// Locked state shared with the worker threads.
    private final class Shared: Sendable {
        let jobs = Mutex<[(Int, @Sendable () -> any Sendable)]>([])
        let done = Mutex<[(Int, any Sendable)]>([])
        let signal = DispatchSemaphore(value: 0)
        let stopping = Atomic<Bool>(false)
        let wake: @Sendable () -> Void
        init(wake: @escaping @Sendable () -> Void) { self.wake = wake }
    }

    init(threads count: Int, wake: @escaping @Sendable () -> Void) {
        shared = Shared(wake: wake)
        for i in 0..<max(1, count) {
            let shared = self.shared
            let thread = Thread {
                while true {
                    shared.signal.wait()
                    if shared.stopping.load(ordering: .acquiring) { return }
                    guard let (ticket, work) = shared.jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
                    let result = work()
                    shared.done.withLock { $0.append((ticket, result)) }
                    shared.wake()
                }
            }
            thread.name = "switchboard-worker-\(i)"
            thread.start()
            threads.append(thread)
        }
    }

    /// Runs `work` off the loop and `then` with its result back on the loop.
    func submit<R: Sendable>(_ work: @escaping @Sendable () -> R, then: @escaping (R) -> Void) {
        nextTicket += 1
        let ticket = nextTicket
        continuations[ticket] = { any in
            if let r = any as? R { then(r) }
        }
        shared.jobs.withLock { $0.append((ticket, { work() })) }
        shared.signal.signal()
    }

    /// Loop thread: runs the continuations of finished work.
    func drainCompleted() {
        let finished = shared.done.withLock { done -> [(Int, any Sendable)] in
            let out = done
            done.removeAll()
            return out
        }
        for (ticket, result) in finished {
            continuations.removeValue(forKey: ticket)?(result)
        }
    }

    func shutdown() {
        shared.stopping.store(true, ordering: .releasing)
        for _ in threads { shared.signal.signal() }
    }
}
