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
///   an entity declaration. The document node is checked again afterwards (no DTD), and an
///   entity reference reaching the SAX `reference` hook is refused;
/// - size, NUL bytes and UTF-8 are checked before libxml2 sees the bytes, and the encoding is
///   always UTF-8 (`XML_PARSE_IGNORE_ENC`: an `encoding="…"` declaration cannot switch it);
/// - nesting is capped at `maxDepth` (libxml2's own cap is 256).
///
/// **Errors never reach stderr.** libxml2 reports through the parser context: this reader
/// installs a structured error handler (`sax->serror`) on its *own* context, which records the
/// first message in per-call state reached through `ctxt->_private`, and passes
/// `XML_PARSE_NOERROR | XML_PARSE_NOWARNING`. Nothing global is changed (no
/// `xmlSetStructuredErrorFunc`, no `xmlSetGenericErrorFunc`), so concurrent calls on other
/// threads cannot see each other's handler: each `xmlNewParserCtxt` has its own SAX table.
///
/// **The flat shape first.** `WeChatFlatXML` reads the shape WeChat sends (leaf fields of CDATA
/// and plain text under `<xml>`) without libxml2 and declines everything else, which libxml2
/// then parses as below.
///
/// **No tree.** The parser's SAX2 element and character handlers are this reader's own: they
/// collect the fields as the end tags arrive, so no DOM is built and freed per call (perf, S7:
/// two parses per safe-mode callback, libxml2 ≈15 µs of the broker's ≈131 µs per message with
/// the tree). The result, and which error wins when several apply, are the tree walk's.
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
        // The flat shape WeChat sends, read without libxml2; anything else goes to libxml2.
        if let flat = WeChatFlatXML.read(bytes) { return flat }
        return try parsedWithLibxml2(bytes, maxDepth: maxDepth)
    }

    /// libxml2's reading of checked bytes (size, NUL, UTF-8): the whole of XML, refusals included.
    static func parsedWithLibxml2(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(WeChatXMLError) -> [String: String] {
        _ = libraryInitialized
        guard let ctxt = xmlNewParserCtxt() else { throw .notWellFormed("libxml2 could not allocate a parser") }
        defer { xmlFreeParserCtxt(ctxt) }
        let state = UnsafeMutablePointer<ParseState>.allocate(capacity: 1)
        state.initialize(to: ParseState(maxDepth: maxDepth))
        defer {
            state.deinitialize(count: 1)
            state.deallocate()
        }
        ctxt.pointee._private = UnsafeMutableRawPointer(state)
        let sax = ctxt.pointee.sax!
        sax.pointee.internalSubset = { context, _, _, _ in
            WeChatXML.stopAtDoctype(context)
        }
        // Unreachable once the DOCTYPE stops the parser; kept so an entity declaration can
        // never be recorded even if that changed.
        sax.pointee.entityDecl = { context, _, _, _, _, _ in
            WeChatXML.stopAtDoctype(context)
        }
        sax.pointee.serror = { context, error in
            WeChatXML.record(context, error)
        }
        // No tree: these replace libxml2's tree-building SAX2 handlers (the document node that
        // `startDocument` creates stays empty). Comments and processing instructions are dropped.
        sax.pointee.startElementNs = { context, localname, prefix, uri, _, _, _, _, _ in
            WeChatXML.state(context)?.pointee.start(localname: localname, prefix: prefix, uri: uri)
        }
        sax.pointee.endElementNs = { context, _, _, _ in
            WeChatXML.state(context)?.pointee.end()
        }
        sax.pointee.characters = { context, chars, count in
            WeChatXML.state(context)?.pointee.append(chars, count)
        }
        // The same pointer as `characters`, so libxml2 never classifies whitespace as ignorable.
        sax.pointee.ignorableWhitespace = sax.pointee.characters
        sax.pointee.cdataBlock = sax.pointee.characters
        sax.pointee.reference = { context, _ in
            WeChatXML.state(context)?.pointee.fail(.entityForbidden)
        }
        sax.pointee.comment = nil
        sax.pointee.processingInstruction = nil

        // UTF-8 without a converter: `XML_PARSE_IGNORE_ENC` makes libxml2 skip the declaration's
        // `encoding="…"`, and the bytes, checked above to be UTF-8 without NUL, can only be
        // detected as UTF-8 (UTF-16/32 and EBCDIC signatures need NUL bytes or bytes invalid in
        // UTF-8). Naming "UTF-8" instead ran the input through libxml2's UTF-8 → UTF-8 converter,
        // a lookup and a copy per parse (perf, S7).
        let options = Int32(bitPattern: XML_PARSE_NONET.rawValue | XML_PARSE_NOCDATA.rawValue | XML_PARSE_NOERROR.rawValue
                                | XML_PARSE_NOWARNING.rawValue | XML_PARSE_IGNORE_ENC.rawValue)
        let doc = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                xmlCtxtReadMemory(ctxt, chars.baseAddress, Int32(chars.count), nil, nil, options)
            }
        }
        defer { if let doc { xmlFreeDoc(doc) } }
        // The same order of checks as when this read a tree: well-formedness, DOCTYPE, root, then
        // the first problem the walk in document order met.
        if state.pointee.sawDoctype { throw .doctypeForbidden }
        guard ctxt.pointee.wellFormed != 0 else {
            throw .notWellFormed(state.pointee.firstError ?? "libxml2 refused the document")
        }
        if let doc { guard doc.pointee.intSubset == nil, doc.pointee.extSubset == nil else { throw .doctypeForbidden } }
        guard let rootName = state.pointee.rootName else { throw .notWellFormed("no root element") }
        guard rootName == "xml" else { throw .wrongRoot(rootName) }
        if let problem = state.pointee.problem { throw problem }
        return state.pointee.fields
    }

    // MARK: SAX state

    /// One open element below the root.
    private struct Frame {
        /// The dotted path from the root's child down to this element.
        var key: String
        var hasElementChildren = false
    }

    /// What the callbacks of one parse found, reached through `ctxt->_private`. The fields are
    /// collected as the elements close: an element is a leaf when no child element started
    /// before its end tag, and a leaf has no element between its tags, so the first problem
    /// recorded is the first a preorder walk of the tree would meet.
    private struct ParseState {
        let maxDepth: Int
        var sawDoctype = false
        var firstError: String?
        var rootName: String?
        /// Open elements below the root (the root itself is depth 1 and not a frame).
        var frames: [Frame] = []
        /// The character data since the last start tag: a leaf's text when it closes.
        var text: [UInt8] = []
        var fields: [String: String] = [:]
        var problem: WeChatXMLError?
        /// Elements deeper than `maxDepth` are being skipped (libxml2 caps the nesting at 256).
        var skippedDepth = 0

        init(maxDepth: Int) {
            self.maxDepth = maxDepth
            frames.reserveCapacity(maxDepth)
            text.reserveCapacity(256)
        }

        mutating func fail(_ error: WeChatXMLError) {
            if problem == nil { problem = error }
        }

        mutating func start(localname: UnsafePointer<xmlChar>?, prefix: UnsafePointer<xmlChar>?, uri: UnsafePointer<xmlChar>?) {
            if skippedDepth > 0 || problem != nil {
                skippedDepth += 1
                return
            }
            // A prefix without a namespace keeps its `prefix:` in the name, as libxml2's tree does.
            var name = localname.map { String(cString: $0) } ?? ""
            if let prefix, uri == nil { name = String(cString: prefix) + ":" + name }
            guard rootName != nil else {
                rootName = name
                return
            }
            if !frames.isEmpty { frames[frames.count - 1].hasElementChildren = true }
            guard frames.count + 2 <= maxDepth else {
                fail(.tooDeep(limit: maxDepth))
                skippedDepth = 1
                return
            }
            let key = frames.last.map { $0.key + "." + name } ?? name
            frames.append(Frame(key: key))
            text.removeAll(keepingCapacity: true)
        }

        mutating func end() {
            if skippedDepth > 0 {
                skippedDepth -= 1
                return
            }
            guard let frame = frames.popLast() else { return }  // the root's end tag
            guard !frame.hasElementChildren else { return }
            if fields[frame.key] == nil {
                fields[frame.key] = String(decoding: text, as: UTF8.self)
            } else if frames.isEmpty {
                fail(.duplicateField(frame.key))
            }
        }

        mutating func append(_ chars: UnsafePointer<xmlChar>?, _ count: Int32) {
            guard let chars, count > 0, skippedDepth == 0 else { return }
            text.append(contentsOf: UnsafeBufferPointer(start: chars, count: Int(count)))
        }
    }

    // MARK: libxml2 callbacks (per parser context)

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
