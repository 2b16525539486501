/// Strict UTF-8 decoding. `String(decoding:as:)` silently replaces invalid sequences with U+FFFD;
/// a webhook whose text is not UTF-8 must be refused instead (DESIGN §11: bad input gets a clear
/// error and changes nothing), so this decodes or returns nil.
enum UTF8Text {
    static func decode(_ bytes: some Collection<UInt8>) -> String? {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var scalars = String.UnicodeScalarView()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): scalars.append(scalar)
            case .emptyInput: return String(scalars)
            case .error: return nil
            }
        }
    }
}
