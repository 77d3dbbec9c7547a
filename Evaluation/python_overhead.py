#!/usr/bin/env python3
"""What the Python binding costs per call (README "Python"): the same queries searched as one
batch and as a loop of single-query calls, from Python, on one thread, against the search time
lsr itself measures (`lsr search --report`, per query, encoding and output excluded), and a
call with an empty query (the fixed cost of a call: arguments, the C call, ids).

    python Evaluation/python_overhead.py --index Indexes/gcide.lsr --queries ../shared/data/gcide/queries.jsonl \\
        --count 2000 --report Evaluation/reports/python-overhead-gcide-2026-12-03.json

Run it with a Python that has `pip install ./python`. Each way runs three times, alternating;
the best is reported (a shared machine).
"""
import argparse, json, os, subprocess, sys, tempfile, time

import lsr

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", required=True)
    parser.add_argument("--queries", required=True, help="JSONL query vectors")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--report", required=True)
    arguments = parser.parse_args()
    records = []
    with open(arguments.queries) as f:
        for line in f:
            if line.strip():
                records.append(json.loads(line))
            if len(records) == arguments.count:
                break
    vectors = [r["vector"] for r in records]
    n = len(vectors)
    binary = os.path.join(subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=REPOSITORY, check=True,
                                         capture_output=True, text=True).stdout.strip(), "lsr")
    with tempfile.TemporaryDirectory() as work:
        subset = os.path.join(work, "queries.jsonl")
        with open(subset, "w") as out:
            out.writelines(json.dumps(r) + "\n" for r in records)
        index = lsr.Index(arguments.index)
        index.search(vectors, k=arguments.k, threads=1)  # warm the page cache and the searchers
        best = {"batch": float("inf"), "loop": float("inf"), "lsr": float("inf")}
        for _ in range(3):
            started = time.perf_counter()
            batch = index.search(vectors, k=arguments.k, threads=1)
            best["batch"] = min(best["batch"], time.perf_counter() - started)
            started = time.perf_counter()
            loop = [index.search([v], k=arguments.k, threads=1) for v in vectors]
            best["loop"] = min(best["loop"], time.perf_counter() - started)
            report = os.path.join(work, "report.json")
            subprocess.run([binary, "search", "--index", arguments.index, "--queries", subset, "--k", str(arguments.k), "--threads", "1",
                            "--output", os.path.join(work, "run"), "--report", report], check=True, capture_output=True)
            with open(report) as f:
                best["lsr"] = min(best["lsr"], json.load(f)["mean_us"] * len(vectors) / 1e6)
            started = time.perf_counter()
            for _ in range(n):
                index.search([{}], k=arguments.k, threads=1)
            best["empty"] = min(best.get("empty", float("inf")), time.perf_counter() - started)
        assert all((loop[q][0][0] == batch[0][q]).all() and (loop[q][1][0] == batch[1][q]).all() for q in range(len(vectors)))
    result = {"index": arguments.index, "queries": n, "k": arguments.k, "command": " ".join(sys.argv),
              "lsr_search_us_per_query": best["lsr"] / n * 1e6, "python_batch_us_per_query": best["batch"] / n * 1e6,
              "python_loop_us_per_query": best["loop"] / n * 1e6,
              "loop_overhead_us_per_call": (best["loop"] - best["batch"]) / n * 1e6,
              "empty_query_call_us": best["empty"] / n * 1e6}
    with open(arguments.report, "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
