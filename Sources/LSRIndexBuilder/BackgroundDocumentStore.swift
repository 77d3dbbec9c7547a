import Foundation
import LSRFormats

/// Writes the document store on a thread of its own while the build goes on: rows are handed
/// over in batches (of at most ``batchRows`` rows or ``batchBytes`` bytes of text; at most
/// ``waitingBatches`` wait, so memory stays bounded), and the unique id index SQLite builds at
/// the end overlaps the later build stages instead of delaying them.
final class BackgroundDocumentStore: @unchecked Sendable {
    // @unchecked Sendable: `batches`, `closed`, `finished`, `abandoned` and `error` are touched
    // under `condition`'s lock; `batch` and `batchTextBytes` only by the producing thread;
    // `store` only by the writing thread once started.
    private typealias Row = (position: Int, id: String, content: String?)
    static let batchRows = 4096
    static let batchBytes = 4 << 20
    static let waitingBatches = 4
    /// The most memory the queue holds: the waiting batches, the one being written and the one
    /// being filled, each at its text limit plus its rows.
    static let maximumBytes = (waitingBatches + 2) * (batchBytes + batchRows * 64)

    private let store: DocumentStoreWriter
    private let condition = NSCondition()
    private var batches: [[Row]] = []
    private var closed = false
    private var finished = false
    private var abandoned = false
    private var error: (any Error)?
    private var batch: [Row] = []
    private var batchTextBytes = 0

    init(path: String) throws {
        store = try DocumentStoreWriter(path: path)
        let thread = Thread { [self] in write() }
        thread.name = "lsr document store"
        thread.start()
    }

    /// Queues one document; throws the writing thread's error, if it has failed.
    func add(position: Int, id: String, content: String?) throws {
        batch.append((position, id, content))
        batchTextBytes += id.utf8.count + (content?.utf8.count ?? 0)
        if batch.count >= Self.batchRows || batchTextBytes >= Self.batchBytes { try hand(final: false) }
    }

    /// Queues what is left; the store is finished (committed, indexed, synced) in the background.
    func close() throws {
        try hand(final: true)
    }

    /// Drops what is queued and stops without finishing the store (the build failed); nothing
    /// once the store is finished.
    func abandon() {
        condition.lock()
        abandoned = true
        closed = true
        batches = []
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until the store is finished and rethrows its error, if any.
    func wait() throws {
        condition.lock()
        defer { condition.unlock() }
        while !finished { condition.wait() }
        if let error { throw error }
    }

    private func hand(final: Bool) throws {
        condition.lock()
        defer { condition.unlock() }
        while batches.count >= Self.waitingBatches && error == nil { condition.wait() }
        if let error { throw error }
        if !batch.isEmpty { batches.append(batch) }
        batch = []
        batchTextBytes = 0
        if final { closed = true }
        condition.broadcast()
    }

    private func write() {
        while true {
            condition.lock()
            while batches.isEmpty && !closed { condition.wait() }
            let next = batches.isEmpty ? nil : batches.removeFirst()
            condition.broadcast()
            condition.unlock()
            guard let next else { break }
            do {
                for row in next { try store.add(position: row.position, id: row.id, content: row.content) }
            } catch {
                return stop(with: error)
            }
        }
        condition.lock()
        let skip = abandoned
        condition.unlock()
        guard !skip else { return stop(with: nil) }
        do {
            try store.finish()
            stop(with: nil)
        } catch {
            stop(with: error)
        }
    }

    private func stop(with failure: (any Error)?) {
        condition.lock()
        if error == nil { error = failure }
        finished = true
        batches = []
        condition.broadcast()
        condition.unlock()
    }
}
