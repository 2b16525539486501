import Foundation
import SwitchboardCore

/// Retry delays for outbox deliveries (DESIGN §11: exponential backoff with a cap).
public enum OutboxBackoff {
    /// The wait before the attempt after `attempt` (1-based) failed:
    /// `initialBackoff · 2^(attempt−1)`, capped at `maxBackoff`, in milliseconds.
    /// Pure and without jitter, so every node agrees and tests need no clock.
    public static func delayMs(afterAttempt attempt: Int, settings: OutboxSettings) -> Int64 {
        // Past 2^62 the cap applies anyway; bounding the exponent keeps the Double finite.
        let exponent = Double(min(max(0, attempt - 1), 62))
        let seconds = min(settings.maxBackoff, settings.initialBackoff * pow(2, exponent))
        return Int64((max(0, seconds) * 1000).rounded())
    }
}
