// fuzz-seeds: Tests/ChannelTests/Fixtures/email/*.eml
import SwitchboardCore
@testable import EmailChannel

/// The email parser (issue 11): `MIMEMessage.parse` over GMime with the input as a raw RFC 5322
/// message, with the default limits and small ones (depth 3, 8 parts), so the refusals are
/// reached too. A `ChannelError`, never a trap; the message ids read back must be bracket-free.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    for limits in [MIMEMessage.Limits(), MIMEMessage.Limits(maxDepth: 3, maxParts: 8)] {
        guard let mail = try? MIMEMessage.parse(bytes, limits: limits) else { continue }
        for id in mail.references + [mail.inReplyTo].compactMap({ $0 }) where id.contains("<") || id.contains(">") || id.isEmpty {
            fatalError("a message id kept its brackets or is empty: \(id)")
        }
    }
    return 0
}
