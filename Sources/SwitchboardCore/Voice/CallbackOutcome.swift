/// What an agent's call-back to a caller who left a voicemail came to (issue 10): the agent calls
/// back on their own phone and records the outcome in the console (`callback.outcome`).
public enum CallbackOutcome: String, Sendable, Equatable, CaseIterable {
    /// 接通已处理: reached and dealt with. The task closes into wrap-up.
    case reached
    /// 未接通: nobody answered. The task comes back after `callback_retry_after`, until
    /// `callback_attempts` tries have been made; then it closes as unreached.
    case unreached
    /// 号码错误: the number is wrong. The task closes.
    case wrongNumber = "wrong_number"
}
