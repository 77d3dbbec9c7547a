#!/usr/bin/env python3
"""Simulates two ways to reach higher recall for less work than moving along the (query_cut,
heap_factor) frontier, on an index and held-out queries, before building either into lsr:

1. kNN refinement (Seismic's `knn`): expand each of the k results by its n nearest documents (a
   graph computed with lsr's own search, every document as a query) and rescore them exactly.
2. Pruned accumulation: term at a time over the statically pruned lists of the query_cut
   heaviest terms, then rescoring the R documents of highest partial score exactly.

    python3 Evaluation/recall_boosters.py --index /work/data/g-def --docs gcide.bin --doc-ids ids.txt \\
        --vocab ../shared/data/vocab.txt --queries test.jsonl --truth test_exact.run --report Evaluation/reports/recall-boosters-gcide

Latency of each `--settings` cell (best of 2, one thread) comes from `lsr search`; rescoring
costs are counted in documents (multiply by lsr's ~156 ns per scored document, the planner fit
of Evaluation/reports/planner-fit-2026-12-03.md). Pruned lists are rebuilt in Python as the
index's build does with global-threshold pruning: each list's heaviest postings, at most
n_postings × max_fraction, with the global threshold that keeps the index's blocked posting count.
"""
import argparse, json, os, subprocess, sys, tempfile

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "scale"))
from generate import read_source  # noqa: E402

LSR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".build/release/lsr")


def lsr(*arguments):
    return subprocess.run([LSR, *arguments], check=True, capture_output=True, text=True)


def read_run(path, k, position):
    run = {}
    for line in open(path):
        query, _, document, *_ = line.split()
        run.setdefault(query, []).append(position[document])
    return {q: v[:k] for q, v in run.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for name in ("index", "docs", "doc-ids", "vocab", "queries", "truth", "report"):
        parser.add_argument("--" + name, required=True)
    parser.add_argument("--settings", default="3:1.0,4:1.0,6:1.0,4:0.9,6:0.8", help="query_cut:heap_factor cells to refine")
    parser.add_argument("--neighbours", default="3,5,10")
    parser.add_argument("--knn-setting", default="10:0.7", help="search setting that computes the graph (Seismic's)")
    parser.add_argument("--accumulate-cuts", default="4,6,8,10,16")
    parser.add_argument("--rescore", default="50,100,200,400,800,1600")
    parser.add_argument("--accumulate-queries", type=int, default=1500)
    args = parser.parse_args()
    offsets, components, values = read_source(args.docs)
    ids = [line.strip() for line in open(args.doc_ids)]
    position = {d: i for i, d in enumerate(ids)}
    vocabulary = {line.rstrip("\n"): i for i, line in enumerate(open(args.vocab))}
    width = max(int(components.max()) + 1, len(vocabulary))
    documents = sp.csr_matrix((values, components, offsets), shape=(len(ids), width))
    exact = read_run(args.truth, 10, position)
    queries = {}
    for line in open(args.queries):
        record = json.loads(line)
        c = [vocabulary[t] for t in record["vector"] if t in vocabulary]
        w = [record["vector"][t] for t in record["vector"] if t in vocabulary]
        queries[record["id"]] = (np.array(c, dtype=np.int64), np.array(w, dtype=np.float32))
    report = {"index": args.index, "queries": len(queries), "knn": {}, "accumulation": {}}

    def recall(candidates, query):
        c, w = queries[query]
        q = sp.csr_matrix((w, c, [0, len(c)]), shape=(1, width))
        candidates = np.array(sorted(candidates))
        scores = (documents[candidates] @ q.T).toarray().ravel()
        best = candidates[np.argsort(-scores, kind="stable")[:10]]
        return len(set(best) & set(exact[query])) / len(exact[query])

    with tempfile.TemporaryDirectory() as work:
        cut, factor = args.knn_setting.split(":")
        graph_run = os.path.join(work, "knn.run")
        result = lsr("search", "--index", args.index, "--queries", args.docs, "--query-ids", args.doc_ids, "--vocab", args.vocab,
                     "--k", "11", "--query-cut", cut, "--heap-factor", factor, "--threads", "2", "--output", graph_run)
        report["knn"]["graph"] = result.stderr.strip().splitlines()[-1]
        graph = {}
        for d, neighbours in read_run(graph_run, 11, position).items():
            graph[position[d]] = [n for n in neighbours if n != position[d]][:10]
        for setting in args.settings.split(","):
            cut, factor = setting.split(":")
            run_path = os.path.join(work, f"run-{setting}.run")
            times = []
            for _ in range(2):
                result = lsr("search", "--index", args.index, "--queries", args.queries, "--k", "10", "--query-cut", cut,
                             "--heap-factor", factor, "--threads", "1", "--output", run_path)
                times.append(float(result.stderr.split("mean ")[1].split(" ")[0]))
            run = read_run(run_path, 10, position)
            cells = {"microseconds": min(times)}
            for n in [0] + [int(x) for x in args.neighbours.split(",")]:
                recalls, extra = [], []
                for query, top in run.items():
                    candidates = set(top)
                    for d in top:
                        candidates.update(graph.get(d, [])[:n])
                    extra.append(len(candidates) - len(top))
                    recalls.append(recall(candidates, query))
                cells[f"n={n}"] = {"recall": round(float(np.mean(recalls)), 4), "extra_documents": round(float(np.mean(extra)), 1)}
            report["knn"][setting] = cells
            print(setting, cells, flush=True)

    # Pruned lists as the build makes them (global threshold keeping the index's blocked postings).
    info = lsr("info", "--index", args.index).stdout
    blocked = int(info.split("postings: ")[1].split("(")[1].split(" ")[0])
    parameters = dict(line.strip().split(": ", 1) for line in info.splitlines() if line.startswith("  ") and ": " in line)
    cap = int(float(parameters["n_postings"]) * float(parameters["max_fraction"]))
    columns = documents.tocsc()
    columns.sort_indices()
    lengths = np.diff(columns.indptr)
    low, high = 0.0, float(columns.data.max())

    def kept(threshold):
        mask = np.concatenate([[0], np.cumsum(columns.data >= threshold)])
        return int(np.minimum(mask[columns.indptr[1:]] - mask[columns.indptr[:-1]], cap).sum())
    for _ in range(40):
        middle = (low + high) / 2
        low, high = (middle, high) if kept(middle) > blocked else (low, middle)
    rows, cols, data = [], [], []
    for t in range(width):
        s, e = columns.indptr[t], columns.indptr[t + 1]
        if s == e:
            continue
        w, r = columns.data[s:e], columns.indices[s:e]
        keep = w >= high
        w, r = w[keep], r[keep]
        if len(w) > cap:
            order = np.argsort(-w, kind="stable")[:cap]
            w, r = w[order], r[order]
        rows.append(r), cols.append(np.full(len(r), t)), data.append(w)
    pruned = sp.csc_matrix((np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))), shape=documents.shape)
    report["accumulation"]["kept_postings"] = int(pruned.nnz)
    report["accumulation"]["index_blocked_postings"] = blocked
    sample = list(queries)[:args.accumulate_queries]
    rescore = [int(r) for r in args.rescore.split(",")]
    for cut in [int(c) for c in args.accumulate_cuts.split(",")]:
        recalls, postings = {r: [] for r in rescore}, []
        for query in sample:
            c, w = queries[query]
            order = np.argsort(-w, kind="stable")[:cut]
            lists = pruned[:, c[order]]
            postings.append(lists.nnz)
            partial = np.asarray(lists @ w[order]).ravel()
            touched = np.flatnonzero(partial)
            ranked = touched[np.argsort(-partial[touched], kind="stable")]
            for r in rescore:
                recalls[r].append(recall(ranked[:r], query))
        cells = {"postings": int(np.mean(postings)), **{f"R={r}": round(float(np.mean(recalls[r])), 4) for r in rescore}}
        report["accumulation"][f"query_cut={cut}"] = cells
        print(cut, cells, flush=True)
    json.dump(report, open(args.report + ".json", "w"), indent=1)
    print(f"wrote {args.report}.json")


if __name__ == "__main__":
    main()
