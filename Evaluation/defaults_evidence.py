#!/usr/bin/env python3
"""Chooses lsr's default build from bench reports of several collections (issue #12, section 3).

Reads `bench.py` JSON reports (each made with the tune/test protocol over the same builds) and
writes a Markdown report: per collection, build and recall target, the latency `lsr tune` +
`lsr search --target-recall` reached on the held-apart test queries, the recall it reached, and
Seismic's fastest grid setting on the same queries; then each build's geometric mean, over every
collection and target, of its latency relative to the best build's there. The default is the
build with the lowest geometric mean (a build that misses a target by more than 0.01 of recall
anywhere is out). Nothing here is fitted to one collection.

Usage:
  python3 Evaluation/defaults_evidence.py Evaluation/reports/bench-gcide-DATE.json \\
      Evaluation/reports/bench-syn250k-DATE.json Evaluation/reports/bench-scifact-DATE.json \\
      --output Evaluation/reports/defaults-DATE.md
"""
import argparse, json, math, os


def label(build):
    return f"{build[0]} / {build[1]} / {build[2]}"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("reports", nargs="+")
    p.add_argument("--output", required=True)
    args = p.parse_args()
    reports = [json.load(open(path)) for path in args.reports]
    lines = ["# Default build from several collections", "",
             "Each collection: `Evaluation/bench.py` with the tune/test protocol (`lsr tune` on queries set apart at random, "
             "`lsr search --target-recall T` single-threaded on the others), the same three builds "
             "(n_postings / centroid_fraction / summary_energy) for lsr and Seismic. Latencies in µs per query, one thread. "
             "Regenerate with the command in `Evaluation/defaults_evidence.py`.", ""]
    relative = {}  # build -> list of latency / best latency at that (collection, target)
    missed = set()
    for r in reports:
        tuned = r["tuned"]
        lines += [f"## {r['dataset']} ({r['documents']} documents, {r['queries']} test queries, {r['tune_queries']} tuning queries, lsr {r['lsr_commit']})", "",
                  "| build | target | preset | test recall | lsr µs | Seismic fastest µs | lsr/Seismic | index MB | build s |", "|---|---|---|---|---|---|---|---|---|"]
        builds = {tuple(b["build"]): b for b in r["builds"]}
        for t in tuned:
            b = builds[tuple(t["build"])]["lsr"]
            preset = "exact" if t["method"] == "exact" else f"{t['query_cut']} / {t['heap_factor']:g}"
            seismic = "–" if t["seismic_us"] is None else f"{t['seismic_us']:.0f}"
            ratio = "–" if t["ratio"] is None else f"{t['ratio']:.2f}"
            lines.append(f"| {label(t['build'])} | {t['target']:.2f} | {preset} | {t['recall']:.4f} | {t['mean_us']:.0f} | {seismic} | {ratio} | "
                         f"{b['bytes'] / 1e6:.0f} | {b['build_s']:.0f} |")
            if not t["landed"]:
                missed.add(tuple(t["build"]))
        for target in sorted({t["target"] for t in tuned}):
            row = [t for t in tuned if t["target"] == target]
            best = min(t["mean_us"] for t in row)
            for t in row:
                relative.setdefault(tuple(t["build"]), []).append(t["mean_us"] / best)
        lines.append("")
    lines += ["## Choice", "", "| build | geometric mean of latency / best build's (every collection and target) | misses a target by > 0.01 |", "|---|---|---|"]
    scores = {b: math.exp(sum(map(math.log, v)) / len(v)) for b, v in relative.items()}
    for b, score in sorted(scores.items(), key=lambda kv: kv[1]):
        lines.append(f"| {label(b)} | {score:.3f} | {'yes' if b in missed else 'no'} |")
    eligible = [b for b in scores if b not in missed] or list(scores)
    choice = min(eligible, key=lambda b: scores[b])
    lines += ["", f"Default build: **{label(choice)}**.", ""]
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
