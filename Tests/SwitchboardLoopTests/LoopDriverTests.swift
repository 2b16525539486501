import CLibWebSockets
import Glibc
import XCTest
import SwitchboardLoop

/// The loop a context runs on, and LoopTimer on each kind (docs/architecture.md §5.3).
final class LoopDriverTests: XCTestCase {
    private func makeDriver(poll: Bool) throws -> LoopDriver {
        if poll { setenv("SWITCHBOARD_EVENT_LOOP", "poll", 1) } else { unsetenv("SWITCHBOARD_EVENT_LOOP") }
        defer { unsetenv("SWITCHBOARD_EVENT_LOOP") }
        var info = lws_context_creation_info()
        info.port = -1   // CONTEXT_PORT_NO_LISTEN
        info.count_threads = 1
        return try XCTUnwrap(LoopDriver(&info))
    }

    /// Timers fire in deadline order whichever was scheduled first, a rescheduled timer fires
    /// once at its new time, and a cancelled one never does. Counted in loop turns, not timed.
    private func checkTimers(_ driver: LoopDriver) {
        var fired: [String] = []
        let late = LoopTimer(context: driver.context)
        let soon = LoopTimer(context: driver.context)
        let now = LoopTimer(context: driver.context)
        let cancelled = LoopTimer(context: driver.context)
        late.schedule(after: 0.2) { fired.append("late") }
        soon.schedule(after: 5) { fired.append("soon-old") }
        soon.schedule(after: 0.05) { fired.append("soon") }   // earlier than `late`: replaces
        now.schedule(after: 0) { fired.append("now") }
        cancelled.schedule(after: 0.01) { fired.append("cancelled") }
        cancelled.cancel()
        // lws' poll(2) turn services ripe timers and then sleeps until the next one (or 30 s):
        // a ticker keeps the turn that fires the last timer from sleeping long.
        let tick = RepeatingLoopTimer(context: driver.context, interval: 0.01) {}
        tick.start()
        defer { tick.stop() }
        var turns = 0
        while fired.count < 3 && turns < 10_000 {
            XCTAssertTrue(driver.turn())
            turns += 1
        }
        XCTAssertEqual(fired, ["now", "soon", "late"])
    }

    func testEpollLoopRunsTimersInOrder() throws {
        let driver = try makeDriver(poll: false)
        defer { driver.destroy() }
        XCTAssertTrue(driver.usesEpoll, "libwebsockets-evlib-ev is installed by make; without it the broker falls back to poll")
        XCTAssertNotNil(LoopDriver.evLoop(of: driver.context))
        checkTimers(driver)
    }

    func testPollLoopCanBeForcedAndRunsTimersInOrder() throws {
        let driver = try makeDriver(poll: true)
        defer { driver.destroy() }
        XCTAssertFalse(driver.usesEpoll)
        XCTAssertNil(LoopDriver.evLoop(of: driver.context))
        checkTimers(driver)
    }
}
