import FuzzSupport
import LSR

// Splits the input at its first NUL byte into a qrels file and a run file, reads each the way
// `lsr eval` does, and evaluates the run when both parse.
let scratch = ScratchDirectory()
let metrics = try! ["ndcg@10", "recall@100", "p@5", "map@100", "mrr", "mrr@10"].map { try Metric(parsing: $0) }
runFuzzer { bytes in
    let split = bytes.firstIndex(of: 0) ?? bytes.count
    let qrelsPath = scratch.write("qrels.tsv", UnsafeRawBufferPointer(rebasing: bytes[0 ..< split]))
    let runPath = scratch.write("run.trec", UnsafeRawBufferPointer(rebasing: bytes[min(split + 1, bytes.count)...]))
    let qrels = try? Qrels.read(path: qrelsPath)
    let run = try? Run.read(path: runPath)
    guard let qrels, let run else { return }
    for complete in [false, true] {
        let result = Evaluator(metrics: metrics, complete: complete).evaluate(run, qrels: qrels)
        precondition(result.metrics.values.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 + 1e-9 })
    }
}
