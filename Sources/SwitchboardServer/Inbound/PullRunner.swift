import Logging
import SwitchboardCore
import SwitchboardRedis

/// Pulls the messages a provider holds after a `fetch` trigger (WeCom `sync_msg`; the semantics
/// are `ChannelPuller`'s): one node per `(channel, source)` at a time, cursor in Redis, advanced
/// only after a page is stored.
///
/// The trigger is recorded in Redis before the webhook is answered (`IngestPipeline`). The node
/// that wins the source's lock takes the trigger (GETDEL) and pulls until `hasMore` is false; then
/// it looks for a trigger that arrived meanwhile and pulls again before letting go, and looks once
/// more after letting go, so a trigger recorded while another node held the lock is never
/// stranded. The lock is renewed after every page; a node that dies leaves the lock to expire and
/// the cursor where it was (dedup absorbs the repeated page). A lock this node still holds from a
/// run that has ended (its release failed while Redis refused writes) is taken back at the next
/// trigger instead of waiting out its TTL; a run still going on this node is never doubled.
///
/// Loop thread only.
final class PullRunner {
    /// Longer than a page takes (one request within `outbox.request_timeout` plus storing).
    static let lockTtlMs: Int64 = 60_000
    /// A page loop that never ends (a provider answering `has_more` for ever) stops here; the next
    /// trigger resumes from the stored cursor.
    static let maxPagesPerRun = 1000

    private let store: Store
    private let http: HTTPTransport
    private let credentials: CredentialCache
    private let ingest: IngestPipeline
    private let adapters: [String: any ChannelAdapter]
    private let owner: String
    private let logger: Logger
    /// `channel|source` of the runs going on on this node.
    private var running: Set<String> = []

    init(store: Store, http: HTTPTransport, credentials: CredentialCache, ingest: IngestPipeline,
         adapters: [String: any ChannelAdapter], nodeId: String, logger: Logger) {
        self.store = store
        self.http = http
        self.credentials = credentials
        self.ingest = ingest
        self.adapters = adapters
        self.owner = nodeId
        self.logger = logger
    }

    /// A trigger for `trigger.source` was recorded: pull it unless another node already does.
    func triggered(_ channel: ChannelConfig, _ trigger: PullTrigger) {
        guard let adapter = adapters[channel.id], let puller = adapter.puller else { return }
        let name = channel.id + "|" + trigger.source
        // A run going on here picks the recorded trigger up before it lets go.
        guard !running.contains(name) else { return }
        let lock = store.keys.pullLock(channel: channel.id, source: trigger.source)
        let run = Run(channel: channel, adapter: adapter, puller: puller, source: trigger.source, lock: lock)
        running.insert(name)
        store.acquireLock(lock, owner: owner, ttlMs: Self.lockTtlMs) { [weak self] result in
            guard let self else { return }
            if case .success(true) = result { return self.nextTrigger(run) }
            // Held: by another node (which will see the trigger), or by an ended run of ours.
            self.store.renewLock(lock, owner: self.owner, ttlMs: Self.lockTtlMs) { [weak self] renewed in
                guard let self else { return }
                if case .success(true) = renewed { return self.nextTrigger(run) }
                self.running.remove(name)
            }
        }
    }

    private struct Run {
        let channel: ChannelConfig
        let adapter: any ChannelAdapter
        let puller: any ChannelPuller
        let source: String
        let lock: String
        var pages = 0
        var refreshed = false
    }

    private func nextTrigger(_ run: Run) {
        store.takePullTrigger(channelId: run.channel.id, source: run.source) { [weak self] result in
            guard let self else { return }
            switch result {
            case .success(let token?):
                self.page(run, trigger: PullTrigger(source: run.source, token: token.isEmpty ? nil : token))
            case .success(nil):
                self.finish(run, recheck: true)
            case .failure(let e):
                self.logger.error("pull: reading the trigger failed: \(e.message)", metadata: ["channel": "\(run.channel.id)"])
                self.finish(run, recheck: false)
            }
        }
    }

    private func page(_ run: Run, trigger: PullTrigger) {
        guard run.pages < Self.maxPagesPerRun else {
            logger.error("pull: stopped after \(Self.maxPagesPerRun) pages; the next trigger resumes", metadata: ["channel": "\(run.channel.id)"])
            return finish(run, recheck: false)
        }
        store.pullCursor(channelId: run.channel.id, source: run.source) { [weak self] cursor in
            guard let self else { return }
            guard case .success(let cursor) = cursor else { return self.finish(run, recheck: false) }
            self.withCredential(run) { credential in
                let request = run.puller.pageRequest(trigger: trigger, cursor: cursor, credential: credential)
                self.http.perform(request) { [weak self] response in
                    self?.handle(run.puller.parsePage(response, trigger: trigger), run: run, trigger: trigger, credential: credential)
                }
            }
        }
    }

    private func handle(_ result: PullPageResult, run: Run, trigger: PullTrigger, credential: String?) {
        var run = run
        switch result {
        case .page(let events, let nextCursor, let hasMore):
            ingest.store(events, channel: run.channel) { [weak self] stored in
                guard let self else { return }
                guard case .success = stored else {
                    self.logger.error("pull: storing a page failed; the cursor stays", metadata: ["channel": "\(run.channel.id)"])
                    return self.finish(run, recheck: false)
                }
                let advance: (@escaping () -> Void) -> Void = { then in
                    guard let nextCursor else { return then() }
                    self.store.setPullCursor(channelId: run.channel.id, source: run.source, cursor: nextCursor) { _ in then() }
                }
                advance {
                    run.pages += 1
                    self.store.renewLock(run.lock, owner: self.owner, ttlMs: Self.lockTtlMs) { _ in }
                    if hasMore { self.page(run, trigger: trigger) } else { self.nextTrigger(run) }
                }
            }
        case .refreshCredentials(let reason):
            guard !run.refreshed, let source = run.adapter.credentials, let credential else {
                logger.error("pull: access token refused: \(reason)", metadata: ["channel": "\(run.channel.id)"])
                return finish(run, recheck: false)
            }
            run.refreshed = true
            credentials.replace(credential, for: source) { [weak self] r in
                guard let self else { return }
                guard case .success = r else { return self.finish(run, recheck: false) }
                self.page(run, trigger: trigger)
            }
        case .failed(let reason):
            logger.error("pull failed: \(reason)", metadata: ["channel": "\(run.channel.id)", "source": "\(run.source)"])
            finish(run, recheck: false)
        }
    }

    private func withCredential(_ run: Run, _ body: @escaping (String?) -> Void) {
        guard let source = run.adapter.credentials else { return body(nil) }
        credentials.token(for: source) { [weak self] result in
            switch result {
            case .success(let token): body(token)
            case .failure(let e):
                self?.logger.error("pull: no access token: \(e.message)", metadata: ["channel": "\(run.channel.id)"])
                self?.finish(run, recheck: false)
            }
        }
    }

    /// Lets go of the source; with `recheck`, a trigger recorded between the last look and the
    /// release is pulled by whoever wins the lock next (this node, if nobody else).
    private func finish(_ run: Run, recheck: Bool) {
        running.remove(run.channel.id + "|" + run.source)
        store.releaseLock(run.lock, owner: owner) { [weak self] _ in
            guard let self, recheck else { return }
            self.store.takePullTrigger(channelId: run.channel.id, source: run.source) { [weak self] result in
                guard let self, case .success(let token?) = result else { return }
                // Put it back for whoever takes the lock (another node may have just won it).
                self.store.recordPullTrigger(channelId: run.channel.id, source: run.source, token: token,
                                             ttlSeconds: IngestPipeline.pullTriggerTTLSeconds) { [weak self] _ in
                    self?.triggered(run.channel, PullTrigger(source: run.source, token: token))
                }
            }
        }
    }
}
