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
        try cursor.object { (key, value) throws(JSONFailure) in
            switch key {
            case "_id": id = try value.identifier(field: "_id")
            case "title": title = try value.optionalString(field: key) ?? ""
            case "text": text = try value.optionalString(field: key) ?? ""
            default: try value.skipValue()
            }
        }
        try cursor.expectEnd()
        guard let id else { throw JSONFailure(message: "missing", field: "_id") }
        return (id, [title, text].filter { !$0.isEmpty }.joined(separator: " "))
    }
}
