// fuzz-seeds: Tests/Fuzz/Seeds/agent-command/*
import SwitchboardCore

/// An agent console's WebSocket frame through `AgentCommand.parse`: a command or a
/// `ProtocolError`, never a trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let frame = try? AgentCommand.parse(bytes) { _ = frame.command.type }
    return 0
}
