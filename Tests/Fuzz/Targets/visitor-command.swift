// fuzz-seeds: Tests/Fuzz/Seeds/visitor-command/*
import SwitchboardCore

/// A web-chat visitor's WebSocket frame through `VisitorCommand.parse`: a command or a
/// `ProtocolError`, never a trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let frame = try? VisitorCommand.parse(bytes) { _ = frame.command.type }
    return 0
}
