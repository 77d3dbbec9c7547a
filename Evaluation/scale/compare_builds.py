#!/usr/bin/env python3
"""Two or more lsr builds of one collection, searched side by side on held-out queries.

Tunes each index on --tune queries (`lsr tune`, unless --no-tune), computes the exact top-10 of
the --test queries with the first index (`lsr search --exact`; every build of one collection
has the same exact answers), then searches the test queries single-threaded with each index in
turn (defaults, then the preset for each target), --rounds times, and prints recall@10 @ µs per
query for every round: compare the later rounds, the first warms the page cache.

Example (the centroid-fraction comparison in README "Scale"):
  python3 Evaluation/scale/compare_builds.py --index cf0.2=work/lsr-8841823 --index cf0.1=work/lsr-8841823-cf01 \\
      --tune work/queries-tune.jsonl --test work/queries-test.jsonl --work work/compare
"""
import argparse, json, os, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
import bench  # noqa: E402
import run  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--index", action="append", required=True, help="NAME=DIR, two or more")
    p.add_argument("--tune", required=True, help="queries to tune on (JSONL)")
    p.add_argument("--test", required=True, help="held-out queries to measure on (JSONL)")
    p.add_argument("--targets", default="0.90,0.95,0.97")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--work", required=True, help="a directory for runs and reports")
    p.add_argument("--lsr", default=os.path.join(os.path.dirname(os.path.dirname(HERE)), ".build", "release", "lsr"))
    p.add_argument("--no-tune", dest="tune_first", action="store_false", help="use the presets the indexes have")
    args = p.parse_args()
    indexes = dict(entry.split("=", 1) for entry in args.index)
    os.makedirs(args.work, exist_ok=True)
    if args.tune_first:
        for name, path in indexes.items():
            started = time.time()
            subprocess.run([args.lsr, "tune", "--index", path, "--queries", args.tune, "--target-recall", args.targets,
                            "--threads", "2", "--report", os.path.join(args.work, f"tune-{name}.json")], check=True)
            print(f"{name}: tuned in {time.time() - started:.0f} s", flush=True)
    _, exact = run.lsr_run(args, next(iter(indexes.values())), args.test, args.work, "--exact", threads=2)
    truth = {qid: hits[:run.K] for qid, hits in exact.items()}
    test_ids = list(truth)
    rows = {}
    for _ in range(args.rounds):
        for target in ["defaults"] + args.targets.split(","):
            for name, path in indexes.items():
                options = [] if target == "defaults" else ["--target-recall", target]
                report, results = run.lsr_run(args, path, args.test, args.work, *options)
                rows.setdefault((name, target), []).append(f"{bench.recall(results, truth, test_ids):.4f} @ {1e6 / report['qps']:.0f} µs")
    for (name, target), cells in rows.items():
        print(f"{name} {target}: " + " | ".join(cells))


if __name__ == "__main__":
    main()
