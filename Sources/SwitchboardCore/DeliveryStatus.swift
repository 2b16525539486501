/// Delivery state of an outbound message (DESIGN §6). Encoded as a plain string; a failure's
/// reason travels beside it in `delivery{error}` events.
///
/// Statuses only move forward (`rank`): a late `sent` callback after `delivered` changes nothing
/// (DESIGN §10, SMS: "status callbacks never move a status backwards"). `failed` is terminal.
public enum DeliveryStatus: String, Codable, Sendable, CaseIterable {
    case pending, sent, delivered, read, failed

    public var rank: Int {
        switch self {
        case .pending: return 0
        case .sent: return 1
        case .delivered: return 2
        case .read: return 3
        case .failed: return 4
        }
    }

    /// Whether moving from `self` to `next` is progress. Equal is not progress.
    public func canAdvance(to next: DeliveryStatus) -> Bool {
        if self == .failed { return false }
        if next == .failed { return self != .delivered && self != .read }
        return next.rank > rank
    }
}
