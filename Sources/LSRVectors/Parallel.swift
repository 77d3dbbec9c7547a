import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs `body(worker, i)` for every `i` in `0 ..< count` on up to `threads` threads, handing out
/// indices one at a time in increasing order (dynamic scheduling: long items do not stall a fixed
/// share). `worker` is in `0 ..< workerCount(count, threads)` and is never used by two threads at
/// once, so per-worker scratch can be indexed by it.
///
/// `body` must be safe to call concurrently; results that depend only on `i` are deterministic.
package func parallelForEach(_ count: Int, threads: Int, _ body: @Sendable (_ worker: Int, _ index: Int) -> Void) {
    let workers = workerCount(count, threads: threads)
    if workers == 1 {
        for i in 0 ..< count { body(0, i) }
        return
    }
    let next = IndexDispenser()
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
        while true {
            let i = next.take()
            if i >= count { return }
            body(worker, i)
        }
    }
}

/// The number of workers `parallelForEach` uses for `count` items on `threads` threads.
package func workerCount(_ count: Int, threads: Int) -> Int {
    max(1, min(threads, count))
}

/// The number of cores available to this process.
public var availableCores: Int {
    max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
}

/// A thread-safe counter handing out 0, 1, 2, …
package final class IndexDispenser: @unchecked Sendable {
    // @unchecked Sendable: `value` is only touched under `mutex`.
    private var mutex = pthread_mutex_t()
    private var value = 0
    public init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    /// The next number.
    public func take() -> Int {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        value += 1
        return value - 1
    }
}

/// A fixed-size buffer that parallel workers fill at distinct indices.
///
/// `@unchecked Sendable`: callers guarantee that each index is written by one worker only and read
/// after all workers finish (the `parallelForEach` join). Elements live in a raw allocation, so
/// concurrent writes to distinct slots touch no shared Swift variable (no exclusivity conflict).
package final class ParallelSlots<T>: @unchecked Sendable {
    private let slots: UnsafeMutablePointer<T?>
    private let count: Int

    public init(count: Int) {
        self.count = count
        slots = .allocate(capacity: max(1, count))
        slots.initialize(repeating: nil, count: count)
    }

    deinit {
        slots.deinitialize(count: count)
        slots.deallocate()
    }

    public subscript(i: Int) -> T? {
        get {
            precondition(i >= 0 && i < count, "slot \(i) out of 0 ..< \(count)")
            return slots[i]
        }
        set {
            precondition(i >= 0 && i < count, "slot \(i) out of 0 ..< \(count)")
            slots[i] = newValue
        }
    }

    /// The filled values in index order.
    /// - Precondition: every slot was filled.
    public func collect() -> [T] { (0 ..< count).map { slots[$0]! } }
}

/// A small deterministic random number generator (SplitMix64).
package struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
