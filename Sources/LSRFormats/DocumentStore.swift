import CSQLite
import Foundation
import LSRVectors

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

private let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

/// The document store of an index: external ids and optional text by internal position, in SQLite.
///
/// Table `documents(position INTEGER PRIMARY KEY, id TEXT NOT NULL, content TEXT)` and, made
/// after the rows, `UNIQUE INDEX documents_id ON documents(id)` (`Documentation/IndexFormat.md`).
package enum DocumentStoreSchema {
    public static let fileName = "documents.sqlite"
}

/// Writes the document store during a build, in one transaction.
package final class DocumentStoreWriter {
    private var database: OpaquePointer?
    private var insert: OpaquePointer?
    public let path: String

    public init(path: String) throws {
        self.path = path
        guard sqlite3_open_v2(path, &database, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil) == SQLITE_OK else {
            defer { sqlite3_close(database) }
            throw LSRError(.documentStore, "cannot create: \(String(cString: sqlite3_errmsg(database)))", path: path)
        }
        try execute("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA page_size=8192;")
        try execute("CREATE TABLE documents(position INTEGER PRIMARY KEY, id TEXT NOT NULL, content TEXT); BEGIN;")
        guard sqlite3_prepare_v2(database, "INSERT INTO documents(position, id, content) VALUES (?, ?, ?)", -1, &insert, nil) == SQLITE_OK else {
            throw failure("cannot prepare the insert")
        }
    }

    deinit {
        sqlite3_finalize(insert)
        sqlite3_close(database)
    }

    /// Stores one document.
    public func add(position: Int, id: String, content: String?) throws {
        sqlite3_reset(insert)
        sqlite3_bind_int64(insert, 1, Int64(position))
        sqlite3_bind_text(insert, 2, id, -1, transient)
        if let content { sqlite3_bind_text(insert, 3, content, -1, transient) } else { sqlite3_bind_null(insert, 3) }
        guard sqlite3_step(insert) == SQLITE_DONE else { throw failure("cannot insert document '\(id)'") }
    }

    /// Commits, builds the id index and closes the database.
    public func finish() throws {
        try execute("COMMIT; CREATE UNIQUE INDEX documents_id ON documents(id);")
        sqlite3_finalize(insert)
        insert = nil
        guard sqlite3_close(database) == SQLITE_OK else { throw failure("cannot close") }
        database = nil
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }

    private func execute(_ sql: String) throws {
        guard sqlite3_exec(database, sql, nil, nil, nil) == SQLITE_OK else { throw failure("statement failed") }
    }

    private func failure(_ what: String) -> LSRError {
        LSRError(.documentStore, "\(what): \(String(cString: sqlite3_errmsg(database)))", path: path)
    }
}

/// Reads external ids and text from a document store; safe to share between threads (calls are
/// serialized on one read-only connection).
public final class DocumentStoreReader: @unchecked Sendable {
    // @unchecked Sendable: every use of the connection and statements holds `lock`.
    private var database: OpaquePointer?
    private var selectByPosition: OpaquePointer?
    private var selectByID: OpaquePointer?
    private let lock = NSLock()
    /// The store file (`documents.sqlite` in an index directory).
    public let path: String
    /// Number of documents in the store.
    public let count: Int

    /// Opens the store at `path` read-only.
    /// - Throws: `LSRError.documentStore` when the file is missing, cannot be opened, or is not an lsr
    ///   document store.
    public init(path: String) throws {
        self.path = path
        guard access(path, R_OK) == 0 else {
            throw LSRError(.documentStore, "missing document store; the index directory is incomplete, rebuild it", path: path)
        }
        var database: OpaquePointer?
        // immutable=1: a built store is never written again (a rebuild renames a new file into
        // place), so SQLite may skip its file locks and change checks, two system calls per
        // lookup otherwise.
        let flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI
        guard sqlite3_open_v2(Self.immutableURI(path), &database, flags, nil) == SQLITE_OK else {
            let message = String(cString: sqlite3_errmsg(database))
            sqlite3_close(database)
            throw LSRError(.documentStore, "cannot open: \(message)", path: path)
        }
        self.database = database
        var countStatement: OpaquePointer?
        defer { sqlite3_finalize(countStatement) }
        guard sqlite3_prepare_v2(database, "SELECT count(*) FROM documents", -1, &countStatement, nil) == SQLITE_OK,
              sqlite3_step(countStatement) == SQLITE_ROW,
              sqlite3_prepare_v2(database, "SELECT id, content FROM documents WHERE position = ?", -1, &selectByPosition, nil) == SQLITE_OK,
              sqlite3_prepare_v2(database, "SELECT position FROM documents WHERE id = ?", -1, &selectByID, nil) == SQLITE_OK
        else {
            let message = String(cString: sqlite3_errmsg(database))
            sqlite3_finalize(selectByPosition)
            sqlite3_finalize(selectByID)
            sqlite3_close(database)
            throw LSRError(.documentStore, "not a valid lsr document store: \(message)", path: path)
        }
        count = Int(sqlite3_column_int64(countStatement, 0))
    }

    /// A SQLite URI opening `path` read-only and immutable (`%`, `?` and `#` percent-encoded;
    /// an absolute path gets an empty authority, so a leading `//` stays part of the path).
    static func immutableURI(_ path: String) -> String {
        var bytes = Array((path.hasPrefix("/") ? "file://" : "file:").utf8)
        for byte in path.utf8 {
            if byte == UInt8(ascii: "%") || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#") {
                bytes += Array("%\(String(byte, radix: 16, uppercase: true))".utf8)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self) + "?mode=ro&immutable=1"
    }

    deinit {
        sqlite3_finalize(selectByPosition)
        sqlite3_finalize(selectByID)
        sqlite3_close(database)
    }

    /// The external id and text of the document at `position`.
    /// - Throws: `LSRError.documentStore` when the store has no such row.
    public func document(at position: Int) throws -> (id: String, content: String?) {
        try lock.withLock {
            sqlite3_reset(selectByPosition)
            sqlite3_bind_int64(selectByPosition, 1, Int64(position))
            guard sqlite3_step(selectByPosition) == SQLITE_ROW, let idText = sqlite3_column_text(selectByPosition, 0) else {
                throw LSRError(.documentStore, "no document at position \(position)", path: path)
            }
            let id = String(cString: idText)
            let content = sqlite3_column_text(selectByPosition, 1).map { String(cString: $0) }
            return (id, content)
        }
    }

    /// Runs SQLite's integrity check over the whole store.
    /// - Returns: SQLite's findings; empty when the store is intact.
    public func integrityProblems() -> [String] {
        lock.withLock {
            var statement: OpaquePointer?
            defer { sqlite3_finalize(statement) }
            guard sqlite3_prepare_v2(database, "PRAGMA integrity_check", -1, &statement, nil) == SQLITE_OK else {
                return [String(cString: sqlite3_errmsg(database))]
            }
            var problems: [String] = []
            while true {
                let step = sqlite3_step(statement)
                guard step == SQLITE_ROW else {
                    if step != SQLITE_DONE { problems.append(String(cString: sqlite3_errmsg(database))) }
                    break
                }
                let line = sqlite3_column_text(statement, 0).map { String(cString: $0) } ?? ""
                if line != "ok" { problems.append(line) }
            }
            return problems
        }
    }

    /// A cursor over every external id (as UTF-8 bytes) in ascending byte order, the order of
    /// the store's id index: for checks across stores (a sharded collection's ids are distinct)
    /// in bounded memory.
    /// - Throws: `LSRError.documentStore` when the store cannot be read.
    package func idsInByteOrder() throws -> DocumentIDCursor { try DocumentIDCursor(self) }

    /// Prepares `sql` on the store's connection.
    fileprivate func prepare(_ sql: String) throws -> OpaquePointer? {
        try lock.withLock {
            var statement: OpaquePointer?
            guard sqlite3_prepare_v2(database, sql, -1, &statement, nil) == SQLITE_OK else {
                let message = String(cString: sqlite3_errmsg(database))
                sqlite3_finalize(statement)
                throw LSRError(.documentStore, "cannot read the ids: \(message)", path: path)
            }
            return statement
        }
    }

    /// Finalizes `statement` under the connection's lock.
    fileprivate func finalize(_ statement: OpaquePointer?) {
        lock.withLock { _ = sqlite3_finalize(statement) }
    }

    /// Steps `statement` under the connection's lock: its first column's bytes, or nil at the end.
    fileprivate func step(_ statement: OpaquePointer?) throws -> [UInt8]? {
        try lock.withLock {
            switch sqlite3_step(statement) {
            case SQLITE_ROW:
                guard let text = sqlite3_column_text(statement, 0) else { return [] }
                return Array(UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(statement, 0))))
            case SQLITE_DONE:
                return nil
            default:
                throw LSRError(.documentStore, "cannot read the ids: \(String(cString: sqlite3_errmsg(database)))", path: path)
            }
        }
    }

    /// The position of the document with external id `id`, or nil.
    public func position(of id: String) -> Int? {
        lock.withLock {
            sqlite3_reset(selectByID)
            sqlite3_bind_text(selectByID, 1, id, -1, transient)
            guard sqlite3_step(selectByID) == SQLITE_ROW else { return nil }
            return Int(sqlite3_column_int64(selectByID, 0))
        }
    }
}

/// The external ids of a document store in ascending byte order, one at a time
/// (``DocumentStoreReader/idsInByteOrder()``).
package final class DocumentIDCursor {
    private let store: DocumentStoreReader
    private let statement: OpaquePointer?

    fileprivate init(_ store: DocumentStoreReader) throws {
        self.store = store
        statement = try store.prepare("SELECT id FROM documents ORDER BY id")
    }

    deinit { store.finalize(statement) }

    /// The next id's UTF-8 bytes, or nil after the last.
    /// - Throws: `LSRError.documentStore` when the store cannot be read.
    package func next() throws -> [UInt8]? { try store.step(statement) }
}
