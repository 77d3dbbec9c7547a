/// The one error type thrown by every lsr module.
///
/// An error carries a stable ``Code`` to branch on, a message that says what is wrong and how to fix
/// it, and where it happened: the file, and inside it the line (text formats) or byte offset
/// (binary formats), and the field when one is known.
public struct LSRError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A stable error category. New codes may be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String, Sendable {
            case invalidInput, io, compression, corruptIndex, unsupportedVersion
            case invalidArgument, outputExists, documentStore
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// An input file (vectors, ids, vocabulary, queries) is malformed.
        public static let invalidInput = Code(.invalidInput)
        /// A file could not be opened, read, written or renamed.
        public static let io = Code(.io)
        /// A zstd stream is corrupt or truncated.
        public static let compression = Code(.compression)
        /// An index file fails a structural or checksum check.
        public static let corruptIndex = Code(.corruptIndex)
        /// An index was written by a format version this build cannot read.
        public static let unsupportedVersion = Code(.unsupportedVersion)
        /// A parameter is out of its valid range.
        public static let invalidArgument = Code(.invalidArgument)
        /// The output path already holds an index and overwriting was not requested.
        public static let outputExists = Code(.outputExists)
        /// The SQLite document store failed.
        public static let documentStore = Code(.documentStore)

        public var description: String { value.rawValue }
    }

    /// The error category, for callers to branch on.
    public var code: Code
    /// What is wrong and, where possible, how to fix it (without the location).
    public var message: String
    /// The file the error is about, when there is one.
    public var path: String?
    /// The 1-based line number in a text file.
    public var line: Int?
    /// The byte offset in a binary file.
    public var byteOffset: Int?
    /// The field (JSON key, column, section) at fault.
    public var field: String?

    /// An error of category `code` with `message`, and as much of its location as is known.
    public init(
        _ code: Code, _ message: String, path: String? = nil, line: Int? = nil,
        byteOffset: Int? = nil, field: String? = nil
    ) {
        self.code = code
        self.message = message
        self.path = path
        self.line = line
        self.byteOffset = byteOffset
        self.field = field
    }

    /// `path:line: field 'x': message`, leaving out what is unknown.
    public var description: String {
        var location = ""
        if let path { location = path }
        if let line { location += location.isEmpty ? "line \(line)" : ":\(line)" }
        if let byteOffset { location += location.isEmpty ? "byte \(byteOffset)" : " (byte \(byteOffset))" }
        var text = location.isEmpty ? "" : location + ": "
        if let field { text += "field '\(field)': " }
        return text + message
    }

    /// The same error with a file path filled in when it had none.
    public func at(path: String) -> LSRError {
        var copy = self
        if copy.path == nil { copy.path = path }
        return copy
    }
}
