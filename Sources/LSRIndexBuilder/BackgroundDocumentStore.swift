import Foundation
import LSRFormats

/// Writes the document store on a thread of its own while the build goes on: rows are handed
/// over in batches (of at most ``batchRows`` rows or ``batchBytes`` bytes of text; at most
/// ``waitingBatches`` wait, so memory stays bounded), and the unique id index SQLite builds at
/// the end overlaps the later build stages instead of delaying them.
///
/// Rows come from one thread at a time (the collecting thread while the input is read, see
/// ``ReadCollection``); the builder closes or abandons the store after that thread has stopped.
final class BackgroundDocumentStore {
    private typealias Row = (position: Int, id: String, content: String?)
    static let batchRows = 4096
    static let batchBytes = 4 << 20
    static let waitingBatches = 4
    /// The most memory the queue holds: the waiting batches, the one being written and the one
    /// being filled, each at its text limit plus its rows.
    static let maximumBytes = (waitingBatches + 2) * (batchBytes + batchRows * 64)

    private let worker: BatchWorker<[Row]>
    private var batch: [Row] = []
    private var batchTextBytes = 0

    init(path: String) throws {
        let store = try DocumentStoreWriter(path: path)
        worker = BatchWorker(
            name: "lsr document store", waiting: Self.waitingBatches,
            process: { rows in
                for row in rows { try store.add(position: row.position, id: row.id, content: row.content) }
            },
            finish: { try store.finish() })
    }

    /// Queues one document; throws the writing thread's error, if it has failed.
    func add(position: Int, id: String, content: String?) throws {
        batch.append((position, id, content))
        batchTextBytes += id.utf8.count + (content?.utf8.count ?? 0)
        if batch.count >= Self.batchRows || batchTextBytes >= Self.batchBytes { try handBatch() }
    }

    /// Queues what is left; the store is finished (committed, indexed, synced) in the background.
    func close() throws {
        try handBatch()
        worker.close()
    }

    /// Drops what is queued and stops without finishing the store (the build failed); nothing
    /// once the store is finished.
    func abandon() {
        worker.abandon()
    }

    /// Waits until the store is finished and rethrows its error, if any.
    func wait() throws {
        try worker.wait()
    }

    private func handBatch() throws {
        guard !batch.isEmpty else { return }
        try worker.hand(batch)
        batch = []
        batchTextBytes = 0
    }
}
