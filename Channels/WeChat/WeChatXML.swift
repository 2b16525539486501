import CLibXML2

/// Reads the flat XML of WeChat / WeCom callbacks (DESIGN §10.3),
///
///     <xml><ToUserName><![CDATA[gh_…]]></ToUserName><CreateTime>1714112445</CreateTime>…</xml>
///
/// into a map from element name to its text (CDATA and character data joined; `&lt;` and
/// character references decoded).
///
/// **Why libxml2, with entities off.** The body comes from the Internet before (plain mode) or
/// right after (safe mode) a signature check, so the parser must be a real, well-tested XML
/// parser that refuses malformed input instead of guessing (a hand-written tag scanner would
/// accept documents WeChat never sends and disagree with other readers about which field is
/// which). libxml2 is the system's parser, but its defaults are not safe for hostile input, so:
/// - no `XML_PARSE_NOENT` (entities are never substituted), no `XML_PARSE_DTDLOAD` /
///   `DTDVALID` (no DTD is loaded or validated), `XML_PARSE_NONET` (no network access at all);
/// - stronger still, a document with any `<!DOCTYPE` is refused outright: the parser context's
///   SAX `internalSubset` hook stops the parser the moment a DOCTYPE is seen, before its internal
///   subset (where entity declarations live) is read. Billion laughs and XXE never get as far as
///   an entity declaration. The tree is checked again afterwards (no DTD, no entity nodes);
/// - size, NUL bytes and UTF-8 are checked before libxml2 sees the bytes, and the encoding is
///   forced to UTF-8 (an `encoding="…"` declaration cannot switch it);
/// - nesting is capped at `maxDepth` (libxml2's own cap is 256).
///
/// **Errors never reach stderr.** libxml2 reports through the parser context: this reader
/// installs a structured error handler (`sax->serror`) on its *own* context, which records the
/// first message in per-call state reached through `ctxt->_private`, and passes
/// `XML_PARSE_NOERROR | XML_PARSE_NOWARNING`. Nothing global is changed (no
/// `xmlSetStructuredErrorFunc`, no `xmlSetGenericErrorFunc`), so concurrent calls on other
/// threads cannot see each other's handler: each `xmlNewParserCtxt` has its own SAX table.
///
/// **Nested elements are flattened**: a leaf below a child element is stored under its dotted
/// path (`ScanCodeInfo.ScanType`, `SendLocationInfo.Location_X`). A repeated top-level field is
/// refused (a second `<MsgType>` could smuggle a different meaning past a reader that takes the
/// other one); a repeated nested path (the `item`s of `SendPicsInfo.PicList`) keeps its first
/// occurrence. Attributes, comments and processing instructions are ignored, as is text directly
/// inside `<xml>` or inside an element that has child elements.
public enum WeChatXML {
    /// A callback body is a few hundred bytes; 64 KiB leaves room for long texts.
    public static let defaultMaxBytes = 64 * 1024
    /// `<xml><SendPicsInfo><PicList><item><PicMd5Sum>` is 5 deep, the deepest WeChat sends.
    public static let defaultMaxDepth = 8

    /// The root's fields. Throws `WeChatXMLError` for anything but a well-formed, DOCTYPE-free,
    /// UTF-8 document of at most `maxBytes` bytes whose root is `<xml>`.
    public static func fields(_ bytes: [UInt8], maxBytes: Int = defaultMaxBytes,
                              maxDepth: Int = defaultMaxDepth) throws(WeChatXMLError) -> [String: String] {
        guard !bytes.isEmpty else { throw .empty }
        guard bytes.count <= maxBytes else { throw .tooLarge(limit: maxBytes, actual: bytes.count) }
        guard !bytes.contains(0) else { throw .nulByte }
        guard bytes.allSatisfy({ $0 < 0x80 }) || String(validating: bytes, as: UTF8.self) != nil else { throw .notUTF8 }

        _ = libraryInitialized
        guard let ctxt = xmlNewParserCtxt() else { throw .notWellFormed("libxml2 could not allocate a parser") }
        defer { xmlFreeParserCtxt(ctxt) }
        let state = UnsafeMutablePointer<ParseState>.allocate(capacity: 1)
        state.initialize(to: ParseState())
        defer {
            state.deinitialize(count: 1)
            state.deallocate()
        }
        ctxt.pointee._private = UnsafeMutableRawPointer(state)
        ctxt.pointee.sax.pointee.internalSubset = { context, _, _, _ in
            WeChatXML.stopAtDoctype(context)
        }
        // Unreachable once the DOCTYPE stops the parser; kept so an entity declaration can
        // never be recorded even if that changed.
        ctxt.pointee.sax.pointee.entityDecl = { context, _, _, _, _, _ in
            WeChatXML.stopAtDoctype(context)
        }
        ctxt.pointee.sax.pointee.serror = { context, error in
            WeChatXML.record(context, error)
        }

        let options = Int32(bitPattern: XML_PARSE_NONET.rawValue | XML_PARSE_NOCDATA.rawValue | XML_PARSE_NOERROR.rawValue
                                | XML_PARSE_NOWARNING.rawValue)
        let doc = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                xmlCtxtReadMemory(ctxt, chars.baseAddress, Int32(chars.count), nil, "UTF-8", options)
            }
        }
        defer { if let doc { xmlFreeDoc(doc) } }
        if state.pointee.sawDoctype { throw .doctypeForbidden }
        guard let doc, ctxt.pointee.wellFormed != 0 else {
            throw .notWellFormed(state.pointee.firstError ?? "libxml2 refused the document")
        }
        guard doc.pointee.intSubset == nil, doc.pointee.extSubset == nil else { throw .doctypeForbidden }
        guard let root = xmlDocGetRootElement(doc) else { throw .notWellFormed("no root element") }
        let rootName = name(of: root)
        guard rootName == "xml" else { throw .wrongRoot(rootName) }

        var fields: [String: String] = [:]
        try collect(children: root, prefix: "", depth: 2, maxDepth: maxDepth, into: &fields)
        return fields
    }

    // MARK: Tree walk

    private static func collect(children parent: xmlNodePtr, prefix: String, depth: Int, maxDepth: Int,
                                into fields: inout [String: String]) throws(WeChatXMLError) {
        var node = parent.pointee.children
        while let current = node {
            node = current.pointee.next
            switch current.pointee.type {
            case XML_ELEMENT_NODE:
                guard depth <= maxDepth else { throw .tooDeep(limit: maxDepth) }
                let key = prefix.isEmpty ? name(of: current) : prefix + "." + name(of: current)
                if try hasElementChildren(current) {
                    try collect(children: current, prefix: key, depth: depth + 1, maxDepth: maxDepth, into: &fields)
                } else if fields[key] == nil {
                    fields[key] = try text(of: current)
                } else if prefix.isEmpty {
                    throw .duplicateField(key)
                }
            case XML_ENTITY_REF_NODE, XML_ENTITY_NODE, XML_ENTITY_DECL:
                throw .entityForbidden
            case XML_DTD_NODE:
                throw .doctypeForbidden
            default:
                continue  // text between elements, comments, processing instructions
            }
        }
    }

    private static func hasElementChildren(_ element: xmlNodePtr) throws(WeChatXMLError) -> Bool {
        var node = element.pointee.children
        while let current = node {
            switch current.pointee.type {
            case XML_ELEMENT_NODE: return true
            case XML_ENTITY_REF_NODE, XML_ENTITY_NODE, XML_ENTITY_DECL: throw .entityForbidden
            default: node = current.pointee.next
            }
        }
        return false
    }

    /// The element's character data: its text and CDATA children joined.
    private static func text(of element: xmlNodePtr) throws(WeChatXMLError) -> String {
        var out = ""
        var node = element.pointee.children
        while let current = node {
            node = current.pointee.next
            switch current.pointee.type {
            case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
                if let content = current.pointee.content { out += String(cString: content) }
            case XML_ENTITY_REF_NODE, XML_ENTITY_NODE, XML_ENTITY_DECL:
                throw .entityForbidden
            default:
                continue
            }
        }
        return out
    }

    private static func name(of node: xmlNodePtr) -> String {
        node.pointee.name.map { String(cString: $0) } ?? ""
    }

    // MARK: libxml2 callbacks (per parser context)

    /// What the callbacks of one parse found, reached through `ctxt->_private`.
    private struct ParseState {
        var sawDoctype = false
        var firstError: String?
    }

    /// `xmlInitParser` once per process, before the first parse; Swift runs a static `let`'s
    /// initializer exactly once, thread-safely.
    private static let libraryInitialized: Bool = {
        xmlInitParser()
        return true
    }()

    /// The SAX callbacks get `ctxt->userData`, which libxml2 sets to the context itself.
    private static func state(_ context: UnsafeMutableRawPointer?) -> UnsafeMutablePointer<ParseState>? {
        guard let ctxt = context?.assumingMemoryBound(to: xmlParserCtxt.self) else { return nil }
        return ctxt.pointee._private?.assumingMemoryBound(to: ParseState.self)
    }

    private static func stopAtDoctype(_ context: UnsafeMutableRawPointer?) {
        guard let context else { return }
        state(context)?.pointee.sawDoctype = true
        xmlStopParser(context.assumingMemoryBound(to: xmlParserCtxt.self))
    }

    private static func record(_ context: UnsafeMutableRawPointer?, _ error: xmlErrorPtr?) {
        guard let state = state(context), state.pointee.firstError == nil, let error else { return }
        let message = error.pointee.message.map { String(cString: $0) } ?? "error \(error.pointee.code)"
        let trimmed = message.hasSuffix("\n") ? String(message.dropLast()) : message
        state.pointee.firstError = "\(trimmed) (line \(error.pointee.line))"
    }
}
