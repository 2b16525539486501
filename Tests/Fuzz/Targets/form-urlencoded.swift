// fuzz-seeds: Tests/ChannelTests/Fixtures/sms/*.form
import SwitchboardCore

/// `FormURLEncoding.decode` on any bytes: it throws or answers pairs; and what it answers
/// survives `encode` then `decode` unchanged (the encoder and decoder agree).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let pairs = try? FormURLEncoding.decode(bytes) else { return 0 }
    let again = try? FormURLEncoding.decode(Array(FormURLEncoding.encode(pairs).utf8))
    guard let again, again.map({ [$0.0, $0.1] }) == pairs.map({ [$0.0, $0.1] }) else {
        fatalError("decode(encode(pairs)) != pairs for \(pairs)")
    }
    return 0
}
