/// One parsed client frame: the command and the `ref` to echo in its `ack` or `error`.
public struct ClientFrame<Command: Sendable & Equatable>: Sendable, Equatable {
    public var ref: WireRef?
    public var command: Command

    public init(ref: WireRef? = nil, command: Command) {
        self.ref = ref
        self.command = command
    }
}
