#!/usr/bin/env python3
"""Cold and warm single-threaded search latency of one index under each page-advice setting.

For each setting of LSR_PAGE_ADVICE (which sections lsr maps with MADV_RANDOM: none, the
forward index, the postings and summaries, or all of them), in alternating rounds: drop
index.lsr's pages from the page cache (posix_fadvise DONTNEED), run `lsr search` over the
queries (cold), run it again (warm). Reports the best round of each.

    python3 Evaluation/scale/page_advice.py --index DIR --queries Q.jsonl --output REPORT.json
"""
import argparse
import json
import os
import subprocess
import tempfile

from run import drop_page_cache  # Evaluation/scale/run.py

SETTINGS = ["none", "forward", "postings", "all"]


def search(lsr, index, queries, advice, work):
    report = os.path.join(work, "report.json")
    subprocess.run([lsr, "search", "--index", index, "--queries", queries, "--k", "10", "--threads", "1",
                    "--output", os.path.join(work, "run"), "--report", report],
                   check=True, stdout=subprocess.DEVNULL, env=dict(os.environ, LSR_PAGE_ADVICE=advice))
    return 1e6 / json.load(open(report))["qps"]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--index", required=True)
    p.add_argument("--queries", required=True)
    p.add_argument("--lsr", default=".build/release/lsr")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--output", required=True)
    args = p.parse_args()
    results = {s: {"cold_us": [], "warm_us": []} for s in SETTINGS}
    with tempfile.TemporaryDirectory() as work:
        for r in range(args.rounds):
            for advice in SETTINGS if r % 2 == 0 else reversed(SETTINGS):
                drop_page_cache(os.path.join(args.index, "index.lsr"))
                results[advice]["cold_us"].append(search(args.lsr, args.index, args.queries, advice, work))
                results[advice]["warm_us"].append(search(args.lsr, args.index, args.queries, advice, work))
                print(f"round {r + 1} {advice}: cold {results[advice]['cold_us'][-1]:.0f} µs, "
                      f"warm {results[advice]['warm_us'][-1]:.0f} µs", flush=True)
    summary = {"index": args.index, "queries": args.queries, "rounds": args.rounds, "settings": results,
               "best": {s: {"cold_us": min(v["cold_us"]), "warm_us": min(v["warm_us"])} for s, v in results.items()}}
    with open(args.output, "w") as f:
        json.dump(summary, f, indent=1)
    for s, v in summary["best"].items():
        print(f"{s:9s} cold {v['cold_us']:8.0f} µs   warm {v['warm_us']:6.0f} µs")


if __name__ == "__main__":
    main()
