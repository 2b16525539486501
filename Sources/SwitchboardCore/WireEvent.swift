/// Builders for the frames the server itself writes (the Lua scripts write the rest, DESIGN §8).
/// Each returns one JSON object as text; a server frame may join several with `\n` (§9).
///
/// Frames are assembled by concatenation so that pre-encoded parts — conversations and offers
/// from the scripts, stored messages — are spliced as they are, never decoded and re-encoded
/// (§12). Keys come in a fixed order with `type` first, which keeps frames byte-stable for tests.
///
/// These frames carry no `seq`: they are answers on one socket, not entries of the agent's event
/// stream, so a resume never replays them.
public enum WireEvent {
    // MARK: Agent socket

    /// The answer to a successful `auth`: who the agent is, their presence, the conversations
    /// assigned to them and the offers open for them (each a pre-encoded JSON object), and the
    /// seq of the newest event in their stream, from which the console resumes next time.
    /// `now` is the server's clock (ms since the epoch) so the console can count offer deadlines
    /// down without trusting the desk PC's clock.
    public static func welcome(agent: AgentConfig, presence: PresenceStatus, presenceReason: String? = nil,
                               conversations: [String], offers: [String], lastSeq: Int64, now: Int64? = nil) -> String {
        var out = #"{"type":"welcome","agent":"#
        out += agentJSON(agent)
        out += #","presence":"# + presenceJSON(presence, reason: presenceReason)
        out += #","conversations":["# + conversations.joined(separator: ",") + "]"
        out += #","offers":["# + offers.joined(separator: ",") + "]"
        out += #","lastSeq":"# + String(lastSeq)
        if let now { out += #","now":"# + String(now) }
        return out + "}"
    }

    /// Confirms the command whose frame carried `ref`; `extra` adds fields such as the stored
    /// message's id, in the order given.
    public static func ack(ref: WireRef?, _ extra: KeyValuePairs<String, JSONFragment> = [:]) -> String {
        var out = #"{"type":"ack""#
        if let ref { out += #","ref":"# + ref.json }
        for (key, value) in extra {
            out += "," + JSONString.quote(key) + ":" + value.json
        }
        return out + "}"
    }

    /// Refuses one command; the connection stays open. Used on both the agent and the visitor
    /// socket, whose error frames have the same shape.
    public static func error(ref: WireRef? = nil, code: String, message: String, incident: String? = nil) -> String {
        var out = #"{"type":"error""#
        if let ref { out += #","ref":"# + ref.json }
        out += #","code":"# + JSONString.quote(code) + #","message":"# + JSONString.quote(message)
        if let incident { out += #","incident":"# + JSONString.quote(incident) }
        return out + "}"
    }

    /// The answer to `ping`, echoing its `ref` when it had one (agent and visitor sockets).
    public static func pong(ref: WireRef? = nil) -> String {
        guard let ref else { return #"{"type":"pong"}"# }
        return #"{"type":"pong","ref":"# + ref.json + "}"
    }

    // MARK: Visitor socket

    /// The answer to `hello`: the (possibly new) signed visitor token to keep, the open
    /// conversation if there is one, and its messages so far (each a pre-encoded JSON object).
    public static func ready(visitorToken: String, conversationId: String?, history: [String]) -> String {
        var out = #"{"type":"ready","visitorToken":"# + JSONString.quote(visitorToken)
        if let conversationId { out += #","conversationId":"# + JSONString.quote(conversationId) }
        out += #","history":["# + history.joined(separator: ",") + "]}"
        return out
    }

    /// The visitor's place in the queue (1 is next) and, when the server can estimate it, the
    /// expected wait.
    public static func queue(position: Int, estimatedWaitSeconds: Int?) -> String {
        var out = #"{"type":"queue","position":"# + String(position)
        if let estimatedWaitSeconds { out += #","estimatedWaitSeconds":"# + String(estimatedWaitSeconds) }
        return out + "}"
    }

    // MARK: Parts

    /// The agent as the console shows it: never the token hash. Skills and capacity are written
    /// in a fixed order so the same agent always encodes to the same bytes.
    static func agentJSON(_ agent: AgentConfig) -> String {
        var out = #"{"id":"# + JSONString.quote(agent.id)
        out += #","name":"# + JSONString.quote(agent.name)
        out += #","role":"# + JSONString.quote(agent.role.rawValue)
        out += #","skills":{"#
        out += agent.skills.sorted { $0.key < $1.key }
            .map { JSONString.quote($0.key) + ":" + String($0.value) }.joined(separator: ",")
        out += #"},"capacity":{"#
        out += ChannelKind.allCases.compactMap { kind in agent.capacity[kind].map { JSONString.quote(kind.rawValue) + ":" + String($0) } }
            .joined(separator: ",")
        return out + "}}"
    }

    static func presenceJSON(_ status: PresenceStatus, reason: String?) -> String {
        var out = #"{"status":"# + JSONString.quote(status.rawValue)
        if let reason { out += #","reason":"# + JSONString.quote(reason) }
        return out + "}"
    }
}
