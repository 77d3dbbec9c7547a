import Foundation
import LSRVectors

/// Approximate search with a per-query plan: skip-ahead search, or exhaustive (exact) search
/// when that is estimated to cost less.
///
/// Skip-ahead scores a document from the forward index at about a hundred times the cost of
/// accumulating one posting, so it wins only where the query's complete lists are much longer
/// than the blocked postings of the lists it visits: where static pruning removed most of the
/// long lists. On small or unpruned collections (and at settings that would score most
/// documents) exact search is cheaper, and gives recall 1. The plan:
/// 1. estimate exhaustive search's cost from the query's list lengths (exact, O(|q|));
/// 2. estimate skip-ahead's cost from the blocked postings of the visited lists and the share of
///    them a search at this heap factor scores (``SearchCostModel/expectedScoredFraction(heapFactor:)``);
/// 3. run the cheaper; a skip-ahead search whose work passes twice the exhaustive estimate is
///    abandoned for exhaustive search, so no query costs more than about three times it.
///
/// The estimates count work in fixed units (``SearchCostModel``), never time, so the plan and
/// the results depend only on the index, the query and the parameters.
struct PlannedSearch<Work: SearchWork>: TypedIndexVisitor {
    unowned let searcher: Searcher
    let query: QueryVector
    let parameters: SearchParameters
    var work: Work

    mutating func visit<C, W>(_ typed: TypedIndex<C, W>) -> [SearchHit] {
        var budget = Float.infinity
        // An index built without summaries can only be searched exhaustively.
        if typed.storage.blockedPostingCount == 0 { return exhaustiveSearch(typed) }
        if parameters.planning == .costBased {
            let model = SearchCostModel.standard
            let exhaustive = model.exhaustiveCost(typed.storage, query, k: parameters.k)
            let skipAhead = model.expectedSkipAheadCost(typed.storage, query, parameters, cut: &searcher.cutOrder)
            if skipAhead >= exhaustive { return exhaustiveSearch(typed) }
            budget = SearchCostModel.abandonFactor * exhaustive
        }
        var skip = SkipAheadSearch(
            searcher: searcher, query: query, parameters: parameters, work: work, budget: budget,
            listsSelected: parameters.planning == .costBased)
        let hits = skip.visit(typed)
        work = skip.work
        if let hits { return hits }
        work.abandonSkipAhead()
        return exhaustiveSearch(typed)
    }

    private mutating func exhaustiveSearch<C, W>(_ typed: TypedIndex<C, W>) -> [SearchHit] {
        var exhaustive = ExhaustiveSearch(searcher: searcher, query: query, k: parameters.k, work: work)
        let hits = exhaustive.visit(typed)
        work = exhaustive.work
        work.chooseExhaustive()
        return hits
    }
}

/// What the planner counts work in: fixed costs per unit, in nanoseconds of the development
/// machine (2-core AMD EPYC, gcide and SciFact indexes; `lsr search --count-work` reports the
/// units). Only their ratios matter to the plan; they are constants so that plans, and results,
/// are the same on every machine.
struct SearchCostModel {
    /// Accumulating one posting term at a time (a random write into the score array).
    var perPosting: Float
    /// Exhaustive search's pass over the touched documents, per document (fitted when it made
    /// two passes; kept so that plans stay as they were, it now overestimates about 2×).
    var perTouchedDocument: Float
    /// A pass over the visited bits, per 64 documents (the estimate counts two, as when fitted).
    var perBitsetWord: Float
    /// Scoring one document against its forward vector (mostly cache misses).
    var perDocument: Float
    /// Visiting one list: selecting its summary runs, clearing and scanning its block scores.
    var perList: Float
    /// Comparing one block's summary score with the cutoff.
    var perBlock: Float
    /// Adding one summary entry to its block's score.
    var perSummaryEntry: Float

    /// Fitted to per-query times of exact and skip-ahead search on gcide (2,000 queries): exact
    /// search 2.3 ns per posting plus 2.2 ns per touched document (correlation 0.94), skip-ahead
    /// 0.30–0.35 µs per scored document.
    /// The planner version of an index: it changes whenever the model or the plan does, since
    /// presets tuned under another version may no longer reach their targets (the plan decides
    /// which queries are answered exactly). 1: every tail counted whole; 2: indexes that record
    /// their tails' largest weights (`list.tailmax`), whose tails exhaustive search may leave
    /// out, counted at ``tailShareWithBounds``. An index without the section is planned as
    /// version 1 planned it, so its presets stay valid.
    static func version(of storage: IndexStorage) -> Int { storage.listTailMaximum == nil ? 1 : 2 }

    /// What a tail posting counts for in exhaustive search's estimate when the index bounds its
    /// tails (exhaustive search then reads about a fifth of them on gcide, and scans the score
    /// array instead of following the visited bits). Chosen by tuning and testing presets with
    /// 0.4, 0.25 and 0.15 on gcide and on a 250,000-document collection (1,000 tuning and 4,994
    /// test queries each; `Evaluation/reports/tail-share-2026-12-03.md`): summed over the
    /// 0.90–0.97 presets of both collections, 0.25 took 1,320 µs, 0.15 1,375 µs and 0.4 1,656 µs,
    /// at the same recall targets. At 0.25 the measured / estimated exhaustive time is 0.64
    /// on gcide and 0.83 on the other collection, where skip-ahead's is 0.68 and 0.53.
    static let tailShareWithBounds: Float = 0.25

    static let standard = SearchCostModel(
        perPosting: 2.3, perTouchedDocument: 2.2, perBitsetWord: 2, perDocument: 300, perList: 3000, perBlock: 20,
        perSummaryEntry: 3)

    /// A skip-ahead search may spend this many times the exhaustive estimate before the planner
    /// abandons it: a safety net for queries whose estimate was far too low (simulated on gcide,
    /// a tighter net abandons searches that were about to finish).
    static let abandonFactor: Float = 2

    /// The share of the visited lists' blocked postings that skip-ahead search is expected to
    /// score at `heapFactor`. Medians on gcide: 0.08 at 1.0, 0.14 at 0.7; the values here are
    /// the ones that minimized the planned mean latency in a simulation over the per-query
    /// times of eight (query_cut, heap_factor) settings (0.05–0.08 at 1.0, 0.3 at ≤ 0.7).
    static func expectedScoredFraction(heapFactor: Float) -> Float {
        min(0.6, max(0.05, 0.08 + 0.75 * (1 - heapFactor)))
    }

    /// Exhaustive search's cost for `query`: every blocked posting of its lists and their tails
    /// (at ``tailShareWithBounds`` when the index bounds them), the documents they touch
    /// (estimated as random draws), two passes over the visited bits (as when fitted) and the
    /// rescoring of about 2k candidates.
    func exhaustiveCost(_ storage: IndexStorage, _ query: QueryVector, k: Int) -> Float {
        var blocked = 0, tails = 0
        for c in query.components where Int(c) < storage.dimension {
            blocked += storage.blockedPostings(ofList: Int(c)).count
            tails += storage.tail(ofList: Int(c)).count
        }
        let postings = Float(blocked) + (storage.listTailMaximum == nil ? 1 : Self.tailShareWithBounds) * Float(tails)
        let documents = Float(max(1, storage.documentCount))
        let touched = documents * (1 - exp(-postings / documents))
        let words = Float((storage.documentCount + 63) / 64)
        return perPosting * postings + perTouchedDocument * touched + 2 * perBitsetWord * words + perDocument * Float(2 * k)
    }

    /// Skip-ahead search's expected cost: per visited list, its fixed cost and the expected
    /// share of its blocked postings scored. Leaves the visited lists' query positions,
    /// heaviest first, in `cut`; infinite when they hold no blocked postings.
    func expectedSkipAheadCost(_ storage: IndexStorage, _ query: QueryVector, _ parameters: SearchParameters, cut: inout [Int]) -> Float {
        selectLists(query, queryCut: parameters.queryCut, into: &cut)
        var postings = 0, lists = 0
        for position in cut {
            let t = Int(query.components[position])
            guard t < storage.dimension else { continue }
            let blocked = storage.blockedPostings(ofList: t).count
            postings += blocked
            lists += blocked > 0 ? 1 : 0
        }
        if postings == 0 { return .infinity }
        return perDocument * SearchCostModel.expectedScoredFraction(heapFactor: parameters.heapFactor) * Float(postings)
            + perList * Float(lists)
    }

    /// What a skip-ahead search has spent so far.
    @inline(__always)
    func skipAheadCost(lists: Int, documents: Int, blocks: Int, summaryEntries: Int) -> Float {
        perList * Float(lists) + perDocument * Float(documents) + perBlock * Float(blocks) + perSummaryEntry * Float(summaryEntries)
    }
}

/// Fills `cut` with the positions of the `queryCut` heaviest query terms, heaviest first (ties:
/// lower component).
func selectLists(_ query: QueryVector, queryCut: Int, into cut: inout [Int]) {
    let values = query.values
    cut.removeAll(keepingCapacity: true)
    cut.append(contentsOf: query.components.indices)
    cut.sort { values[$0] != values[$1] ? values[$0] > values[$1] : $0 < $1 }
    if cut.count > queryCut { cut.removeSubrange(queryCut...) }
}
