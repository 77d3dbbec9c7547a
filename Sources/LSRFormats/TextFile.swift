import LSRVectors

/// One text of a text file: its id, its text and where it was.
public struct TextRecord: Sendable {
    /// The record's id (its `_id` or `id` field: a non-empty string, or an integer's digits).
    public var id: String
    /// The text to encode: a BEIR record's title and text joined by a space (either may be
    /// missing or empty), or a Seismic record's `content`.
    public var text: String
    /// Position among the file's records (blank lines are not records), from 0.
    public var position: Int
    /// Line number, from 1.
    public var line: Int
}

/// Streams the texts of a JSONL file, plain or zstd-compressed, in file order: BEIR
/// `corpus.jsonl` / `queries.jsonl` records (`_id`, `title`, `text`) or Seismic records (`id`,
/// `content`). Other fields are ignored; blank lines are skipped.
public struct TextFileReader: Sendable {
    /// The JSONL file, plain or zstd-compressed.
    public let path: String
    /// Reject a repeated id (the default, for documents and queries; `lsr encode` and
    /// `lsr tokenize` take any lines).
    public let requireUniqueIDs: Bool

    /// A reader of `path`; nothing is opened until ``forEach(_:)``.
    public init(path: String, requireUniqueIDs: Bool = true) {
        self.path = path
        self.requireUniqueIDs = requireUniqueIDs
    }

    /// Calls `body` with every record in file order.
    /// - Throws: `LSRError.invalidInput` naming the file, line and field of a malformed record
    ///   (no id, a non-string text, a `vector` field: a vector file is not a text file) or a
    ///   repeated id; I/O errors; whatever `body` throws.
    public func forEach(_ body: (TextRecord) throws -> Void) throws {
        var lines = LineReader(stream: try openByteStream(path))
        var seen = Set<String>()
        var position = 0
        while try lines.nextLine({ bytes, line -> Bool in
            if TextFileReader.isBlank(bytes) { return true }
            let record: TextRecord
            do throws(JSONFailure) {
                let (id, idField, text) = try TextFileReader.parse(bytes)
                if requireUniqueIDs && !seen.insert(id).inserted {
                    throw JSONFailure(message: "duplicate id '\(id)'", field: idField)
                }
                record = TextRecord(id: id, text: text, position: position, line: line)
            } catch {
                throw LSRError(.invalidInput, error.message, path: path, line: line, field: error.field)
            }
            position += 1
            try body(record)
            return true
        }) != nil {}
    }

    /// Whether the first record of the JSONL file at `path` is text (it has no `vector` field),
    /// so that a query file can be either text or vectors. A binary file, an empty file or a
    /// first record that is not a JSON object count as not text (the vector reader then reports
    /// what is wrong).
    public static func holdsText(path: String) throws -> Bool {
        guard VectorFileFormat.detect(path: path) == .jsonl else { return false }
        var lines = LineReader(stream: try openByteStream(path))
        var answer: Bool?
        while answer == nil, try lines.nextLine({ bytes, _ -> Bool in
            if TextFileReader.isBlank(bytes) { return true }
            var cursor = JSONCursor(bytes)
            var hasVector = false
            do throws(JSONFailure) {
                try cursor.object { (key, value) throws(JSONFailure) in
                    if key == "vector" { hasVector = true }
                    try value.skipValue()
                }
                answer = !hasVector
            } catch {
                answer = false
            }
            return true
        }) != nil {}
        return answer ?? false
    }

    /// A line of spaces, tabs and carriage returns only.
    private static func isBlank(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }

    /// The record's id, the key it was under, and its text.
    private static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONFailure) -> (String, String, String) {
        var cursor = JSONCursor(bytes)
        guard cursor.peek() == UInt8(ascii: "{") else { throw JSONFailure(message: "a record must be a JSON object") }
        var id: String?, idField = "_id", title = "", text = "", content: String?
        var seen = Set<String>()
        try cursor.object { (key, value) throws(JSONFailure) in
            switch key {
            case "_id", "id", "title", "text", "content":
                guard seen.insert(key).inserted else { throw JSONFailure(message: "duplicate field", field: key) }
            case "vector":
                throw JSONFailure(message: "a vector record where text was expected (give vectors to the command that reads them)", field: key)
            default: break
            }
            switch key {
            case "_id", "id":
                guard id == nil else { throw JSONFailure(message: "both _id and id", field: key) }
                id = try value.identifier(field: key)
                idField = key
            case "title": title = try value.optionalString(field: key) ?? ""
            case "text": text = try value.optionalString(field: key) ?? ""
            case "content": content = try value.optionalString(field: key) ?? ""
            default: try value.skipValue()
            }
        }
        try cursor.expectEnd()
        guard let id else { throw JSONFailure(message: "missing (a text record needs _id or id)", field: "_id") }
        if let content {
            guard title.isEmpty && text.isEmpty else {
                throw JSONFailure(message: "both content and title/text: which one is the text?", field: "content")
            }
            return (id, idField, content)
        }
        return (id, idField, title.isEmpty ? text : text.isEmpty ? title : title + " " + text)
    }
}

/// Reads the text of a BEIR `corpus.jsonl` or `queries.jsonl` (or Seismic JSONL with
/// `content`), plain or zstd-compressed, into a dictionary.
package enum BEIRTextFile {
    /// Text by id (see ``TextRecord/text``).
    /// - Throws: `LSRError.invalidInput` naming the file, line and field of a malformed record
    ///   or a repeated id.
    public static func read(path: String) throws -> [String: String] {
        var texts: [String: String] = [:]
        try TextFileReader(path: path).forEach { texts[$0.id] = $0.text }
        return texts
    }
}
