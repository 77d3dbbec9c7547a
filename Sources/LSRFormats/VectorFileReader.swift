import CLSRKernels
import LSRVectors

/// Streams the sparse vectors of a Seismic JSONL or binary file, plain or zstd-compressed.
///
/// Each record's tokens are numbered in the reader's own token table, ``tokens``: by vocabulary
/// line for binary input with a vocabulary, else in order of first appearance (a binary component
/// id is then named by its decimal digits, so any u32 id works without a table that large).
/// Every value is checked: weights must be finite, positive numbers that fit a `Float`; zero
/// weights are dropped; ids must be unique.
public final class VectorFileReader {
    /// The file being read.
    public let path: String
    /// The file's format.
    public let format: VectorFileFormat
    /// Token strings by the reader's component id.
    public private(set) var tokens: [String] = []
    /// For binary input, whether ``tokens`` came from a vocabulary file (else they are the
    /// decimal component ids); nil for JSONL.
    public private(set) var binaryComponentsNamedByVocabulary: Bool?
    /// For binary input read without a vocabulary, the binary component id of each reader
    /// component (the reader numbers components in order of first appearance).
    public private(set) var sourceComponentIDs: [UInt32] = []
    /// Number of empty lines skipped in JSONL input.
    public private(set) var skippedEmptyLines = 0
    /// Number of entries dropped because their weight was zero.
    public private(set) var droppedZeroWeights = 0

    private let idsPath: String?
    private var tokenIDs: [String: UInt32] = [:]
    private var sourceNumbering = SourceNumbering()
    /// The vector count a binary file declares in its header, once reading has started.
    public private(set) var declaredCount: Int?
    private var seenIDs = Set<String>()
    private let checksDuplicateIDs: Bool

    /// - Parameters:
    ///   - path: the vector file.
    ///   - format: its format; detected from the name when nil.
    ///   - idsPath: for binary input, a file with one external id per line.
    ///   - vocabularyPath: for binary input, a file whose line `i` (0-based) names component `i`.
    ///   - requireUniqueIDs: reject a repeated id (the default, for documents and queries alike).
    /// - Throws: `LSRError` when the vocabulary file cannot be read.
    public init(
        path: String, format: VectorFileFormat? = nil, idsPath: String? = nil,
        vocabularyPath: String? = nil, requireUniqueIDs: Bool = true
    ) throws {
        self.path = path
        self.format = format ?? VectorFileFormat.detect(path: path)
        self.idsPath = idsPath
        self.checksDuplicateIDs = requireUniqueIDs
        if let vocabularyPath {
            let lines = try readLines(vocabularyPath)
            var seen: [String: Int] = [:]
            for (i, token) in lines.enumerated() {
                if let earlier = seen[token] {
                    throw LSRError(.invalidInput, "token '\(token)' already on line \(earlier + 1)", path: vocabularyPath, line: i + 1)
                }
                seen[token] = i
            }
            tokens = lines
            binaryComponentsNamedByVocabulary = true
        }
        if self.format == .jsonl && idsPath != nil {
            throw LSRError(.invalidArgument, "an ids file applies to binary input only; JSONL records carry their ids", path: path)
        }
    }

    /// Reads every record in file order and hands it to `body`. Each call reads the file anew
    /// (a sharded build reads it once per shard): the counts and the duplicate-id check start
    /// over, and component ids stay those of the first read for tokens seen before.
    /// - Parameter sortingComponents: give each record's components in ascending order (else in
    ///   an unspecified order, for a caller that renumbers and sorts them anyway).
    /// - Throws: `LSRError` naming the file, line or byte offset, and field of the first bad input,
    ///   or whatever `body` throws.
    public func forEach(sortingComponents: Bool = true, _ body: (borrowing VectorRecord) throws -> Void) throws {
        seenIDs.removeAll(keepingCapacity: true)
        skippedEmptyLines = 0
        droppedZeroWeights = 0
        do {
            switch format {
            case .jsonl: try readJSONL(sorting: sortingComponents, body)
            case .binary: try readBinary(sorting: sortingComponents, body)
            }
        } catch let error as LSRError {
            throw error.at(path: path)
        }
    }

    // MARK: JSONL

    private func readJSONL(sorting: Bool, _ body: (borrowing VectorRecord) throws -> Void) throws {
        var lines = LineReader(stream: try openByteStream(path))
        var record = VectorRecord(id: "", position: 0)
        var sortKeys: [UInt64] = []
        var position = 0
        while true {
            let more = try lines.nextLine { (line, lineNumber) -> Bool in
                if isBlank(line) {
                    skippedEmptyLines += 1
                    return true
                }
                do throws(JSONFailure) {
                    try parseJSONLine(line, into: &record, sorting: sorting, sortKeys: &sortKeys)
                } catch {
                    throw LSRError(.invalidInput, error.message, path: path, line: lineNumber, field: error.field)
                }
                record.position = position
                record.line = lineNumber
                try checkUnique(record.id, line: lineNumber, path: path)
                try body(record)
                position += 1
                return true
            }
            if more == nil { break }
        }
    }

    private func isBlank(_ line: UnsafeRawBufferPointer) -> Bool {
        line.allSatisfy { $0 == 0x20 || $0 == 0x09 }
    }

    private func parseJSONLine(
        _ line: UnsafeRawBufferPointer, into record: inout VectorRecord, sorting: Bool, sortKeys: inout [UInt64]
    ) throws(JSONFailure) {
        var cursor = JSONCursor(line)
        var id: String?
        var content: String?
        var sawVector = false
        var sawContent = false
        record.components.removeAll(keepingCapacity: true)
        record.values.removeAll(keepingCapacity: true)
        guard cursor.peek() == UInt8(ascii: "{") else {
            throw JSONFailure(message: cursor.atEnd ? "empty record" : "a record must be a JSON object")
        }
        try cursor.object { (key, value) throws(JSONFailure) in
            switch key {
            case "id":
                guard id == nil else { throw JSONFailure(message: "duplicate field", field: "id") }
                id = try value.identifier(field: "id")
            case "content":
                guard !sawContent else { throw JSONFailure(message: "duplicate field", field: "content") }
                sawContent = true
                content = try value.optionalString(field: "content")
            case "vector":
                guard !sawVector else { throw JSONFailure(message: "duplicate field", field: "vector") }
                sawVector = true
                try parseVector(&value, into: &record)
            default:
                try value.skipValue()
            }
        }
        try cursor.expectEnd()
        guard let id else { throw JSONFailure(message: "missing", field: "id") }
        guard sawVector else { throw JSONFailure(message: "missing", field: "vector") }
        record.id = id
        record.content = content
        if sorting { Self.sortByComponent(&record, keys: &sortKeys) }
    }

    private func parseVector(_ cursor: inout JSONCursor, into record: inout VectorRecord) throws(JSONFailure) {
        guard cursor.peek() == UInt8(ascii: "{") else {
            throw JSONFailure(message: "must be an object of token: weight", field: "vector")
        }
        cursor.index += 1
        if cursor.consume(UInt8(ascii: "}")) { return }
        var seenInRecord = Set<UInt32>()
        repeat {
            let token = try cursor.string()
            try cursor.expect(UInt8(ascii: ":"), "':'")
            let field = "vector." + token
            let weight: Double
            switch cursor.peek() {
            case UInt8(ascii: "-") where cursor.consumeWord("-Infinity"):
                throw JSONFailure(message: "weight is -Infinity; weights must be finite and positive", field: field)
            case .some(UInt8(ascii: "-")), .some(UInt8(ascii: "0") ... UInt8(ascii: "9")):
                let number = try cursor.numberToken()
                weight = cursor.doubleValue(number)
            case UInt8(ascii: "N") where cursor.consumeWord("NaN"):
                throw JSONFailure(message: "weight is NaN; weights must be finite and positive", field: field)
            case UInt8(ascii: "I") where cursor.consumeWord("Infinity"):
                throw JSONFailure(message: "weight is Infinity; weights must be finite and positive", field: field)
            case UInt8(ascii: "\""):
                throw JSONFailure(message: "weight is a string; weights must be numbers", field: field)
            default:
                throw JSONFailure(message: "weight must be a number", field: field)
            }
            let value = try checkedWeight(weight, field: field)
            let component = componentID(token)
            guard seenInRecord.insert(component).inserted else {
                throw JSONFailure(message: "token appears twice in one vector", field: field)
            }
            if value == 0 {
                droppedZeroWeights += 1
            } else {
                record.components.append(component)
                record.values.append(value)
            }
        } while cursor.consume(UInt8(ascii: ","))
        try cursor.expect(UInt8(ascii: "}"), "',' or '}'")
    }

    private func checkedWeight(_ weight: Double, field: String) throws(JSONFailure) -> Float {
        guard weight.isFinite, weight <= Double(Float.greatestFiniteMagnitude) else {
            throw JSONFailure(message: "weight \(weight) is too large for Float32", field: field)
        }
        guard weight >= 0 else {
            throw JSONFailure(message: "weight \(weight) is negative; weights must be positive", field: field)
        }
        return Float(weight)
    }

    private func componentID(_ token: String) -> UInt32 {
        if let id = tokenIDs[token] { return id }
        let id = UInt32(tokens.count)
        tokens.append(token)
        tokenIDs[token] = id
        return id
    }

    private func checkUnique(_ id: String, line: Int, path: String) throws {
        guard checksDuplicateIDs else { return }
        guard seenIDs.insert(id).inserted else {
            throw LSRError(.invalidInput, "duplicate id '\(id)'", path: path, line: line, field: "id")
        }
    }

    // MARK: Binary

    private func readBinary(sorting: Bool, _ body: (borrowing VectorRecord) throws -> Void) throws {
        var input = BinaryInput(stream: try openByteStream(path))
        guard let count = try input.readUInt32() else {
            throw LSRError(.invalidInput, "empty file: expected a u32 vector count", path: path, byteOffset: 0)
        }
        declaredCount = Int(count)
        let ids = try idsPath.map { (p) in try readLines(p) }
        if let ids, ids.count != Int(count), let idsPath {
            throw LSRError(
                .invalidInput, "the ids file has \(ids.count) lines but the vector file has \(count) vectors",
                path: idsPath)
        }
        if checksDuplicateIDs, let ids { seenIDs.reserveCapacity(ids.count) }
        if binaryComponentsNamedByVocabulary == nil { binaryComponentsNamedByVocabulary = false }
        let named = binaryComponentsNamedByVocabulary == true
        var record = VectorRecord(id: "", position: 0)
        var components: [UInt32] = []
        var values: [Float] = []
        var sortKeys: [UInt64] = []
        // A local copy: no exclusivity checks on a class property per nonzero (the body may
        // call `sourceComponent(of:)`, which reads `sourceComponentIDs`, not this).
        var numbering = sourceNumbering
        sourceNumbering = SourceNumbering()
        defer { sourceNumbering = numbering }
        for position in 0 ..< Int(count) {
            let start = input.offset
            guard let nnz = try input.readUInt32() else {
                throw LSRError(
                    .invalidInput, "truncated: the header declares \(count) vectors but the file ends after \(position)",
                    path: path, byteOffset: start)
            }
            components.removeAll(keepingCapacity: true)
            values.removeAll(keepingCapacity: true)
            try input.readUInt32s(Int(nnz), into: &components, what: "vector \(position) (nnz \(nnz)): components")
            try input.readFloat32s(Int(nnz), into: &values, what: "vector \(position) (nnz \(nnz)): values")
            let n = Int(nnz)
            if let j = Self.firstInvalidEntry(components, values, componentLimit: named ? tokens.count : nil) {
                let component = components[j], value = values[j]
                let offset = start + 4 + 4 * j, valueOffset = start + 4 + 4 * n + 4 * j
                if j > 0, component <= components[j - 1] {
                    let previous = components[j - 1]
                    let problem = component == previous ? "duplicate component \(component)" : "components not ascending (\(previous) then \(component))"
                    throw LSRError(.invalidInput, "vector \(position): \(problem)", path: path, byteOffset: offset, field: "components")
                }
                guard value.isFinite else {
                    throw LSRError(.invalidInput, "vector \(position): weight \(value) is not finite", path: path, byteOffset: valueOffset, field: "values")
                }
                guard value >= 0 else {
                    throw LSRError(.invalidInput, "vector \(position): weight \(value) is negative", path: path, byteOffset: valueOffset, field: "values")
                }
                throw LSRError(
                    .invalidInput, "vector \(position): component \(component) is beyond the vocabulary's \(tokens.count) tokens",
                    path: path, byteOffset: offset, field: "components")
            }
            // Drop zero weights and number the components in place, then hand the arrays over.
            var kept = 0
            components.withUnsafeMutableBufferPointer { components in
                values.withUnsafeMutableBufferPointer { values in
                    for j in 0 ..< n {
                        let value = values[j]
                        guard value != 0 else { continue }
                        let component = components[j]
                        var readerComponent = component
                        if !named {
                            let isNew: Bool
                            (readerComponent, isNew) = numbering.number(component, next: UInt32(tokens.count))
                            if isNew {
                                tokens.append(String(component))
                                sourceComponentIDs.append(component)
                            }
                        }
                        components[kept] = readerComponent
                        values[kept] = value
                        kept += 1
                    }
                }
            }
            droppedZeroWeights += n - kept
            components.removeLast(n - kept)
            values.removeLast(n - kept)
            swap(&record.components, &components)
            swap(&record.values, &values)
            // Vocabulary-named components are ascending already.
            if sorting && !named { Self.sortByComponent(&record, keys: &sortKeys) }
            record.id = ids?[position] ?? String(position)
            record.content = nil
            record.position = position
            record.line = nil
            // Without an ids file the ids are the positions: distinct.
            if let idsPath { try checkUnique(record.id, line: position + 1, path: idsPath) }
            try body(record)
        }
        if try input.hasMoreBytes() {
            throw LSRError(.invalidInput, "trailing bytes after the \(count) declared vectors", path: path, byteOffset: input.offset)
        }
    }
}

extension VectorFileReader {
    /// The binary component id a reader component stands for (for binary input).
    public func sourceComponent(of component: UInt32) -> UInt32 {
        binaryComponentsNamedByVocabulary == false ? sourceComponentIDs[Int(component)] : component
    }

    /// The first entry that breaks the binary format's rules (components strictly ascending and
    /// below `componentLimit`, weights finite and not negative), if any.
    static func firstInvalidEntry(_ components: [UInt32], _ values: [Float], componentLimit: Int?) -> Int? {
        let limit = UInt64(componentLimit ?? Int(UInt32.max) + 1)
        return components.withUnsafeBufferPointer { c in
            values.withUnsafeBufferPointer { v in
                var previous: Int64 = -1
                for j in 0 ..< c.count {
                    let component = c[j], value = v[j]
                    // `value >= 0` is false for NaN; infinity fails `isFinite`.
                    guard Int64(component) > previous, UInt64(component) < limit, value >= 0, value.isFinite else { return j }
                    previous = Int64(component)
                }
                return nil
            }
        }
    }

    /// Sorts `record`'s entries by component, through `keys` (scratch): each key is a component
    /// over its weight's bits, and components are distinct within a vector.
    static func sortByComponent(_ record: inout VectorRecord, keys: inout [UInt64]) {
        keys.removeAll(keepingCapacity: true)
        for (component, value) in zip(record.components, record.values) { keys.append(UInt64(component) << 32 | UInt64(value.bitPattern)) }
        keys.withUnsafeMutableBufferPointer { lsr_sort_u64($0.baseAddress, $0.count) }
        for (j, key) in keys.enumerated() {
            record.components[j] = UInt32(truncatingIfNeeded: key >> 32)
            record.values[j] = Float(bitPattern: UInt32(truncatingIfNeeded: key))
        }
    }
}

/// Numbers binary component ids in order of first appearance: a table for ids below 2^22 (every
/// real vocabulary), a dictionary beyond.
struct SourceNumbering {
    private static let directLimit: UInt32 = 1 << 22
    private static let unseen = UInt32.max
    private var direct: [UInt32] = []
    private var overflow: [UInt32: UInt32] = [:]

    /// The number of `source`: its earlier one, or `next` when it is new.
    @inline(__always) mutating func number(_ source: UInt32, next: UInt32) -> (UInt32, isNew: Bool) {
        if source < Self.directLimit, Int(source) < direct.count, direct[Int(source)] != Self.unseen {
            return (direct[Int(source)], false)
        }
        return add(source, next: next)
    }

    private mutating func add(_ source: UInt32, next: UInt32) -> (UInt32, isNew: Bool) {
        if source < Self.directLimit {
            if Int(source) >= direct.count {
                let grown = min(max(Int(source) + 1, 2 * direct.count), Int(Self.directLimit))
                direct += repeatElement(Self.unseen, count: grown - direct.count)
            }
            direct[Int(source)] = next
        } else {
            if let known = overflow[source] { return (known, false) }
            overflow[source] = next
        }
        return (next, true)
    }
}

/// Reads a small text file (ids, vocabulary) into its lines.
func readLines(_ path: String) throws -> [String] {
    var reader = LineReader(stream: try openByteStream(path), initialCapacity: 1 << 16)
    var lines: [String] = []
    while true {
        let line = try reader.nextLine { (bytes, lineNumber) -> String in
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw LSRError(.invalidInput, "invalid UTF-8", path: path, line: lineNumber)
            }
            return text
        }
        guard let line else { break }
        lines.append(line)
    }
    return lines
}
