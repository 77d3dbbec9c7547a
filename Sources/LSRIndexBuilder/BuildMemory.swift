import Foundation
import LSRFormats
import LSRVectors

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The memory model behind ``BuildConfiguration/memoryBudget``.
///
/// A build holds, whatever the budget: the forward index (offsets in memory, components and
/// weights mapped (``ScratchMapping``): 4 bytes per nonzero once touched with 2-byte component ids
/// and f16 weights), the ids the reader keeps to refuse repeats, each document's `docCut`
/// heaviest components, per-token arrays, per-worker scratch sized by the vocabulary and by the
/// longest list, finished lists waiting for their turn to be written, the per-share posting
/// counts, where each document's entries for the next range of lists start, the document
/// store's queue, and a fixed allowance for buffers and the runtime. What the budget leaves
/// goes to the inverted lists, 8 bytes per posting: they are built in as few ranges of
/// consecutive lists as fit (``ListRanges``), one pass over the forward index per range. Everything else (the
/// document store, the finished sections) streams to disk.
enum BuildMemory {
    /// The memory this process may use: the machine's physical memory, or the control group's
    /// limit when it is lower (containers).
    static var physicalBytes: Int {
        let machine = Int(sysconf(Int32(_SC_PHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE)))
        let limit = (try? String(contentsOfFile: "/sys/fs/cgroup/memory.max", encoding: .utf8))
            .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        return min(machine, limit ?? .max)
    }

    /// The budget when none is given: the fixed part plus an eighth of the inverted lists
    /// (at least ``defaultRangeBytes``), so that a large collection takes at most about eight
    /// passes over the forward index, each a few seconds, instead of holding its whole inverted
    /// index; at most a third of the physical memory, but never less than the collection needs.
    static func defaultBudget(fixed: Int, postings: Int, needed: Int) -> Int {
        let range = max(defaultRangeBytes, postings / 8 * ListRanges.bytesPerPosting)
        return max(needed, min(physicalBytes / 3, fixed + range))
    }

    /// The least memory the default budget gives a range of lists.
    static let defaultRangeBytes = 1 << 30

    /// The smallest budget ``BuildConfiguration/validate()`` accepts.
    static let minimumBudget = 64 << 20

    /// Buffers (scratch files, the index writer, the input reader) and the runtime, whatever
    /// the collection.
    static let baseline = 48 << 20

    /// What the input reader holds per document to refuse a repeated id (a set of the ids, and
    /// the ids file of binary input), for ids of up to 15 bytes.
    static let idBytesPerDocument = 48

    /// Per-token arrays: the reader's token table, the vocabulary, renaming, list lengths,
    /// the per-list offsets of the index.
    static let bytesPerToken = 96

    /// Per-worker bytes per posting of the list it works on: the list split into kept postings
    /// and tail, the selection keys deciding what pruning keeps.
    static let workerBytesPerPosting = 48

    /// Per-worker bytes per kept posting: its blocks' summaries (before energy pruning, every
    /// component of every member) and their sorting keys.
    static let workerBytesPerKeptPosting = 160

    /// Bytes one list in work may take: its postings and, for the postings pruning keeps, the
    /// blocks' summaries.
    static func listBytes(length: Int, plan: PruningPlan) -> Int {
        let kept = plan.summarized ? min(length, plan.cap) : 0
        return length * workerBytesPerPosting + kept * workerBytesPerKeptPosting
    }

    /// Bytes a worker holds while it clusters a list of `kept` kept postings: their gathered heads
    /// (`docCut` entries of 8 bytes and an offset each) and the centroids' inverted index
    /// (8 bytes per centroid entry, up to 4 times as many where rows are padded to every centroid).
    static func clusteringBytes(kept: Int, forward: BuildForward, configuration: BuildConfiguration) -> Int {
        guard kept > 0, case let .randomCentroids(fraction, _, docCut) = configuration.blocking else { return 0 }
        let meanLength = Double(forward.nonzeroCount) / Double(max(1, forward.count))
        let heads = Double(kept) * (8 * Double(min(docCut, Int(meanLength.rounded(.up)) + 1)) + 8)
        let centroidEntries = fraction * Double(kept) * meanLength
        return Int(min(Double(Int.max / 4), heads + 32 * centroidEntries))
    }

    /// Bytes of finished lists allowed to wait for their turn to be written (``OrderedSink``):
    /// one longest list's worth.
    static func backlogBytes(longestList: Int, plan: PruningPlan) -> Int {
        listBytes(length: longestList, plan: plan)
    }

    /// Bytes the build holds besides the postings of the range in memory.
    static func fixedBytes(
        forward: BuildForward, dimension: Int, longestList: Int, plan: PruningPlan, workers: Int, configuration: BuildConfiguration
    ) -> Int {
        baseline
            + BuildForward.residentBytes(
                documents: forward.count, nonzeros: forward.nonzeroCount, componentWidth: forward.componentWidth,
                precision: forward.precision)
            + forward.count * (idBytesPerDocument + PostingRange.bytesPerDocument)
            + dimension * bytesPerToken
            + (plan.summarized ? BlockingContext.headBytes(
                documents: forward.count, nonzeros: forward.nonzeroCount, componentWidth: forward.componentWidth, configuration: configuration) : 0)
            + workers * (dimension * 8 + listBytes(length: longestList, plan: plan)
                + clusteringBytes(kept: plan.summarized ? min(longestList, plan.cap) : 0, forward: forward, configuration: configuration))
            + backlogBytes(longestList: longestList, plan: plan)
            + forward.shares.count * dimension * bytesPerShareToken
            + BackgroundDocumentStore.maximumBytes
    }

    /// Per document share and token: its posting count, its cursor while a range is filled, and
    /// renaming's position and bitmap scratch.
    static let bytesPerShareToken = 24

    /// The list ranges a build of this shape uses within `budget` (nil: the default budget),
    /// and the budget planned with.
    /// - Throws: `LSRError.invalidArgument` when the budget cannot hold the fixed part and the
    ///   longest list, naming the budget that would.
    static func ranges(
        budget requested: Int?, forward: BuildForward, listLengths: [Int], plan: PruningPlan, workers: Int, configuration: BuildConfiguration
    ) throws -> (ranges: ListRanges, budget: Int) {
        let longest = listLengths.max() ?? 0
        let fixed = fixedBytes(
            forward: forward, dimension: listLengths.count, longestList: longest, plan: plan, workers: workers, configuration: configuration)
        let needed = fixed + longest * ListRanges.bytesPerPosting
        let budget = requested
            ?? defaultBudget(fixed: fixed, postings: listLengths.reduce(0, +), needed: needed)
        guard budget >= needed else {
            let mebibytes = (needed + (1 << 20) - 1) >> 20
            throw LSRError(
                .invalidArgument,
                "memory budget \(budget >> 20) MiB is too small for this collection (\(forward.count) documents, \(forward.nonzeroCount) nonzeros): its forward index, document heads and longest list need \(mebibytes) MiB; raise --memory-budget to at least \(mebibytes)M",
                field: "memory-budget")
        }
        return (ListRanges(listLengths: listLengths, bytes: budget - fixed), budget)
    }
}
