/// What one search did, counted in the units its cost is made of. The search algorithms are
/// generic over a ``SearchWork`` so that counting compiles away when nobody asks for it.
protocol SearchWork {
    /// An inverted list with `postings` blocked postings was visited by skip-ahead search.
    mutating func visitList(postings: Int)
    /// Block summary entries were added up.
    mutating func readSummaryEntries(_ count: Int)
    /// A block's summary score was compared with the cutoff.
    mutating func evaluateBlock()
    /// A block passed and its postings were read.
    mutating func scanBlock(postings: Int)
    /// A document was scored against its forward vector of `nonzeros` entries.
    mutating func scoreDocument(nonzeros: Int)
    /// Postings were accumulated term at a time (exact search).
    mutating func accumulate(postings: Int)
    /// Exhaustive search's candidate pass went over a touched document.
    mutating func touchDocument()
    /// Exhaustive search went over words of the visited bits.
    mutating func scanBitset(words: Int)
    /// The planner abandoned a skip-ahead search that passed its budget.
    mutating func abandonSkipAhead()
    /// The planner answered the query with exhaustive search.
    mutating func chooseExhaustive()
}

/// Counts nothing: the specialization every user-facing search runs.
struct UncountedWork: SearchWork {
    @inline(__always) mutating func visitList(postings: Int) {}
    @inline(__always) mutating func readSummaryEntries(_ count: Int) {}
    @inline(__always) mutating func evaluateBlock() {}
    @inline(__always) mutating func scanBlock(postings: Int) {}
    @inline(__always) mutating func scoreDocument(nonzeros: Int) {}
    @inline(__always) mutating func accumulate(postings: Int) {}
    @inline(__always) mutating func touchDocument() {}
    @inline(__always) mutating func scanBitset(words: Int) {}
    @inline(__always) mutating func abandonSkipAhead() {}
    @inline(__always) mutating func chooseExhaustive() {}
}

/// The work of one or more searches, in the units of `SearchCostModel`.
public struct SearchWorkCounts: SearchWork, Sendable, Equatable, Codable {
    /// Searches counted.
    public var queries = 0
    /// Searches answered exhaustively (exact search, or the planner's choice).
    public var exhaustiveQueries = 0
    /// Inverted lists visited by skip-ahead search.
    public var lists = 0
    /// Blocked postings of the visited lists.
    public var listPostings = 0
    /// Block summary entries added up.
    public var summaryEntries = 0
    /// Blocks whose summary score was compared with the cutoff.
    public var blocks = 0
    /// Blocks that passed the cutoff and whose postings were read.
    public var blocksScanned = 0
    /// Postings of the scanned blocks.
    public var postingsScanned = 0
    /// Documents scored against their forward vectors.
    public var documentsScored = 0
    /// Forward-vector entries of the scored documents.
    public var nonzerosScored = 0
    /// Postings accumulated by exhaustive (exact) search.
    public var postingsAccumulated = 0
    /// Documents those postings touched.
    public var documentsTouched = 0
    /// Words of the visited bits exhaustive search went over.
    public var bitsetWords = 0
    /// Skip-ahead searches abandoned for exhaustive search (their work is counted too).
    public var abandonedSearches = 0

    /// All counts zero.
    public init() {}

    mutating func visitList(postings: Int) {
        lists += 1
        listPostings += postings
    }
    mutating func readSummaryEntries(_ count: Int) { summaryEntries += count }
    mutating func evaluateBlock() { blocks += 1 }
    mutating func scanBlock(postings: Int) {
        blocksScanned += 1
        postingsScanned += postings
    }
    mutating func scoreDocument(nonzeros: Int) {
        documentsScored += 1
        nonzerosScored += nonzeros
    }
    mutating func accumulate(postings: Int) { postingsAccumulated += postings }
    mutating func touchDocument() { documentsTouched += 1 }
    mutating func scanBitset(words: Int) { bitsetWords += words }
    mutating func abandonSkipAhead() { abandonedSearches += 1 }
    mutating func chooseExhaustive() { exhaustiveQueries += 1 }

    /// Each count divided by the number of queries, by name (snake case).
    public var perQuery: [String: Double] {
        let n = Double(max(1, queries))
        return [
            "exhaustive_fraction": Double(exhaustiveQueries) / n, "lists": Double(lists) / n,
            "list_postings": Double(listPostings) / n,
            "summary_entries": Double(summaryEntries) / n, "blocks": Double(blocks) / n,
            "blocks_scanned": Double(blocksScanned) / n, "postings_scanned": Double(postingsScanned) / n,
            "documents_scored": Double(documentsScored) / n, "nonzeros_scored": Double(nonzerosScored) / n,
            "postings_accumulated": Double(postingsAccumulated) / n, "documents_touched": Double(documentsTouched) / n,
            "bitset_words": Double(bitsetWords) / n, "abandoned_fraction": Double(abandonedSearches) / n,
            "estimated_us": estimatedNanoseconds / 1000 / n,
        ]
    }

    /// What the work costs in the planner's units (about nanoseconds on the development
    /// machine): a deterministic stand-in for time.
    public var estimatedNanoseconds: Double {
        let m = SearchCostModel.standard
        var cost = Double(m.perPosting) * Double(postingsAccumulated) + Double(m.perDocument) * Double(documentsScored)
        cost += Double(m.perList) * Double(lists) + Double(m.perBlock) * Double(blocks) + Double(m.perSummaryEntry) * Double(summaryEntries)
        cost += Double(m.perTouchedDocument) * Double(documentsTouched) + Double(m.perBitsetWord) * Double(bitsetWords)
        return cost
    }

    /// The sum of two counts.
    public static func + (a: SearchWorkCounts, b: SearchWorkCounts) -> SearchWorkCounts {
        var sum = a
        sum.queries += b.queries
        sum.exhaustiveQueries += b.exhaustiveQueries
        sum.lists += b.lists
        sum.listPostings += b.listPostings
        sum.summaryEntries += b.summaryEntries
        sum.blocks += b.blocks
        sum.blocksScanned += b.blocksScanned
        sum.postingsScanned += b.postingsScanned
        sum.documentsScored += b.documentsScored
        sum.nonzerosScored += b.nonzerosScored
        sum.postingsAccumulated += b.postingsAccumulated
        sum.documentsTouched += b.documentsTouched
        sum.bitsetWords += b.bitsetWords
        sum.abandonedSearches += b.abandonedSearches
        return sum
    }
}
