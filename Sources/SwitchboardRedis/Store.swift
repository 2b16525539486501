import Foundation
import SwitchboardCore

/// Conversations, contacts and message streams in Redis: the message-flow side of the broker
/// (DESIGN §6, §8). Every call is one script (or one stream command) with FCALL, so any node may
/// make any call, and the hot path — an inbound message — is exactly one round trip (DESIGN §8).
///
/// Messages are encoded once here (`StoreMessageBody`) and travel as JSON text from then on: the
/// scripts splice in the id, conversation id and status, and readers get the stored text back
/// (DESIGN §12: no per-message re-encoding).
///
/// `now` is milliseconds since the epoch from the caller's clock (tests pass a fake one). Read-only
/// calls take no clock.
///
/// Loop thread only: it holds the `ScriptRunner`, whose connection is loop-bound (DESIGN §4).
/// Each completion is called exactly once, on the loop thread.
public final class Store {
    public let runner: ScriptRunner
    /// The key prefix, `sb:` by default (DESIGN §8).
    public let prefix: String
    /// Key names from the registry the scripts' `K` is generated from (RedisKeys.swift).
    public var keys: RedisKeys { RedisKeys(prefix: prefix) }
    /// The consumer group of `sb:outbox` (DESIGN §11).
    public static let outboxGroup = "delivery"

    private let encoder: JSONEncoder

    public init(runner: ScriptRunner, prefix: String) {
        self.runner = runner
        self.prefix = prefix
        encoder = JSONEncoder()
        // Media URLs are full of slashes; escaping them only grows every stored message.
        encoder.outputFormatting = [.withoutEscapingSlashes]
    }

    // MARK: - Inbound

    /// Stores one inbound message: dedup, contact, open-or-new conversation, log append, and the
    /// assignee's `message` event, in one script call (Scripts/ingest.lua).
    public func ingest(_ request: IngestRequest, now: Int64,
                       completion: @escaping (Result<IngestOutcome, StoreError>) -> Void) {
        let body: String
        do {
            body = try encodeBody(StoreMessageBody(direction: .in, author: .contact, authorId: nil,
                                                   authorName: request.displayName, parts: request.parts,
                                                   externalId: nonEmpty(request.externalId), clientId: nil,
                                                   createdAt: now))
        } catch {
            completion(.failure(error))
            return
        }
        let args = [request.channelId, request.channelKind.rawValue, request.skill, String(request.priority),
                    request.from.kind.rawValue, request.from.address, request.displayName ?? "",
                    request.externalId ?? "", body, String(request.dedupTTLSeconds), request.visitorNode ?? "",
                    request.subject ?? "", request.startWithBot ? "bot" : "queued", request.replyFrom ?? ""]
        run("ingest", now: now, args: args, completion: completion) { reply in
            guard let r = StoreReply(reply, count: 7) else { return nil }
            // A duplicate whose conversation has since been removed has nothing open to re-enqueue.
            let status = ConversationStatus(rawValue: r.string(5)) ?? .closed
            return IngestOutcome(conversationId: r.string(0), messageId: r.string(1), contactId: r.string(2),
                                 created: r.bool(3), duplicate: r.bool(4), status: status, messageJSON: r.string(6))
        }
    }

    // MARK: - Outbound

    /// The kinds whose replies go to a socket, for the send script's choice when the caller names
    /// only the conversation: from `DeliveryTransport`, so the table stays in one place.
    static let socketKinds = ChannelKind.allCases.filter { DeliveryTransport.of($0) == .socket }.map(\.rawValue).joined(separator: " ")

    /// Appends a reply and starts its delivery: the outbox for provider channels, the visitor's
    /// socket for web chat (Scripts/send.lua). Errors: `.notFound`, `.conflict` (not open),
    /// `.forbidden` (not the assignee).
    public func send(_ request: SendRequest, now: Int64, completion: @escaping (Result<SendOutcome, StoreError>) -> Void) {
        let body: String
        do {
            body = try encodeBody(StoreMessageBody(direction: .out, author: request.author,
                                                   authorId: nonEmpty(request.authorId),
                                                   authorName: nonEmpty(request.authorName), parts: request.parts,
                                                   externalId: nil, clientId: nonEmpty(request.clientId),
                                                   createdAt: now))
        } catch {
            completion(.failure(error))
            return
        }
        let args = [request.conversationId, request.author.rawValue, request.authorId ?? "",
                    request.requiredAssignee ?? "", request.clientId ?? "", body, request.mode?.rawValue ?? "", Self.socketKinds]
        run("send", now: now, args: args, completion: completion) { reply in
            guard let r = StoreReply(reply, count: 4) else { return nil }
            return SendOutcome(messageId: r.string(0), duplicate: r.bool(1), outboxEntryId: r.nonEmpty(2),
                               messageJSON: r.string(3))
        }
    }

    /// A typing indicator (Scripts/typing.lua). Succeeds with whether anyone was told. Errors:
    /// `.notFound`, `.forbidden` (an agent that is not the assignee).
    public func typing(conversationId: String, from source: TypingSource, now: Int64,
                       completion: @escaping (Result<Bool, StoreError>) -> Void) {
        let args: [String]
        switch source {
        case .agent(let agent): args = [conversationId, "agent", agent]
        case .visitor: args = [conversationId, "visitor", ""]
        }
        run("typing", now: now, args: args, completion: completion) { $0.int.map { $0 != 0 } }
    }

    // MARK: - Web visitors

    /// Records the node holding the visitor's socket (Scripts/visitor_attach.lua). `.notFound` for
    /// an unknown conversation.
    public func attachVisitor(conversationId: String, node: String, now: Int64,
                              completion: @escaping (Result<Void, StoreError>) -> Void) {
        run("visitor_attach", now: now, args: [conversationId, node], completion: completion) { _ in () }
    }

    /// Forgets the visitor's node if it is still `node` (Scripts/visitor_detach.lua). Succeeds with
    /// whether it was cleared.
    public func detachVisitor(conversationId: String, node: String, now: Int64,
                              completion: @escaping (Result<Bool, StoreError>) -> Void) {
        run("visitor_detach", now: now, args: [conversationId, node], completion: completion) { $0.int.map { $0 != 0 } }
    }

    // MARK: - Reads

    /// A page of messages, oldest first, each with its id and current delivery status
    /// (Scripts/history.lua): the `limit` newest ones before the message id `before` (exclusive),
    /// or the newest when `before` is nil. `limit` is capped at 500.
    public func history(conversationId: String, before: String?, limit: Int,
                        completion: @escaping (Result<[String], StoreError>) -> Void) {
        run("history", now: 0, args: [conversationId, before ?? "", String(limit)], completion: completion) { $0.strings }
    }

    /// An agent's internal note in a conversation (Scripts/note.lua): stored in the thread, never
    /// delivered to the contact. Answers the message JSON.
    public func addNote(conversationId: String, agentId: String, agentName: String, text: String, now: Int64,
                        completion: @escaping (Result<String, StoreError>) -> Void) {
        run("note", now: now, args: [agentId, agentName, conversationId, text], completion: completion) { $0.string }
    }

    /// The same contact's other conversations on every channel, newest first, as wire JSON
    /// (Scripts/contact_history.lua); `.notFound` if the conversation does not exist.
    public func contactHistory(conversationId: String, limit: Int, completion: @escaping (Result<[String], StoreError>) -> Void) {
        run("contact_history", now: 0, args: [conversationId, String(limit)], completion: completion) { $0.strings }
    }

    /// The conversation's wire JSON (Scripts/conversation.lua); `.notFound` if there is none.
    public func conversation(id: String, completion: @escaping (Result<String, StoreError>) -> Void) {
        run("conversation", now: 0, args: [id], completion: completion) { $0.string }
    }

    /// The agent's events after `afterSeq`, in order, at most `limit` (Scripts/replay.lua), for
    /// `auth{resume}` (DESIGN §9).
    public func replay(agentId: String, afterSeq: Int64, limit: Int,
                       completion: @escaping (Result<[String], StoreError>) -> Void) {
        run("replay", now: 0, args: [agentId, String(afterSeq), String(limit)], completion: completion) { $0.strings }
    }

    /// The identity's open conversation on a channel, or nil (Scripts/open_conversation.lua): how a
    /// returning web visitor finds their chat again.
    public func openConversation(identity: Identity, channelId: String,
                                 completion: @escaping (Result<OpenConversation?, StoreError>) -> Void) {
        let args = [identity.kind.rawValue, identity.address, channelId]
        run("open_conversation", now: 0, args: args, completion: completion) { reply -> OpenConversation?? in
            if reply == .null { return .some(nil) }
            guard let r = StoreReply(reply, count: 3) else { return nil }
            return .some(OpenConversation(contactId: r.string(0), conversationId: r.string(1),
                                          conversationJSON: r.string(2)))
        }
    }

    /// A satisfaction rating by `identity` (the web visitor) of `conversationId`, or of its most
    /// recently closed conversation on `channelId` when nil (Scripts/csat.lua, one atomic call):
    /// the conversation must be the identity's, closed or in wrap-up, and not rated before (DESIGN
    /// §16: once per conversation). Succeeds with the id of the conversation rated. Errors:
    /// `.notFound` (none of this identity's, or nothing closed), `.conflict` (open, already rated).
    public func rateConversation(identity: Identity, channelId: String, conversationId: String?, rating: Int,
                                 comment: String?, now: Int64, completion: @escaping (Result<String, StoreError>) -> Void) {
        let args = [identity.kind.rawValue, identity.address, channelId, conversationId ?? "", String(rating), comment ?? ""]
        run("csat", now: now, args: args, completion: completion) { reply in
            guard case .bulk = reply else { return nil }
            return reply.string
        }
    }

    // MARK: - Plumbing

    /// Runs a store script with the calling convention of Scripts/_a_base.lua and parses its reply;
    /// a reply of the wrong shape is `.internal`.
    func run<T>(_ script: String, now: Int64, args: [String],
                completion: @escaping (Result<T, StoreError>) -> Void, parse: @escaping (RedisReply) -> T?) {
        runner.eval(script, keys: [prefix], args: [String(now)] + args) { result in
            switch result {
            case .failure(let error):
                completion(.failure(StoreError(error)))
            case .success(let reply):
                if let value = parse(reply) {
                    completion(.success(value))
                } else {
                    completion(.failure(.internal("\(script): unexpected reply \(reply)")))
                }
            }
        }
    }

    private func encodeBody(_ body: StoreMessageBody) throws(StoreError) -> String {
        if let text = Self.textOnlyJSON(body) { return text }
        do {
            return String(decoding: try encoder.encode(body), as: UTF8.self)
        } catch {
            // Non-finite coordinates are the only way a part fails to encode: bad input.
            throw StoreError.badRequest("message cannot be encoded: \(error)")
        }
    }

    /// The hot path's encoding (DESIGN §12): a message made only of text parts — every SMS and
    /// web-chat message — is written directly, with the same keys in the same order as the
    /// synthesized `Encodable` (nil optionals left out); anything else goes through JSONEncoder,
    /// which cost more per inbound message than the rest of the broker's own work.
    static func textOnlyJSON(_ body: StoreMessageBody) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(192)
        out.append(contentsOf: #"{"direction":"#.utf8)
        JSONString.append(body.direction.rawValue, to: &out)
        out.append(contentsOf: #","author":"#.utf8)
        JSONString.append(body.author.rawValue, to: &out)
        func optional(_ key: String, _ value: String?) {
            guard let value else { return }
            out.append(contentsOf: ",\"\(key)\":".utf8)
            JSONString.append(value, to: &out)
        }
        optional("authorId", body.authorId)
        optional("authorName", body.authorName)
        out.append(contentsOf: #","parts":["#.utf8)
        for (i, part) in body.parts.enumerated() {
            guard case .text(let text) = part else { return nil }
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"type":"text","text":"#.utf8)
            JSONString.append(text, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
        optional("externalId", body.externalId)
        optional("clientId", body.clientId)
        out.append(contentsOf: #","createdAt":"#.utf8)
        out.append(contentsOf: String(body.createdAt).utf8)
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    private func nonEmpty(_ s: String?) -> String? {
        guard let s, !s.isEmpty else { return nil }
        return s
    }
}
