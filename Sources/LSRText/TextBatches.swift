import LSRFormats
import LSRVectors

/// Reads a text file (``TextFileReader``) in batches and tokenizes each batch on several
/// threads, handing the batches on in file order. A batch holds at most
/// ``TextBatches/maximumRecords`` records or about ``TextBatches/maximumBytes`` bytes of text
/// (or one longer record), so memory stays bounded whatever the file.
package struct TextBatches: Sendable {
    public static let maximumRecords = 2048
    public static let maximumBytes = 4 << 20

    public let reader: TextFileReader
    public let tokenizer: Tokenizer
    /// Tokenize at most this many wordpieces of each text (the first ones).
    public let tokenLimit: Int
    public let threads: Int

    public init(reader: TextFileReader, tokenizer: Tokenizer, tokenLimit: Int = .max, threads: Int) {
        self.reader = reader
        self.tokenizer = tokenizer
        self.tokenLimit = tokenLimit
        self.threads = max(1, threads)
    }

    /// Calls `body` with each batch of records and their token ids, in file order.
    /// - Throws: what the reader or `body` throws.
    public func forEach(_ body: (_ records: [TextRecord], _ ids: [[Int32]]) throws -> Void) throws {
        var batch: [TextRecord] = []
        var bytes = 0
        func flush() throws {
            guard !batch.isEmpty else { return }
            let slots = ParallelSlots<[Int32]>(count: batch.count)
            let records = batch, tokenizer = self.tokenizer, limit = tokenLimit
            parallelForEach(records.count, threads: threads) { _, i in slots[i] = tokenizer.ids(records[i].text, limit: limit) }
            try body(records, slots.collect())
            batch.removeAll(keepingCapacity: true)
            bytes = 0
        }
        try reader.forEach { record in
            batch.append(record)
            bytes += record.text.utf8.count
            if batch.count >= TextBatches.maximumRecords || bytes >= TextBatches.maximumBytes { try flush() }
        }
        try flush()
    }
}
