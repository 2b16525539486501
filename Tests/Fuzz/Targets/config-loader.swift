// fuzz-seeds: config/demo.yaml
import SwitchboardCore

/// A YAML configuration through `ConfigurationLoader.load` (Yams, then every section's checks):
/// a `Configuration` or a `ConfigurationError`, never a trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let yaml = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? ConfigurationLoader.load(yaml: yaml, environment: ["HOME": "/home/switchboard", "SECRET": "0123456789abcdef0123"])
    return 0
}
