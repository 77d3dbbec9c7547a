#!/usr/bin/env python3
"""Hybrid retrieval on SciFact (issue #15): sparse, dense and fused runs, quality and per-stage cost.

What it does, with the release build of lsr, single-threaded searches:
  1. builds the sparse index with the dense document vectors stored (f16);
  2. quality on the test qrels: sparse alone (exact, and approximate at defaults), dense alone
     (`--dense-only`), and each fusion over the exact sparse top --candidates, interpolation at
     alpha 0.5 and at the alpha that is best on the *train* qrels (chosen there, reported on test);
     NDCG@10 and recall@100 (runs of 100 hits);
  3. per-stage mean µs per query (sparse, dense scoring, fusion; `lsr search --report`), each
     configuration the best of --rounds alternating rounds;
  4. dense re-scoring cost for 100 and 1,000 candidates with OpenBLAS sgemm (the default), one
     sgemv per query and a plain loop (`LSR_DENSE_KERNEL`);
  5. `--dense-only` against numpy (`queries @ docs.T` plus `argpartition`, OpenBLAS on one thread)
     on the same queries in the same run;
  6. writes Evaluation/reports/hybrid-scifact-<date>.md and .json.

Usage (from the repository root, ~3 minutes):
  python3 Evaluation/hybrid.py --docs ../shared/data/scifact/splade-tiny/docs.jsonl.zst \\
      --vocab ../shared/data/vocab.txt --queries ../shared/data/scifact/splade-tiny/queries.jsonl \\
      --qrels ../shared/data/scifact/qrels --minilm ../shared/data/scifact/minilm
"""
import argparse, datetime, json, os, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
ALPHAS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]


def log(message):
    print(f"[hybrid {datetime.datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--docs", required=True)
    p.add_argument("--vocab", required=True)
    p.add_argument("--queries", required=True)
    p.add_argument("--qrels", required=True, help="directory with train.tsv and test.tsv")
    p.add_argument("--minilm", required=True, help="directory with docs.npy, docs.ids.txt, queries.npy, queries.ids.txt")
    p.add_argument("--candidates", type=int, default=100)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--lsr", default=os.path.join(REPO, ".build", "release", "lsr"))
    p.add_argument("--work", default=os.path.join(REPO, "Evaluation", "runs", "hybrid-scifact"))
    p.add_argument("--reports", default=os.path.join(HERE, "reports"))
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    index = os.path.join(args.work, "index")
    log("building the index with dense vectors")
    subprocess.run([args.lsr, "index", "--input", args.docs, "--vocab", args.vocab, "--output", index, "--force",
                    "--dense", os.path.join(args.minilm, "docs.npy"), "--dense-ids", os.path.join(args.minilm, "docs.ids.txt")],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dense = ["--dense-queries", os.path.join(args.minilm, "queries.npy"), "--dense-query-ids", os.path.join(args.minilm, "queries.ids.txt")]

    def search(options, k=100, env=None):
        run, report = os.path.join(args.work, "run"), os.path.join(args.work, "report.json")
        subprocess.run([args.lsr, "search", "--index", index, "--queries", args.queries, "--k", str(k), "--threads", "1",
                        "--output", run, "--report", report, *options], check=True, stderr=subprocess.DEVNULL,
                       env=dict(os.environ, **(env or {})))
        return run, json.load(open(report))

    def evaluate(run, split):
        out = subprocess.run([args.lsr, "eval", "--run", run, "--qrels", os.path.join(args.qrels, f"{split}.tsv"),
                              "--metrics", "ndcg@10,recall@100", "--json"], check=True, capture_output=True, text=True).stdout
        return json.loads(out)["metrics"]

    fusions = {"interpolate": ["--fusion", "interpolate"], "rrf": ["--fusion", "rrf"], "rescore": ["--fusion", "rescore"]}
    # The interpolation weight, chosen on the train queries.
    train = {}
    for alpha in ALPHAS:
        run, _ = search(["--exact", *dense, "--fusion", "interpolate", "--alpha", str(alpha), "--candidates", str(args.candidates)])
        train[alpha] = evaluate(run, "train")["ndcg@10"]
    best_alpha = max(ALPHAS, key=lambda a: (train[a], -abs(a - 0.5)))
    log(f"best alpha on train: {best_alpha} (NDCG@10 {train[best_alpha]:.4f})")

    configurations = {
        "sparse, exact": ["--exact"],
        "sparse, approximate (defaults)": [],
        "dense only": [*dense, "--dense-only"],
        "interpolate, alpha 0.5": ["--exact", *dense, *fusions["interpolate"], "--alpha", "0.5", "--candidates", str(args.candidates)],
        f"interpolate, alpha {best_alpha} (best on train)": ["--exact", *dense, *fusions["interpolate"], "--alpha", str(best_alpha),
                                                            "--candidates", str(args.candidates)],
        "rrf": ["--exact", *dense, *fusions["rrf"], "--candidates", str(args.candidates)],
        "rescore": ["--exact", *dense, *fusions["rescore"], "--candidates", str(args.candidates)],
    }
    rows = {name: {"metrics": None, "us": None} for name in configurations}
    for round_ in range(args.rounds):
        names = list(configurations) if round_ % 2 == 0 else list(reversed(configurations))
        for name in names:
            run, report = search(configurations[name])
            stages = {key: report.get(key, 0.0) for key in ("sparse_us", "dense_us", "fusion_us")}
            if "sparse_us" not in report:
                stages["sparse_us"] = report["mean_us"]
            total = report["mean_us"]
            if rows[name]["us"] is None or total < rows[name]["us"]["total"]:
                rows[name]["us"] = dict(stages, total=total)
            rows[name]["metrics"] = rows[name]["metrics"] or evaluate(run, "test")
    log("quality and stages measured")

    # Dense re-scoring: sgemm, sgemv, plain loop; 100 and 1,000 candidates.
    kernels = {}
    for candidates in (100, 1000):
        for round_ in range(args.rounds):
            for kernel in (("sgemm", "sgemv", "loop") if round_ % 2 == 0 else ("loop", "sgemv", "sgemm")):
                _, report = search(["--exact", *dense, "--fusion", "rescore", "--candidates", str(candidates)], k=10,
                                   env={"LSR_DENSE_KERNEL": kernel})
                key = f"{candidates}:{kernel}"
                kernels[key] = min(kernels.get(key, float("inf")), report["dense_us"])
    log("dense kernels measured")

    # Dense only: lsr against numpy, the same queries, OpenBLAS single-threaded for both.
    numpy_code = f"""
import numpy as np, time
docs = np.load({os.path.join(args.minilm, 'docs.npy')!r}); queries = np.load({os.path.join(args.minilm, 'queries.npy')!r})
best = float('inf')
for _ in range({args.rounds}):
    t = time.perf_counter()
    for start in range(0, len(queries), 64):
        scores = queries[start:start + 64] @ docs.T
        top = np.argpartition(-scores, 10, axis=1)[:, :10]
        order = np.take_along_axis(scores, top, axis=1).argsort(axis=1)[:, ::-1]
    best = min(best, (time.perf_counter() - t) / len(queries) * 1e6)
print(best)
"""
    dense_only = {"lsr": float("inf"), "numpy": float("inf")}
    for _ in range(args.rounds):
        _, report = search([*dense, "--dense-only"], k=10)
        dense_only["lsr"] = min(dense_only["lsr"], report["mean_us"])
        out = subprocess.run([sys.executable, "-c", numpy_code], check=True, capture_output=True, text=True,
                             env=dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")).stdout
        dense_only["numpy"] = min(dense_only["numpy"], float(out.strip()))
    log("dense only measured")

    date = datetime.date.today().isoformat()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "")
    lines = [f"# Hybrid retrieval on SciFact ({date})", "",
             f"lsr {commit}, {cpu}, one thread; µs per query, each configuration the best of {args.rounds} alternating rounds. "
             "Sparse: splade-tiny vectors; dense: all-MiniLM-L6-v2 (384 dimensions, stored f16). Quality on the 300 test queries; "
             f"fusions over the exact sparse top {args.candidates}; the interpolation weight chosen on the train queries "
             f"(alpha {best_alpha}: train NDCG@10 {train[best_alpha]:.4f}). Command: see the header of `Evaluation/hybrid.py`.", "",
             "| run | NDCG@10 | recall@100 | sparse µs | dense µs | fusion µs | total µs |", "|---|---|---|---|---|---|---|"]
    for name, row in rows.items():
        m, us = row["metrics"], row["us"]
        lines.append(f"| {name} | {m['ndcg@10']:.4f} | {m['recall@100']:.4f} | {us['sparse_us']:.1f} | {us['dense_us']:.1f} | "
                     f"{us['fusion_us']:.1f} | {us['total']:.1f} |")
    lines += ["", "SciFact's index is exact-only (no blocks: `--summaries auto`), so approximate sparse search is exact search there.",
              "", "## Dense re-scoring, µs per query (dense stage only; `LSR_DENSE_KERNEL` forces each; lsr uses sgemv here)", "", "| candidates | OpenBLAS sgemm | OpenBLAS sgemv | plain loop |",
              "|---|---|---|---|"]
    for candidates in (100, 1000):
        lines.append(f"| {candidates} | {kernels[f'{candidates}:sgemm']:.1f} | {kernels[f'{candidates}:sgemv']:.1f} | "
                     f"{kernels[f'{candidates}:loop']:.1f} |")
    lines += ["", "The dense stage includes gathering the candidates' rows and decoding f16 to f32 (F16C).", "",
              "## Exact dense search over all 5,183 documents", "",
              f"lsr `--dense-only` (sgemm over batches of 64 queries, f16 rows decoded per chunk): {dense_only['lsr']:.1f} µs per query; "
              f"numpy (float32 matrix in memory, `queries @ docs.T` over batches of 64 plus `argpartition`, OpenBLAS on one thread): "
              f"{dense_only['numpy']:.1f} µs per query.", ""]
    base = os.path.join(args.reports, f"hybrid-scifact-{date}")
    with open(base + ".md", "w") as f:
        f.write("\n".join(lines))
    with open(base + ".json", "w") as f:
        json.dump({"commit": commit, "cpu": cpu, "best_alpha": best_alpha, "train_ndcg": train, "rows": rows, "kernels": kernels,
                   "dense_only": dense_only}, f, indent=1)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
