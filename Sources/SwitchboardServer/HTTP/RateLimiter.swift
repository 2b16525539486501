/// Per-IP token buckets for the public endpoints (visitor WebSocket, unsigned webhooks): DESIGN §11.
///
/// `allow` refills a bucket by elapsed time × rate up to `burst` and takes one token. Buckets idle
/// long enough to be full again are dropped by `prune`, so memory stays bounded by the number of
/// recently active addresses. Loop thread only; the clock is passed in.
final class RateLimiter {
    let rate: Double
    let burst: Double
    private var buckets: [String: (tokens: Double, at: Double)] = [:]

    init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = max(1, burst)
    }

    func allow(_ key: String, now: Double) -> Bool {
        var bucket = buckets[key] ?? (burst, now)
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.at) * rate)
        bucket.at = now
        guard bucket.tokens >= 1 else {
            buckets[key] = bucket
            return false
        }
        bucket.tokens -= 1
        buckets[key] = bucket
        return true
    }

    /// Seconds until one token is available again for `key`.
    func retryAfter(_ key: String) -> Int {
        guard let b = buckets[key], rate > 0 else { return 1 }
        return max(1, Int(((1 - b.tokens) / rate).rounded(.up)))
    }

    func prune(now: Double) {
        let full = burst / max(rate, 0.001)
        buckets = buckets.filter { now - $0.value.at < full }
    }
}
