import SwitchboardCore
import SwitchboardRedis

/// `GET /v1/queues` and `GET /v1/agents` bodies (DESIGN §9) from one `Router.stats` answer.
enum RoutingStatsJSON {
    static func queues(_ stats: RoutingStats) -> String {
        let items = stats.queueDepths.sorted { $0.key < $1.key }.map { skill, depth in
            JSONText.object([
                ("skill", JSONString.quote(skill)), ("waiting", String(depth)),
                ("averageWaitSeconds", String((stats.averageWaitMilliseconds[skill] ?? 0) / 1000)),
            ])
        }
        return "{\"queues\":" + JSONText.array(items) + "}"
    }

    static func agents(_ stats: RoutingStats) -> String {
        let items = stats.agents.map { a in
            let load = a.load.sorted { $0.key.rawValue < $1.key.rawValue }.map { JSONString.quote($0.key.rawValue) + ":" + String($0.value) }
            return JSONText.object([
                ("id", JSONString.quote(a.id)), ("name", JSONString.quote(a.name)), ("status", JSONString.quote(a.status.rawValue)),
                ("reason", JSONString.quote(a.reason)), ("connected", a.connected ? "true" : "false"),
                ("load", "{" + load.joined(separator: ",") + "}"),
            ])
        }
        return "{\"agents\":" + JSONText.array(items) + "}"
    }
}
