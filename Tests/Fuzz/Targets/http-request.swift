// fuzz-seeds: Tests/Fuzz/Seeds/http-request/*
import SwitchboardCore

/// `HTTPRequest.mediaType` and the query handling (`queryItems`, `queryValue`). The input is the
/// `Content-Type` value, a newline, then the query string.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let newline = bytes.firstIndex(of: 0x0A) ?? bytes.count
    let contentType = String(decoding: bytes[..<newline], as: UTF8.self)
    let query = newline < bytes.count ? String(decoding: bytes[(newline + 1)...], as: UTF8.self) : ""
    let request = HTTPRequest(method: "POST", subpath: "", query: query, headers: ["content-type": contentType])
    let media = request.mediaType
    if media.contains(";") || media.hasPrefix(" ") || media.hasSuffix(" ") || media.hasPrefix("\t") || media.hasSuffix("\t") {
        fatalError("mediaType \(media.debugDescription) of \(contentType.debugDescription)")
    }
    if let items = try? request.queryItems() {
        for name in ["token", items.first?.0 ?? ""] { _ = try? request.queryValue(name) }
    }
    return 0
}
