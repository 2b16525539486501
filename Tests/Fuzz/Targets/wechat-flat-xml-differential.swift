// fuzz-seeds: Tests/ChannelTests/Fixtures/wechat/callbacks/*.xml Tests/ChannelTests/Fixtures/wechat/fuzz/*.xml
@testable import WeChatChannel

/// Differential: whenever the fast path `WeChatFlatXML.read` answers, libxml2
/// (`WeChatXML.parsedWithLibxml2`) must accept the same bytes and give the same fields. Both see
/// only what `WeChatXML.fields` lets through to them: non-empty, at most 64 KiB, no NUL, UTF-8.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard !bytes.isEmpty, bytes.count <= WeChatXML.defaultMaxBytes, !bytes.contains(0),
          String(validating: bytes, as: UTF8.self) != nil else { return 0 }
    guard let flat = WeChatFlatXML.read(bytes) else { return 0 }
    let full: [String: String]
    do {
        full = try WeChatXML.parsedWithLibxml2(bytes)
    } catch {
        fatalError("the flat reader accepted what libxml2 refuses (\(error)): \(String(decoding: bytes, as: UTF8.self).debugDescription)")
    }
    guard flat == full else {
        fatalError("flat \(flat) != libxml2 \(full) for \(String(decoding: bytes, as: UTF8.self).debugDescription)")
    }
    return 0
}
