import LSRVectors

/// Reads the text of a BEIR `corpus.jsonl` (`_id`, `title`, `text`) or `queries.jsonl` (`_id`,
/// `text`), plain or zstd-compressed.
public enum BEIRTextFile {
    /// Text by id: the title and the text joined by a space (either may be missing or empty).
    /// - Throws: `LSRError.invalidInput` naming the file, line and field of a malformed record
    ///   or a repeated id.
    public static func read(path: String) throws -> [String: String] {
        var texts: [String: String] = [:]
        var lines = LineReader(stream: try openByteStream(path))
        while try lines.nextLine({ bytes, line -> Bool in
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return true }
            do throws(JSONFailure) {
                let (id, text) = try parse(bytes)
                guard texts.updateValue(text, forKey: id) == nil else {
                    throw JSONFailure(message: "duplicate id '\(id)'", field: "_id")
                }
            } catch {
                throw LSRError(.invalidInput, error.message, path: path, line: line, field: error.field)
            }
            return true
        }) != nil {}
        return texts
    }

    private static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONFailure) -> (String, String) {
        var cursor = JSONCursor(bytes)
        var id: String?, title = "", text = ""
        try cursor.expect(UInt8(ascii: "{"), "a JSON object")
        if !cursor.consume(UInt8(ascii: "}")) {
            repeat {
                let key = try cursor.string()
                try cursor.expect(UInt8(ascii: ":"), "':'")
                switch key {
                case "_id":
                    if cursor.peek() == UInt8(ascii: "\"") {
                        id = try cursor.string()
                    } else {
                        let number = try cursor.numberToken()
                        guard number.isInteger else { throw JSONFailure(message: "must be a string or an integer", field: "_id") }
                        id = cursor.text(number.range)
                    }
                case "title", "text":
                    var value = ""
                    if !cursor.consumeWord("null") {
                        guard cursor.peek() == UInt8(ascii: "\"") else { throw JSONFailure(message: "must be a string", field: key) }
                        value = try cursor.string()
                    }
                    if key == "title" { title = value } else { text = value }
                default:
                    try cursor.skipValue()
                }
            } while cursor.consume(UInt8(ascii: ","))
            try cursor.expect(UInt8(ascii: "}"), "',' or '}'")
        }
        cursor.skipWhitespace()
        guard cursor.atEnd else { throw cursor.failure("expected the end of the line after the object") }
        guard let id else { throw JSONFailure(message: "missing", field: "_id") }
        return (id, [title, text].filter { !$0.isEmpty }.joined(separator: " "))
    }
}
