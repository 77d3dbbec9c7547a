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
/// weights in mapped scratch files: 4 bytes per nonzero once touched with 2-byte component ids
/// and f16 weights), the ids the reader keeps to refuse repeats, each document's `docCut`
/// heaviest components, per-worker scratch sized by the vocabulary and by the longest list,
/// and a fixed allowance for buffers and the runtime. What the budget leaves goes to the
/// inverted lists, 8 bytes per posting: they are built in as few ranges of consecutive lists
/// as fit (``ListRanges``), one pass over the forward index per range. Everything else (the
/// document store, the finished sections) streams to disk.
enum BuildMemory {
    /// The physical memory of this machine.
    static var physicalBytes: Int {
        Int(sysconf(Int32(_SC_PHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// The budget when none is given: a third of the physical memory, or what the collection's
    /// fixed part and longest list need if that is more (so that the default never refuses a
    /// collection the machine can hold). A third leaves room for the page cache, which the
    /// passes over the mapped forward index and the written index use, and for other programs.
    static var defaultBudget: Int { physicalBytes / 3 }

    /// The smallest budget ``BuildConfiguration/validate()`` accepts.
    static let minimumBudget = 64 << 20

    /// Buffers (scratch files, the index writer, the input reader), the vocabulary and the
    /// runtime, whatever the collection.
    static let baseline = 48 << 20

    /// What the input reader holds per document to refuse a repeated id (a set of the ids, and
    /// the ids file of binary input), for ids of up to 15 bytes.
    static let idBytesPerDocument = 48

    /// Per-worker bytes per posting of the list it works on: the list split into kept postings
    /// and tail, its blocks, the sort order deciding what pruning keeps.
    static let workerBytesPerPosting = 48

    /// Bytes the build holds besides the postings of the range in memory.
    static func fixedBytes(
        documents: Int, nonzeros: Int, dimension: Int, longestList: Int, workers: Int, configuration: BuildConfiguration
    ) -> Int {
        baseline
            + BuildForward.residentBytes(
                documents: documents, nonzeros: nonzeros, componentWidth: dimension <= 1 << 16 ? 2 : 4,
                precision: configuration.valuePrecision)
            + documents * idBytesPerDocument
            + BlockingContext.headBytes(documents: documents, nonzeros: nonzeros, configuration: configuration)
            + workers * (dimension * 8 + longestList * workerBytesPerPosting)
    }

    /// The list ranges a build of this shape uses within `budget` (nil: the default budget),
    /// and the budget planned with.
    /// - Throws: `LSRError.invalidArgument` when the budget cannot hold the fixed part and the
    ///   longest list, naming the budget that would.
    static func ranges(
        budget requested: Int?, documents: Int, nonzeros: Int, listLengths: [Int], workers: Int, configuration: BuildConfiguration
    ) throws -> (ranges: ListRanges, budget: Int) {
        let longest = listLengths.max() ?? 0
        let fixed = fixedBytes(
            documents: documents, nonzeros: nonzeros, dimension: listLengths.count, longestList: longest, workers: workers,
            configuration: configuration)
        let needed = fixed + longest * ListRanges.bytesPerPosting
        let budget = requested ?? max(defaultBudget, needed)
        guard budget >= needed else {
            let mebibytes = (needed + (1 << 20) - 1) >> 20
            throw LSRError(
                .invalidArgument,
                "memory budget \(budget >> 20) MiB is too small for this collection (\(documents) documents, \(nonzeros) nonzeros): its forward index, document heads and longest list need \(mebibytes) MiB; raise --memory-budget to at least \(mebibytes)M",
                field: "memory-budget")
        }
        return (ListRanges(listLengths: listLengths, bytes: budget - fixed), budget)
    }
}
