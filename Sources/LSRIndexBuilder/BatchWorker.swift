import Foundation

/// Processes batches on a thread of its own, in the order they are handed over, while the
/// producing thread goes on. At most ``waiting`` batches wait (the producer waits beyond that),
/// so memory stays bounded by the batches' size.
///
/// One producing thread calls ``hand(_:)`` and then ``close()`` (or ``abandon()`` when it
/// fails), and ``wait()`` before using what the batches produced.
final class BatchWorker<Batch: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: `queue`, `closed`, `finished`, `abandoned` and `error` are touched under
    // `condition`'s lock; `process` and `finish` run on the worker's thread only, and what they
    // capture is the worker's alone until `wait()` returns (which orders it through the lock).
    let waiting: Int
    private let process: (Batch) throws -> Void
    private let finish: () throws -> Void
    private let condition = NSCondition()
    private var queue: [Batch] = []
    private var closed = false
    private var finished = false
    private var abandoned = false
    private var error: (any Error)?

    /// Starts the thread.
    /// - Parameters:
    ///   - process: called with each batch on the worker's thread.
    ///   - finish: called on the worker's thread after the last batch once the producer has
    ///     closed the worker (not when it abandons it).
    init(name: String, waiting: Int, process: @escaping (Batch) throws -> Void, finish: @escaping () throws -> Void = {}) {
        self.waiting = waiting
        self.process = process
        self.finish = finish
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    /// Queues a batch; throws the worker's error, if it has failed.
    func hand(_ batch: Batch) throws {
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= waiting && error == nil && !finished { condition.wait() }
        if let error { throw error }
        precondition(!closed, "a batch handed to a closed worker")
        queue.append(batch)
        condition.broadcast()
    }

    /// No more batches: the worker processes what is queued and finishes in the background.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// Drops what is queued and stops after the batch in progress, without finishing (the
    /// producer failed); nothing once the worker has finished.
    func abandon() {
        condition.lock()
        abandoned = true
        closed = true
        queue = []
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until the worker has stopped and rethrows its error, if any.
    func wait() throws {
        condition.lock()
        defer { condition.unlock() }
        while !finished { condition.wait() }
        if let error { throw error }
    }

    private func run() {
        while true {
            condition.lock()
            while queue.isEmpty && !closed { condition.wait() }
            let next = queue.isEmpty ? nil : queue.removeFirst()
            condition.broadcast()
            condition.unlock()
            guard let next else { break }
            do {
                try process(next)
            } catch {
                return stop(with: error)
            }
        }
        condition.lock()
        let skip = abandoned
        condition.unlock()
        guard !skip else { return stop(with: nil) }
        do {
            try finish()
            stop(with: nil)
        } catch {
            stop(with: error)
        }
    }

    private func stop(with failure: (any Error)?) {
        condition.lock()
        if error == nil { error = failure }
        finished = true
        queue = []
        condition.broadcast()
        condition.unlock()
    }
}
