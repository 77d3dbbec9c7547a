#!/usr/bin/env python3
"""Refits lsr's search cost model (SearchCostModel in Sources/LSRSearch/SearchPlanner.swift) and
checks it with a planner simulation, on several collections, tune queries to fit and test queries
to report (issue #12).

Per collection and query split it measures, single-threaded, every query's time (best of two
runs) and work (`lsr search --count-work`):
  * exhaustive (exact) search: postings accumulated, documents touched;
  * skip-ahead search alone (`--planning skip-ahead`) at every (query_cut, heap_factor) of a grid:
    lists visited and their blocked postings, blocks, summary entries, documents scored, and the
    query's recall@10 against the exact run.
Then, on the tune queries of every collection together:
  1. least squares of the per-query times on the work units: ns per posting and per touched
     document (exhaustive), per scored document, list, block and summary entry (skip-ahead);
  2. the planner simulated per query as lsr plans (exhaustive when the expected skip-ahead cost is
     no lower; a skip-ahead search costing more than twice the exhaustive estimate abandoned for
     it), for the current constants and the refitted ones with each scored-fraction line
     `clamp(a + b·(1 − heap_factor), 0.05, 0.6)` of a small grid; the line minimizing the mean, over
     collections and recall targets 0.90/0.95/0.97/0.99, of log(fastest simulated grid setting
     reaching the target) is chosen.
The report gives the fit, and the simulated time to each target on the test queries, current
model against refitted. It measures; it does not edit the Swift source.

Measurements are cached per collection and split under --work (an interrupted run resumes).

Usage (from the repository root, release build of lsr; ~20 minutes for gcide and syn250k; the test
files here are the first 1,500 of gcide's 4,994 test queries):
  python3 Evaluation/planner_fit.py \\
      --collection gcide:/work/data/g-def:/work/data/gcide_tune.jsonl:/work/data/gcide_test1500.jsonl \\
      --collection syn250k:/work/data/syn/s-def:/work/data/gcide_tune.jsonl:/work/data/gcide_test1500.jsonl \\
      --output Evaluation/reports/planner-fit-DATE
"""
import argparse, datetime, json, math, os, subprocess, sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
K = 10
TARGETS = [0.90, 0.95, 0.97, 0.99]
GRID = [(qc, hf) for qc in (3, 4, 5, 6, 8, 10, 12, 15) for hf in (0.6, 0.7, 0.8, 0.9, 1.0)]
# SearchCostModel.standard (version 1), ns.
CURRENT = dict(perPosting=2.3, perTouchedDocument=2.2, perBitsetWord=2, perDocument=300, perList=3000, perBlock=20,
               perSummaryEntry=3, fraction=(0.08, 0.75))


def log(message):
    print(f"[planner-fit {datetime.datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def search(lsr, index, queries, extra, work_dir):
    """Two runs; per query the lower time, the work of the counted run, and the hits."""
    run, report = os.path.join(work_dir, "fit.run"), os.path.join(work_dir, "fit.json")
    times = None
    for counted in (True, False):
        subprocess.run([lsr, "search", "--index", index, "--queries", queries, "--k", str(K), "--threads", "1", "--output", run,
                        "--report", report, *extra, *(["--count-work"] if counted else [])], check=True, stderr=subprocess.DEVNULL)
        r = json.load(open(report))
        if counted:
            work, hits = r["per_query_work"], {}
            for line in open(run):
                f = line.split()
                hits.setdefault(f[0], []).append(f[2])
        times = r["per_query_us"] if times is None else [min(a, b) for a, b in zip(times, r["per_query_us"])]
    qids = [json.loads(l)["id"] for l in open(queries) if l.strip()]
    return qids, times, work, hits


def measure(lsr, index, queries, work_dir):
    qids, t_exact, w_exact, exact = search(lsr, index, queries, ["--exact"], work_dir)
    rows = {"qids": qids, "exact_us": t_exact, "postings": [w["postings_accumulated"] for w in w_exact],
            "touched": [w["documents_touched"] for w in w_exact], "settings": []}
    for qc, hf in GRID:
        _, t, w, hits = search(lsr, index, queries, ["--planning", "skip-ahead", "--query-cut", str(qc), "--heap-factor", str(hf)], work_dir)
        recall = [len(set(hits.get(q, [])[:K]) & set(exact.get(q, [])[:K])) / max(1, min(K, len(exact.get(q, [])))) if exact.get(q) else 1.0
                  for q in qids]
        rows["settings"].append({"query_cut": qc, "heap_factor": hf, "us": t, "recall": recall,
                                 **{key: [x[key] for x in w] for key in ("documents_scored", "list_postings", "lists", "blocks", "summary_entries")}})
        log(f"  {qc}:{hf} recall {sum(recall) / len(recall):.4f} {sum(t) / len(t):.0f} µs")
    return rows


def lsr_version(lsr):
    """The binary's identity: its size and modification time."""
    status = os.stat(lsr)
    return [status.st_size, int(status.st_mtime)]


def documents(lsr, index):
    info = subprocess.run([lsr, "info", index], check=True, capture_output=True, text=True).stdout
    return int(next(l for l in info.splitlines() if l.startswith("documents:")).split()[1])


def fit(data):
    """Least squares (no intercept) of the per-query times on the work units, tune queries."""
    ex_x, ex_y, sk_x, sk_y = [], [], [], []
    for c in data:
        n = c["documents"]
        words = (n + 63) // 64
        for p, t, us in zip(c["tune"]["postings"], c["tune"]["touched"], c["tune"]["exact_us"]):
            ex_x.append([p, n * (1 - math.exp(-p / n))])
            ex_y.append(us * 1000 - 2 * CURRENT["perBitsetWord"] * words - CURRENT["perDocument"] * 2 * K)
        for s in c["tune"]["settings"]:
            for i in range(len(s["us"])):
                sk_x.append([s["documents_scored"][i], s["lists"][i], s["blocks"][i], s["summary_entries"][i]])
                sk_y.append(s["us"][i] * 1000)
    (per_posting, per_touched), *_ = np.linalg.lstsq(np.array(ex_x, float), np.array(ex_y, float), rcond=None)
    (per_document, per_list, per_block, per_entry), *_ = np.linalg.lstsq(np.array(sk_x, float), np.array(sk_y, float), rcond=None)
    correlation = lambda x, y, b: float(np.corrcoef(np.array(x, float) @ b, y)[0, 1])
    return dict(perPosting=float(per_posting), perTouchedDocument=float(per_touched), perBitsetWord=CURRENT["perBitsetWord"],
                perDocument=float(per_document), perList=float(per_list), perBlock=float(per_block), perSummaryEntry=float(per_entry),
                exhaustive_correlation=correlation(ex_x, ex_y, np.array([per_posting, per_touched])),
                skip_ahead_correlation=correlation(sk_x, sk_y, np.array([per_document, per_list, per_block, per_entry])))


def simulate(model, c, split):
    """Per grid setting: (mean recall, mean µs) of the planned search."""
    rows, n = c[split], c["documents"]
    words = (n + 63) // 64
    a, b = model["fraction"]
    out = []
    for s in rows["settings"]:
        fraction = min(0.6, max(0.05, a + b * (1 - s["heap_factor"])))
        total_recall = total_us = 0.0
        for i, p in enumerate(rows["postings"]):
            exhaustive = model["perPosting"] * p + model["perTouchedDocument"] * n * (1 - math.exp(-p / n)) \
                + 2 * model["perBitsetWord"] * words + model["perDocument"] * 2 * K
            lists, postings = s["lists"][i], s["list_postings"][i]
            expected = model["perDocument"] * fraction * postings + model["perList"] * lists if postings > 0 else math.inf
            if expected >= exhaustive:
                total_recall += 1.0
                total_us += rows["exact_us"][i]
                continue
            spent = model["perList"] * lists + model["perDocument"] * s["documents_scored"][i] \
                + model["perBlock"] * s["blocks"][i] + model["perSummaryEntry"] * s["summary_entries"][i]
            if spent > 2 * exhaustive:  # abandoned at the budget, then answered exactly
                total_recall += 1.0
                total_us += s["us"][i] * 2 * exhaustive / spent + rows["exact_us"][i]
            else:
                total_recall += s["recall"][i]
                total_us += s["us"][i]
        out.append((total_recall / len(rows["postings"]), total_us / len(rows["postings"]), s["query_cut"], s["heap_factor"]))
    return out


def fastest(points, target):
    reaching = [p for p in points if p[0] >= target]
    return min(reaching, key=lambda p: p[1]) if reaching else None


def score(model, data, split):
    """Mean over collections and targets of log(µs) at the target (a missed target counts as the
    collection's exact search time × 2)."""
    total = 0.0
    for c in data:
        points = simulate(model, c, split)
        miss = 2 * sum(c[split]["exact_us"]) / len(c[split]["exact_us"])
        for target in TARGETS:
            best = fastest(points, target)
            total += math.log(best[1] if best else miss)
    return total / (len(data) * len(TARGETS))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--collection", action="append", required=True, help="name:index:tune_queries:test_queries")
    p.add_argument("--lsr", default=os.path.join(REPO, ".build", "release", "lsr"))
    p.add_argument("--work", default=os.path.join(REPO, "Evaluation", "runs"))
    p.add_argument("--output", required=True, help="report path without extension (.md and .json are written)")
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    data = []
    for spec in args.collection:
        name, index, tune, test = spec.split(":")
        c = {"name": name, "index": index, "documents": documents(args.lsr, index)}
        for split, queries in (("tune", tune), ("test", test)):
            # Measurements are kept per collection and split, so an interrupted run resumes.
            cache = os.path.join(args.work, f"planner-fit-{name}-{split}.json")
            key = {"index": os.path.abspath(index), "queries": os.path.abspath(queries), "lsr": lsr_version(args.lsr), "grid": GRID}
            if os.path.exists(cache) and json.load(open(cache))["key"] == json.loads(json.dumps(key)):
                c[split] = json.load(open(cache))["rows"]
                continue
            log(f"{name} {split}: {queries}")
            c[split] = measure(args.lsr, index, queries, args.work)
            with open(cache, "w") as f:
                json.dump({"key": key, "rows": c[split]}, f)
        data.append(c)
    refit = fit(data)

    def best_line(model):
        lines = [dict(model, fraction=(a, b)) for a in (0.03, 0.05, 0.08, 0.12, 0.16, 0.2) for b in (0.25, 0.5, 0.75, 1.0, 1.5)]
        return min(lines, key=lambda m: score(m, data, "tune"))
    best = best_line(refit)
    # Partial refits: only the terms known to have moved (the one-pass exhaustive search, the
    # scoring kernel), each with its best scored-fraction line.
    variants = [("current", CURRENT),
                ("touched document refitted", best_line(dict(CURRENT, perTouchedDocument=refit["perTouchedDocument"]))),
                ("touched and scored document refitted", best_line(dict(CURRENT, perTouchedDocument=refit["perTouchedDocument"],
                                                                         perDocument=refit["perDocument"]))),
                ("all refitted", best)]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "")
    lines = [f"# Search cost model refit and planner simulation ({datetime.date.today().isoformat()})", "",
             f"lsr {commit}, {cpu}, one thread; per-query times best of two runs. Command: `python3 Evaluation/planner_fit.py "
             + " ".join(f"--collection {c}" for c in args.collection) + f" --output {os.path.relpath(args.output, REPO)}`.", "",
             "## Fit (tune queries of every collection)", "",
             "| unit | current ns | refitted ns |", "|---|---|---|"]
    for key in ("perPosting", "perTouchedDocument", "perDocument", "perList", "perBlock", "perSummaryEntry"):
        lines.append(f"| {key} | {CURRENT[key]:g} | {refit[key]:.2f} |")
    lines += ["", f"Correlation of fitted and measured per-query times: exhaustive {refit['exhaustive_correlation']:.3f}, "
              f"skip-ahead {refit['skip_ahead_correlation']:.3f}.",
              f"Scored fraction line: current {CURRENT['fraction']}, chosen {best['fraction']} (simulated on the tune queries).", "",
              "## Simulated planned search on the test queries: fastest grid setting reaching each target", "",
              "| collection | target | current model | refitted model | refitted / current |", "|---|---|---|---|---|"]
    table = []
    for c in data:
        now, new = simulate(CURRENT, c, "test"), simulate(best, c, "test")
        for target in TARGETS:
            a, b = fastest(now, target), fastest(new, target)
            show = lambda x: f"{x[1]:.0f} µs ({x[2]}:{x[3]}, recall {x[0]:.4f})" if x else "not reached"
            ratio = f"{b[1] / a[1]:.2f}" if a and b else "—"
            lines.append(f"| {c['name']} | {target} | {show(a)} | {show(b)} | {ratio} |")
            table.append({"collection": c["name"], "target": target, "current": a, "refitted": b})
    lines += ["", "## Every variant: geometric mean over collections and targets, relative to the current model", "",
              "| model | scored-fraction line | tune queries | test queries |", "|---|---|---|---|"]
    for name, model in variants:
        ratio = lambda split: math.exp(score(model, data, split) - score(CURRENT, data, split))
        lines.append(f"| {name} | {tuple(model['fraction'])} | {ratio('tune'):.3f} | {ratio('test'):.3f} |")
    lines += ["", "The simulation replays the measured per-query times of exhaustive and skip-ahead search under each "
              "model's plan; it ignores the planning cost itself (O(|q|) per query) and treats an abandoned search as "
              "its share of the skip-ahead time up to the budget plus the exhaustive time.", ""]
    with open(args.output + ".md", "w") as f:
        f.write("\n".join(lines))
    with open(args.output + ".json", "w") as f:
        json.dump({"current": CURRENT, "refit": best, "table": table}, f, indent=1)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
