import SwitchboardCore
import SwitchboardRedis

/// Stores a reply from an agent, a bot or the REST API and, when it leaves through a provider,
/// wakes the outbox worker at once (the reply is in `sb:outbox` already: the kick only saves the
/// worker's next poll). Loop thread only.
final class ReplySender {
    private let store: Store
    private let clock: () -> Int64
    private let kickOutbox: () -> Void

    init(store: Store, clock: @escaping () -> Int64, kickOutbox: @escaping () -> Void) {
        self.store = store
        self.clock = clock
        self.kickOutbox = kickOutbox
    }

    func send(_ request: SendRequest, completion: @escaping (Result<SendOutcome, StoreError>) -> Void) {
        store.send(request, now: clock()) { [kickOutbox] result in
            if case .success(let outcome) = result, outcome.outboxEntryId != nil { kickOutbox() }
            completion(result)
        }
    }
}
