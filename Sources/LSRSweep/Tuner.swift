import Foundation
import LSREvaluation
import LSRSearch
import LSRVectors

/// Chooses, for each recall target, the fastest search setting whose recall@k against exact
/// search clears the target on queries like the given ones, and returns them as
/// ``SearchPresets`` (what `lsr tune` stores).
///
/// The method:
/// 1. the exact top-k of every tuning query, with exact search;
/// 2. per query_cut (until two in a row clear no target within 10% of the cheapest setting so
///    far), approximate search at heap factors from 1.5 down, until the recall bound
///    clears the highest target: recall is computed per query, and a setting's **recall bound**
///    is its mean recall less `margin` standard errors of that mean, so a setting chosen for
///    target T reaches about T on unseen queries of the same kind (at `margin` 1, one standard
///    error: on 1,000 queries about 0.003 at recall 0.95);
/// 3. per target and query_cut, the largest heap factor whose bound clears the target, refined
///    by bisection between the grid's values (4 steps) where its cost is within 1.5× of the
///    cheapest; exact search is a candidate too (recall 1);
/// 4. among the candidates whose estimated cost (``SearchWorkCounts/estimatedNanoseconds``, work
///    counted during the recall runs) is within 60% of the cheapest, the fastest measured on one
///    thread (the six cheapest by the estimate, best of three alternating rounds, after
///    ``Index/preload()`` unless ``preloadsBeforeTiming`` is off: the estimate can misrank
///    close settings by more than 30%), or the
///    cheapest by the estimate (``Selection/workModel``, deterministic);
/// 5. a check of the whole procedure by `folds`-fold cross-validation: each fold's setting is
///    chosen (by estimated cost) on the other folds, and the recall it reaches on the held-out
///    fold is averaged (``SearchPreset/crossValidatedRecall``).
///
/// Recall runs use `threads` threads; everything but the timings is deterministic for a seed.
public struct Tuner: Sendable {
    /// How the setting is picked among the candidates that clear a target.
    public enum Selection: String, Sendable, CaseIterable {
        /// The fastest measured on one thread (the latency users see; varies with machine noise).
        case measuredTime = "time"
        /// The cheapest by the work estimate (deterministic).
        case workModel = "model"
    }

    /// The recall@k targets, one preset each, ascending (the initializer sorts them); at least one, each in (0, 1].
    public var targets: [Double]
    /// Results per query; presets are tuned for recall@k against exact search.
    public var k: Int
    /// Threads for the recall runs (timings always use one).
    public var threads: Int
    /// Seed of the cross-validation folds.
    public var seed: UInt64
    /// Cross-validation folds (≥ 2); tuning needs at least `2 × folds` queries.
    public var folds: Int
    /// How the setting is picked among the candidates that clear a target; default measured time.
    public var selection: Selection
    /// Standard errors of the mean recall a setting must clear its target by.
    public var margin: Double
    /// Whether the index is preloaded (``Index/preload()``) right before the candidates are
    /// timed, so that pages the page cache dropped during the recall runs are not read from disk
    /// inside a timing. Default true; turn it off for an index that does not fit in memory.
    public var preloadsBeforeTiming = true

    /// The query cuts tried (those beyond the longest query are left out).
    public static let queryCuts = [1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 30, 40]
    /// The heap factors of the coarse pass, from fastest to most accurate.
    public static let heapFactors: [Float] = [1.5, 1.2, 1.0, 0.85, 0.7, 0.5, 0.3]
    static let refinementSteps = 4
    static let candidateCostSlack = 1.6
    /// A query cut keeps the search going while it clears a target within this factor of the
    /// cheapest setting so far.
    static let explorationSlack = 1.1
    /// Settings are refined when their coarse cost is within this factor of the cheapest.
    static let refinementSlack = 1.5
    /// Candidates timed per target (the cheapest by the estimate).
    static let timedCandidates = 6
    /// Timing rounds per candidate (alternating order; the fastest round counts).
    static let timingRounds = 3

    /// A tuner with the given settings (`targets` sorted); ranges are checked by ``validate()``, which
    /// ``tune(index:queries:queriesFile:progress:)`` calls.
    public init(
        targets: [Double] = [0.90, 0.95, 0.97, 0.99], k: Int = 10, threads: Int = availableCores, seed: UInt64 = 42,
        folds: Int = 5, selection: Selection = .measuredTime, margin: Double = 1
    ) {
        self.targets = targets.sorted()
        self.k = k
        self.threads = threads
        self.seed = seed
        self.folds = folds
        self.selection = selection
        self.margin = margin
    }

    /// - Throws: `LSRError.invalidArgument` naming the parameter and its valid range.
    public func validate() throws {
        guard !targets.isEmpty, targets.allSatisfy({ $0 > 0 && $0 <= 1 }) else {
            throw LSRError(.invalidArgument, "target recalls must be in (0, 1], got \(targets)", field: "target-recall")
        }
        guard k >= 1 else { throw LSRError(.invalidArgument, "k must be ≥ 1, got \(k)", field: "k") }
        guard threads >= 1 else { throw LSRError(.invalidArgument, "threads must be ≥ 1, got \(threads)", field: "threads") }
        guard folds >= 2 else { throw LSRError(.invalidArgument, "folds must be ≥ 2, got \(folds)", field: "folds") }
        guard margin.isFinite, margin >= 0 else { throw LSRError(.invalidArgument, "margin must be ≥ 0, got \(margin)", field: "margin") }
    }

    /// Tunes `index` on `queries`.
    /// - Parameters:
    ///   - queriesFile: recorded in the presets.
    ///   - progress: called with a description of each step.
    /// - Throws: `LSRError.invalidArgument` for bad settings or fewer than `2 × folds` queries.
    public func tune(
        index: Index, queries: QuerySet, queriesFile: String? = nil, progress: ((String) -> Void)? = nil
    ) throws -> TuningResult {
        try tune(IndexTuning(index: index, queries: queries), queriesFile: queriesFile, progress: progress)
    }

    /// Tunes a sharded collection on `queries` (read by `collection`): recall is the merged top
    /// k's against the collection's exact search, and times are the collection's (its shards
    /// searched one after another); the presets go to the collection's directory
    /// (``ShardedIndex/store(_:)``).
    /// - Throws: as ``tune(index:queries:queriesFile:progress:)``; `LSRError.invalidArgument` when
    ///   `collection` serves only some of its shards.
    public func tune(
        collection: ShardedIndex, queries: ShardedQuerySet, queriesFile: String? = nil, progress: ((String) -> Void)? = nil
    ) throws -> TuningResult {
        guard let identity = collection.identity else {
            throw LSRError(
                .invalidArgument, "tuning needs every shard: this object serves \(collection.shards.count) of \(collection.manifest.shards.count)",
                path: collection.path, field: "shards")
        }
        return try tune(
            CollectionTuning(collection: collection, queries: queries, collectionIdentity: identity), queriesFile: queriesFile, progress: progress)
    }

    private func tune(_ subject: some TuningSubject, queriesFile: String?, progress: ((String) -> Void)?) throws -> TuningResult {
        try validate()
        let queryCount = subject.queryCount
        guard queryCount >= 2 * folds else {
            throw LSRError(.invalidArgument, "tuning needs at least \(2 * folds) queries, got \(queryCount)", field: "queries")
        }
        let started = ContinuousClock.now
        progress?("exact top-\(k) of \(queryCount) queries")
        let exact = try subject.searchCountingWork(SearchParameters(k: k), .exact, threads: threads)
        let truth = exact.hits
        var points: [TuningPoint] = [TuningPoint(method: .exact, queryCut: 0, heapFactor: 0, recalls: [Double](repeating: 1, count: queryCount),
                                                 costs: exact.costs, margin: margin)]

        func evaluate(_ queryCut: Int, _ heapFactor: Float) throws -> TuningPoint {
            if let known = points.first(where: { $0.queryCut == queryCut && $0.heapFactor == heapFactor && $0.method == .approximate }) { return known }
            let run = try subject.searchCountingWork(SearchParameters(k: k, queryCut: queryCut, heapFactor: heapFactor), .approximate, threads: threads)
            let recalls = try zip(run.hits, truth).map { try RecallAgainstExact.recall(approximate: $0.0, exact: $0.1, k: k) }
            let point = TuningPoint(method: .approximate, queryCut: queryCut, heapFactor: heapFactor, recalls: recalls,
                                    costs: run.costs, margin: margin)
            points.append(point)
            return point
        }

        // Coarse pass: per query cut, heap factors from fast to accurate until every target is
        // cleared. An index without summaries is searched exactly whatever the setting.
        let longest = subject.longestQuery
        var queryCuts = Tuner.queryCuts.filter { $0 < longest }
        if let first = Tuner.queryCuts.first(where: { $0 >= longest }) { queryCuts.append(first) }
        if !subject.hasBlocks { queryCuts = [] }
        let highest = targets.last!
        var cheapestClearing = [Double](repeating: .infinity, count: targets.count)
        var idleQueryCuts = 0
        for (n, queryCut) in queryCuts.enumerated() {
            progress?("query_cut \(queryCut) (\(n + 1) of \(queryCuts.count))")
            var competitive = false
            var cleared = [Bool](repeating: false, count: targets.count)
            for heapFactor in Tuner.heapFactors {
                let point = try evaluate(queryCut, heapFactor)
                for (i, target) in targets.enumerated() where point.bound >= target && !cleared[i] {
                    // The first (cheapest) setting of this query cut that clears the target.
                    cleared[i] = true
                    if point.meanCost <= Tuner.explorationSlack * cheapestClearing[i] { competitive = true }
                    cheapestClearing[i] = min(cheapestClearing[i], point.meanCost)
                }
                if point.bound >= highest { break }
            }
            // Larger query cuts cost more at every heap factor: once some query cut clears a
            // target, stop after two that clear none within reach of the cheapest so far.
            if cleared.contains(true) || idleQueryCuts > 0 { idleQueryCuts = competitive ? 0 : idleQueryCuts + 1 }
            if idleQueryCuts == 2 { break }
        }

        // Refinement and candidates, per target: per query cut the largest heap factor that
        // clears the target, refined where it could be competitive.
        var presets: [SearchPreset] = []
        var candidatesByTarget: [[TuningPoint]] = []
        for target in targets {
            var passes: [(pass: TuningPoint, fail: TuningPoint?)] = []
            for queryCut in queryCuts {
                let tried = points.filter { $0.method == .approximate && $0.queryCut == queryCut }
                guard let pass = tried.filter({ $0.bound >= target }).max(by: { $0.heapFactor < $1.heapFactor }) else { continue }
                passes.append((pass, tried.filter { $0.bound < target && $0.heapFactor > pass.heapFactor }.min { $0.heapFactor < $1.heapFactor }))
            }
            let cheapestCoarse = cheapest([points[0]] + passes.map(\.pass))
            var candidates = [points[0]]
            for (coarse, failing) in passes {
                var pass = coarse
                if var fail = failing, pass.meanCost <= Tuner.refinementSlack * cheapestCoarse {
                    for _ in 0 ..< Tuner.refinementSteps {
                        let middle = try evaluate(pass.queryCut, ((pass.heapFactor + fail.heapFactor) / 2 * 1000).rounded() / 1000)
                        if middle.bound >= target { pass = middle } else { fail = middle }
                    }
                }
                candidates.append(pass)
            }
            let limit = Tuner.candidateCostSlack * cheapest(candidates)
            candidatesByTarget.append(Array(candidates.filter { $0.meanCost <= limit }.sorted { $0.meanCost < $1.meanCost }.prefix(Tuner.timedCandidates)))
        }

        // Selection.
        var measured: [String: Double] = [:]
        func time(_ point: TuningPoint) throws -> Double {
            try subject.wallSeconds(point.parameters(k: k), point.searchMethod) / Double(queryCount) * 1e6
        }
        if selection == .measuredTime {
            let unique = Dictionary(grouping: candidatesByTarget.joined(), by: \.key).values.map { $0[0] }.sorted { $0.key < $1.key }
            progress?("timing \(unique.count) candidates on one thread")
            // Pages the page cache dropped during the recall runs (say the tails, which only
            // exact search reads) would be read from disk inside some candidate's timing.
            if preloadsBeforeTiming { subject.preload() }
            if let first = unique.first { _ = try time(first) }  // warm the caches
            for round in 0 ..< Tuner.timingRounds {
                for point in round % 2 == 0 ? unique : unique.reversed() {
                    measured[point.key] = min(measured[point.key] ?? .infinity, try time(point))
                }
            }
        }
        let folds = crossValidationFolds(count: queryCount)
        var chosen = candidatesByTarget.map { candidates in
            selection == .measuredTime ? candidates.min { measured[$0.key]! < measured[$1.key]! }! : candidates[0]
        }
        // A lower target never gets a slower setting than a higher one (timing noise and
        // different candidate sets could otherwise invert them).
        func speed(_ point: TuningPoint) -> Double { measured[point.key] ?? point.meanCost }
        for i in stride(from: targets.count - 2, through: 0, by: -1) where speed(chosen[i + 1]) < speed(chosen[i]) {
            chosen[i] = chosen[i + 1]
        }
        for (i, target) in targets.enumerated() {
            let chosen = chosen[i]
            let microseconds = measured[chosen.key] ?? chosen.meanCost / 1000
            presets.append(SearchPreset(
                targetRecall: target, method: chosen.method, queryCut: chosen.queryCut, heapFactor: chosen.heapFactor,
                tuningRecall: chosen.meanRecall, recallLowerBound: chosen.bound,
                crossValidatedRecall: crossValidatedRecall(target: target, points: points, folds: folds), meanMicroseconds: microseconds))
        }
        let result = SearchPresets(
            k: k, index: subject.identity.index, shards: subject.identity.shards, queries: queryCount, queriesFile: queriesFile, seed: seed,
            method: "recall@\(k) vs exact search, mean over the tuning queries less \(margin) standard error(s); "
                + "fastest \(selection == .measuredTime ? "measured on one thread" : "by the work estimate") among candidates within \(Int(((Tuner.candidateCostSlack - 1) * 100).rounded()))% of the cheapest estimate; "
                + "\(self.folds)-fold cross-validated recall",
            created: ISO8601DateFormatter().string(from: Date()), lsrVersion: lsrVersion, plannerVersion: subject.plannerVersion,
            presets: presets)
        return TuningResult(
            presets: result, points: points.map(\.summary), measuredMicroseconds: measured,
            seconds: (ContinuousClock.now - started).seconds)
    }

    private func cheapest(_ points: [TuningPoint]) -> Double { points.map(\.meanCost).min() ?? .infinity }

    /// Query positions split into `folds` folds by a seeded shuffle.
    private func crossValidationFolds(count: Int) -> [[Int]] {
        var generator = SplitMix64(seed: seed)
        let order = Array(0 ..< count).shuffled(using: &generator)
        return (0 ..< folds).map { f in stride(from: f, to: count, by: folds).map { order[$0] } }
    }

    /// Mean held-out recall when each fold's setting is the cheapest (by estimate) whose bound,
    /// on the other folds, clears `target`.
    private func crossValidatedRecall(target: Double, points: [TuningPoint], folds: [[Int]]) -> Double {
        var total = 0.0, count = 0
        for fold in folds {
            let held = Set(fold)
            let training = (0 ..< points[0].recalls.count).filter { !held.contains($0) }
            let chosen = points.filter { $0.bound(over: training, margin: margin) >= target }
                .min { $0.meanCost(over: training) < $1.meanCost(over: training) } ?? points[0]
            total += fold.reduce(0) { $0 + chosen.recalls[$1] }
            count += fold.count
        }
        return count > 0 ? total / Double(count) : 1
    }
}

/// What tuning produced: the presets, every setting it measured, and how long it took.
public struct TuningResult: Sendable {
    /// The chosen presets, one per target: what `lsr tune` stores.
    public var presets: SearchPresets
    /// Every evaluated setting: recall, recall bound and estimated cost on the tuning queries.
    public var points: [TuningPointSummary]
    /// Measured single-thread latency of each timed candidate, by `method:query_cut:heap_factor`.
    public var measuredMicroseconds: [String: Double]
    /// Wall-clock seconds tuning took.
    public var seconds: Double
}

/// One evaluated setting.
public struct TuningPointSummary: Sendable, Codable, Equatable {
    /// Approximate or exact search.
    public var method: SearchPreset.Method
    /// The query cut; 0 for exact search.
    public var queryCut: Int
    /// The heap factor; 0 for exact search.
    public var heapFactor: Float
    /// Mean recall@k against exact search over the tuning queries.
    public var recall: Double
    /// ``recall`` less `margin` standard errors of the mean: what must clear a target.
    public var recallBound: Double
    /// Mean estimated cost per query in microseconds (``SearchWorkCounts/estimatedNanoseconds`` / 1000),
    /// not a measured time.
    public var estimatedMicroseconds: Double
}

/// One evaluated setting with its per-query recalls and estimated costs.
struct TuningPoint {
    let method: SearchPreset.Method
    let queryCut: Int
    let heapFactor: Float
    let recalls: [Double]
    let costs: [Double]
    let meanRecall: Double
    let bound: Double
    let meanCost: Double

    init(method: SearchPreset.Method, queryCut: Int, heapFactor: Float, recalls: [Double], costs: [Double], margin: Double) {
        self.method = method
        self.queryCut = queryCut
        self.heapFactor = heapFactor
        self.recalls = recalls
        self.costs = costs
        meanRecall = recalls.reduce(0, +) / Double(max(1, recalls.count))
        bound = TuningPoint.bound(recalls, margin: margin)
        meanCost = costs.reduce(0, +) / Double(max(1, costs.count))
    }

    var key: String { "\(method.rawValue):\(queryCut):\(heapFactor)" }
    var searchMethod: SearchMethod { method == .exact ? .exact : .approximate }
    func parameters(k: Int) -> SearchParameters { SearchParameters(k: k, queryCut: max(1, queryCut), heapFactor: heapFactor > 0 ? heapFactor : 1) }

    var summary: TuningPointSummary {
        TuningPointSummary(method: method, queryCut: queryCut, heapFactor: heapFactor, recall: meanRecall, recallBound: bound,
                           estimatedMicroseconds: meanCost / 1000)
    }

    func bound(over subset: [Int], margin: Double) -> Double { TuningPoint.bound(subset.map { recalls[$0] }, margin: margin) }
    func meanCost(over subset: [Int]) -> Double { subset.reduce(0) { $0 + costs[$1] } / Double(max(1, subset.count)) }

    /// Mean less `margin` standard errors of the mean.
    static func bound(_ values: [Double], margin: Double) -> Double {
        let n = Double(values.count)
        guard n > 1 else { return values.first ?? 1 }
        let mean = values.reduce(0, +) / n
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
        return mean - margin * (variance / n).squareRoot()
    }
}
