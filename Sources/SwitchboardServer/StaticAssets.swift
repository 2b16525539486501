import Foundation
import SwitchboardCore

/// The console and widget files (`Web/`), loaded into memory once at start and served from there:
/// a handful of small files, so no disk I/O on the loop.
struct StaticAssets {
    private var files: [String: HTTPResponse] = [:]

    init() {
        guard let dir = Bundle.module.url(forResource: "Web", withExtension: nil) else { return }
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: dir.path) else { return }
        for name in names {
            guard let data = fm.contents(atPath: dir.path + "/" + name) else { continue }
            files["/" + name] = HTTPResponse(status: 200, contentType: Self.contentType(for: name), body: Array(data),
                                              headers: [("x-content-type-options", "nosniff")])
        }
        if let index = files["/index.html"] { files["/"] = index }
    }

    func response(for path: String) -> HTTPResponse? {
        files[path]
    }

    static func contentType(for name: String) -> String {
        switch name.split(separator: ".").last.map(String.init) ?? "" {
        case "html": return "text/html; charset=utf-8"
        case "js": return "application/javascript; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "ico": return "image/x-icon"
        case "json": return "application/json; charset=utf-8"
        default: return "application/octet-stream"
        }
    }
}
