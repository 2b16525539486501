import CLibWebSockets

/// A one-shot timer on the lws loop, built on `lws_sul_schedule` (DESIGN §5, Timers), or on an
/// `ev_timer` when the context runs on a libev loop (`LoopDriver`; shim.h says why).
///
/// The C callback reaches Swift through the `owner` pointer of the `sb_sul_t` that embeds the
/// `lws_sorted_usec_list_t`. Rescheduling replaces a pending firing. Loop thread only; the timer
/// must not outlive the context, and `deinit` cancels a pending firing.
public final class LoopTimer {
    private let context: OpaquePointer
    private let evLoop: UnsafeMutableRawPointer?
    private let sul: UnsafeMutablePointer<sb_sul_t>
    private var action: (() -> Void)?
    public private(set) var isScheduled = false

    public init(context: OpaquePointer) {
        self.context = context
        evLoop = LoopDriver.evLoop(of: context)
        sul = UnsafeMutablePointer<sb_sul_t>.allocate(capacity: 1)
        sul.initialize(to: sb_sul_t())
        sul.pointee.owner = Unmanaged.passUnretained(self).toOpaque()
    }

    deinit {
        cancel()
        sul.deallocate()
    }

    /// Runs `action` once, `seconds` from now (0: on the next loop turn).
    public func schedule(after seconds: Double, _ action: @escaping () -> Void) {
        self.action = action
        isScheduled = true
        if let evLoop {
            sb_ev_timer_schedule(sul, evLoop, max(0, seconds)) { item in
                guard let item, let owner = item.pointee.owner else { return }
                Unmanaged<LoopTimer>.fromOpaque(owner).takeUnretainedValue().fire()
            }
            return
        }
        let usecs = lws_usec_t(max(0, seconds) * 1_000_000)
        withUnsafeMutablePointer(to: &sul.pointee.sul) { listItem in
            lws_sul_schedule(context, 0, listItem, { item in
                guard let item, let owner = sb_sul_from(item).pointee.owner else { return }
                let timer = Unmanaged<LoopTimer>.fromOpaque(owner).takeUnretainedValue()
                timer.fire()
            }, usecs)
        }
    }

    public func cancel() {
        guard isScheduled else { return }
        isScheduled = false
        if let evLoop {
            // A timer that outlives its loop (released after LoopDriver.destroy) has nothing to stop.
            if LoopDriver.evLoop(of: context) == evLoop { sb_ev_timer_cancel(sul) }
            return
        }
        withUnsafeMutablePointer(to: &sul.pointee.sul) { lws_sul_cancel($0) }
    }

    private func fire() {
        isScheduled = false
        action?()
    }
}

/// A timer that fires every `interval` until stopped.
public final class RepeatingLoopTimer {
    private let timer: LoopTimer
    private let interval: Double
    private let action: () -> Void
    private var running = false

    public init(context: OpaquePointer, interval: Double, action: @escaping () -> Void) {
        timer = LoopTimer(context: context)
        self.interval = interval
        self.action = action
    }

    public func start() {
        guard !running else { return }
        running = true
        arm()
    }

    public func stop() {
        running = false
        timer.cancel()
    }

    private func arm() {
        timer.schedule(after: interval) { [weak self] in
            guard let self, self.running else { return }
            self.action()
            if self.running { self.arm() }
        }
    }
}
