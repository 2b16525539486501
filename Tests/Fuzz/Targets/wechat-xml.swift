// fuzz-seeds: Tests/ChannelTests/Fixtures/wechat/callbacks/*.xml Tests/ChannelTests/Fixtures/wechat/fuzz/*.xml
import WeChatChannel

/// `WeChatXML.fields` (the flat fast path, then libxml2 with entities off) on any bytes: fields
/// or a `WeChatXMLError`, never a trap. A small depth limit is tried too.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? WeChatXML.fields(bytes)
    _ = try? WeChatXML.fields(bytes, maxBytes: 4096, maxDepth: 2)
    return 0
}
