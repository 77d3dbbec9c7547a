import LSRFormats
import LSRVectors

/// How static pruning chooses the postings each inverted list keeps.
public enum PruningStrategy: Sendable, Equatable {
    /// Keep the `nPostings × (number of lists)` largest postings over the whole collection
    /// (a global weight threshold), with no list longer than `nPostings × maxFraction`.
    /// Seismic's default. More postings: higher recall, bigger index, slower search.
    case globalThreshold(nPostings: Int, maxFraction: Double)
    /// ``globalThreshold(nPostings:maxFraction:)`` with `nPostings` chosen from the collection:
    /// `listFraction` × the mean length of its non-empty lists, to the nearest 100, at least
    /// `minimumPostings` (``automaticPostings(minimum:listFraction:meanListLength:)``). Lists
    /// grow with the collection while their number does not, so a fixed `nPostings` keeps an
    /// ever smaller share of the long lists, and with it the recall approximate search can reach
    /// (8.8M documents, n_postings 1000: recall@10 0.933 at best). The default.
    case scaledGlobalThreshold(minimumPostings: Int, listFraction: Double, maxFraction: Double)
    /// Keep the `nPostings` largest postings of each list.
    case fixedSize(nPostings: Int)
    /// Keep every posting (no static pruning).
    case none

    /// lsr's default: n_postings 1000 up to lists of 12,500 postings on average (about 2.5M
    /// documents of 127 nonzeros over BERT's vocabulary), 8% of the mean list length beyond
    /// (3,500 at MS MARCO's 8.8M documents); the evidence is in
    /// `Evaluation/reports/defaults-growth-2026-12-02.md`.
    public static func automatic(maxFraction: Double = 1.5) -> PruningStrategy {
        .scaledGlobalThreshold(minimumPostings: 1000, listFraction: 0.08, maxFraction: maxFraction)
    }

    /// `listFraction × meanListLength` to the nearest 100 (at least 1), or `minimum` if larger.
    public static func automaticPostings(minimum: Int, listFraction: Double, meanListLength: Double) -> Int {
        let scaled = listFraction * meanListLength / 100
        guard scaled.isFinite else { return max(minimum, 1) }
        return max(minimum, 100 * Int(min(scaled, 1e15).rounded()), 1)
    }
}

/// How each pruned list is split into blocks.
public enum BlockingStrategy: Sendable, Equatable {
    /// Seismic's one-pass clustering: `centroidFraction × length` random centroids drawn from
    /// the list; each document joins the centroid with the largest dot product (computed on the
    /// document's `docCut` heaviest components); clusters smaller than `minClusterSize` are
    /// dissolved into the others. More centroids: smaller, tighter blocks, higher recall, more
    /// summaries to score. At most `IndexLayout.maximumBlocksPerList` (65,535) centroids per list.
    case randomCentroids(centroidFraction: Double, minClusterSize: Int, docCut: Int)
    /// Consecutive blocks of `blockSize` postings in document order; a list longer than
    /// 65,535 blocks of that size (the most one list may have) gets larger blocks, as few
    /// postings each as keep it to 65,535.
    case fixedSize(blockSize: Int)
}

/// Whether the index gets blocks and summaries, which only approximate (skip-ahead) search uses.
public enum SummaryPolicy: String, Sendable, Equatable, CaseIterable {
    /// Build them when static pruning shortens the long lists enough for skip-ahead search to
    /// beat exact search: when Σ L² / Σ L·K ≥ ``BuildConfiguration/minimumPruningRatio``,
    /// L a list's length and K the postings pruning keeps of it (the length-weighted mean
    /// ratio of complete to kept lists). Scoring a document costs about a hundred postings'
    /// worth of exact search, so where pruning keeps (nearly) every posting, as on small
    /// collections, exact search is cheaper at any setting and the summaries would only take
    /// bytes (SciFact: 34.8M summary entries for 1.3M postings, ratio 1.0; gcide: 6.1).
    case automatic = "auto"
    /// Always build them (Seismic's layout).
    case always
    /// Never: an exact-only index of the forward index and complete lists; approximate search
    /// answers every query exactly.
    case never
}

/// Everything `lsr index` can be told. The defaults (n_postings 1000 growing with the lists on
/// large collections (``PruningStrategy/automatic(maxFraction:)``), centroid_fraction 0.2, summary_energy 0.5;
/// Seismic's are 3500 / 0.1 / 0.4) were chosen with tuned presets measured on held-apart
/// queries, on three collections up to 250,000 documents (`Evaluation/reports/defaults-2026-12-02.md`)
/// and, for the growth, on 4M and 8.8M documents (`defaults-growth-2026-12-02.md`).
public struct BuildConfiguration: Sendable, Equatable {
    /// How static pruning chooses each list's postings; default ``PruningStrategy/automatic(maxFraction:)``.
    public var pruning: PruningStrategy
    /// How each pruned list is split into blocks; default random centroids (fraction 0.2, minimum cluster
    /// size 2, doc cut 15).
    public var blocking: BlockingStrategy
    /// Fraction of a block summary's L1 mass kept (its largest coordinates first). Higher keeps
    /// more coordinates: better skipping decisions (recall), more bytes, slower summary scoring.
    public var summaryEnergy: Double
    /// Most coordinates one block summary keeps (its largest first), whatever the energy asks
    /// for. Real collections stay far below it (gcide's largest summary has 1,652); it bounds
    /// the summaries of abnormal documents with tens of thousands of nonzeros, which sit in
    /// that many lists, at a few MB instead of gigabytes.
    public var maxSummaryEntries: Int
    /// How weights are stored in the forward index and postings; default f16.
    public var valuePrecision: ValuePrecision
    /// Whether to build blocks and summaries.
    public var summaries: SummaryPolicy
    /// Seed of the centroid draws: the same seed gives the same index, byte for byte.
    public var seed: UInt64
    /// Worker threads; the default uses every core.
    public var threads: Int
    /// Bytes the build may hold in memory; nil: what the collection needs besides its inverted
    /// lists plus an eighth of them (at least 1 GiB, at most a third of the physical memory;
    /// measured peaks on documents of 127 nonzeros: 1.67 GiB at 1M, 2.40 at 2M, 3.79 at 4M).
    /// The inverted lists are built in as many passes as the budget requires; the index bytes
    /// do not depend on it. A budget too small for the collection's
    /// fixed part (about 4 bytes per nonzero, 100 per document, 48 MiB, and the longest list)
    /// fails after reading the input, naming the budget that would do.
    public var memoryBudget: Int?

    /// A configuration with lsr's defaults for every parameter not given (see each property). Ranges are
    /// checked by ``validate()``, which ``IndexBuilder`` calls before building, not here.
    public init(
        pruning: PruningStrategy = .automatic(),
        blocking: BlockingStrategy = .randomCentroids(centroidFraction: 0.2, minClusterSize: 2, docCut: 15),
        summaryEnergy: Double = 0.5, maxSummaryEntries: Int = 2048, valuePrecision: ValuePrecision = .f16,
        summaries: SummaryPolicy = .automatic, seed: UInt64 = 42, threads: Int = availableCores, memoryBudget: Int? = nil
    ) {
        self.memoryBudget = memoryBudget
        self.summaries = summaries
        self.pruning = pruning
        self.blocking = blocking
        self.summaryEnergy = summaryEnergy
        self.maxSummaryEntries = maxSummaryEntries
        self.valuePrecision = valuePrecision
        self.seed = seed
        self.threads = threads
    }

    /// The pruning ratio from which ``SummaryPolicy/automatic`` builds summaries.
    public static let minimumPruningRatio = 2.0

    /// Checks every parameter's range.
    /// - Throws: `LSRError.invalidArgument` naming the parameter and its valid range.
    public func validate() throws {
        func fail(_ name: String, _ range: String, _ value: Any) -> LSRError {
            LSRError(.invalidArgument, "\(name) must be \(range), got \(value)", field: name)
        }
        switch pruning {
        case let .globalThreshold(n, fraction):
            guard n >= 1 else { throw fail("n-postings", "≥ 1", n) }
            guard fraction.isFinite, fraction > 0 else { throw fail("max-fraction", "> 0", fraction) }
        case let .scaledGlobalThreshold(minimum, listFraction, fraction):
            guard minimum >= 1 else { throw fail("minimum-postings", "≥ 1", minimum) }
            guard listFraction.isFinite, listFraction > 0, listFraction <= 1 else { throw fail("list-fraction", "in (0, 1]", listFraction) }
            guard fraction.isFinite, fraction > 0 else { throw fail("max-fraction", "> 0", fraction) }
        case let .fixedSize(n):
            guard n >= 1 else { throw fail("n-postings", "≥ 1", n) }
        case .none: break
        }
        switch blocking {
        case let .randomCentroids(fraction, minSize, docCut):
            guard fraction.isFinite, fraction > 0, fraction <= 1 else { throw fail("centroid-fraction", "in (0, 1]", fraction) }
            guard minSize >= 1 else { throw fail("min-cluster-size", "≥ 1", minSize) }
            guard docCut >= 1 else { throw fail("doc-cut", "≥ 1", docCut) }
        case let .fixedSize(size):
            guard size >= 1 else { throw fail("block-size", "≥ 1", size) }
        }
        guard summaryEnergy.isFinite, summaryEnergy > 0, summaryEnergy <= 1 else {
            throw fail("summary-energy", "in (0, 1]", summaryEnergy)
        }
        guard maxSummaryEntries >= 1 else { throw fail("max-summary-entries", "≥ 1", maxSummaryEntries) }
        guard threads >= 1 else { throw fail("threads", "≥ 1", threads) }
        if let memoryBudget, memoryBudget < BuildMemory.minimumBudget {
            throw fail("memory-budget", "≥ \(BuildMemory.minimumBudget >> 20) MiB", "\(memoryBudget) bytes")
        }
    }

    /// The parameters as stable `name: value` text for the index metadata (not threads or the
    /// memory budget, which do not change the index).
    var recorded: [String: String] {
        var fields: [String: String] = [
            "summary_energy": "\(summaryEnergy)", "max_summary_entries": "\(maxSummaryEntries)", "precision": valuePrecision.rawValue, "seed": "\(seed)",
            "summaries": summaries.rawValue]
        switch pruning {
        case let .globalThreshold(n, fraction):
            fields["pruning"] = "global-threshold"; fields["n_postings"] = "\(n)"; fields["max_fraction"] = "\(fraction)"
        case let .scaledGlobalThreshold(_, _, fraction):
            // n_postings is recorded by the build, which chooses it: the index says what it
            // holds, the same fields as an explicit globalThreshold.
            fields["pruning"] = "global-threshold"; fields["max_fraction"] = "\(fraction)"
        case let .fixedSize(n):
            fields["pruning"] = "fixed-size"; fields["n_postings"] = "\(n)"
        case .none:
            fields["pruning"] = "none"
        }
        switch blocking {
        case let .randomCentroids(fraction, minSize, docCut):
            fields["blocking"] = "random-centroids"; fields["centroid_fraction"] = "\(fraction)"
            fields["min_cluster_size"] = "\(minSize)"; fields["doc_cut"] = "\(docCut)"
        case let .fixedSize(size):
            fields["blocking"] = "fixed-size"; fields["block_size"] = "\(size)"
        }
        return fields
    }
}

/// Where a build is, for progress reporting.
public struct BuildProgress: Sendable {
    /// The stages a build reports progress in; the raw value is a label for display.
    public enum Stage: String, Sendable {
        /// Documents read (of the count a binary file declares).
        case reading = "reading vectors"
        /// List ranges inverted (of the ranges the memory budget needs).
        case inverting = "inverting"
        /// Lists pruned, clustered and summarized.
        case blocking = "clustering blocks"
        /// Sections of `index.lsr` written.
        case writing = "writing index"
    }
    /// The stage running.
    public var stage: Stage
    /// Units done in this stage (documents read, lists clustered, …).
    public var completed: Int
    /// Units in this stage, when known.
    public var total: Int?
}

/// What a finished build reports.
public struct BuildStatistics: Sendable {
    /// Documents indexed.
    public var documents: Int
    /// Nonzero entries over all documents (zero weights dropped).
    public var nonzeros: Int
    /// Tokens in the index vocabulary: those that occur in at least one document.
    public var vocabularySize: Int
    /// Postings over all lists, blocked and tail (one per nonzero).
    public var postings: Int
    /// Postings in blocks (the rest are in the exact-only tail left by static pruning).
    public var blockedPostings: Int
    /// Blocks over all lists; 0 without summaries.
    public var blocks: Int
    /// Block summary entries over all lists.
    public var summaryEntries: Int
    /// Size of `index.lsr` in bytes.
    public var indexBytes: Int
    /// Size of `documents.sqlite` in bytes.
    public var documentStoreBytes: Int
    /// Wall-clock seconds of the whole build, until the index directory was renamed into place.
    public var seconds: Double
    /// Blank lines skipped in the input (JSONL).
    public var skippedEmptyLines: Int
    /// Input entries dropped because their weight was zero.
    public var droppedZeroWeights: Int
    /// Passes over the forward index that built the inverted lists (1 when the budget held
    /// every list at once).
    public var listRanges: Int
    /// The memory budget the build planned with.
    public var memoryBudget: Int
    /// Wall-clock seconds of each stage, in the order they ran (list ranges' inverting and
    /// clustering summed over the passes).
    public var stageSeconds: [StageTime] = []

    /// The time one stage of a build took.
    public struct StageTime: Sendable {
        /// The stage's name (`reading`, `renaming`, `planning`, `inverting`, `clustering`, `writing`,
        /// `document store`).
        public var stage: String
        /// Wall-clock seconds the stage took.
        public var seconds: Double
    }
}
