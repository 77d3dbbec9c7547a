#!/usr/bin/env python3
"""What `lsr search --preload` (map the whole index before the first query) does to a batch's
latency: the same index and queries searched single-threaded in fresh processes with
`--preload never` and `--preload always`, alternating, each run after `--idle` seconds in which
nothing reads the index, with the runs compared byte for byte.

    python3 Evaluation/preload.py --dataset gcide --index Indexes/gcide.lsr \\
        --queries gcide_test.jsonl --count 3000 --target 0.90 --idle 80 --rounds 3

With `--evict --idle 0` the index file's pages are dropped from the page cache (posix_fadvise
DONTNEED) right before each run: a cold start that does not depend on the kernel's choices.

Why idle: a machine may drop an index's pages from the page cache while nothing reads them
(memory pressure, or a kernel that pages out idle files: this one runs DAMON's `pageout`
scheme on regions idle for 60 s), and benchmarks alternate engines, so the first queries of a
run can find the index partly on disk. `--idle 0` measures back-to-back runs instead (a warm
page cache: what differs then is only the page faults of a fresh process).

Reports per run the mean latency, the mean of the first 500 queries and of the rest, the open
and preload times, to `Evaluation/reports/preload-<dataset>-<date>.json`.
"""
import filecmp, json, os, statistics, subprocess, tempfile, time

from provenance import REPOSITORY, search_arguments, write_report
LSR = os.path.join(REPOSITORY, ".build/release/lsr")


def search(arguments, queries, mode, work):
    report, run = os.path.join(work, f"{mode}.json"), os.path.join(work, f"{mode}.run")
    started = time.monotonic()
    subprocess.run([LSR, "search", "--index", arguments.index, "--queries", queries, "--target-recall", str(arguments.target),
                    "--threads", "1", "--preload", mode, "--report", report, "--output", run], check=True, capture_output=True)
    wall = time.monotonic() - started
    data = json.load(open(report))
    latencies = data["per_query_us"]
    return {"mode": mode, "mean_us": data["mean_us"], "first_500_us": statistics.mean(latencies[:500]),
            "after_500_us": statistics.mean(latencies[500:]) if len(latencies) > 500 else None,
            "open_ms": data["open_ms"], "preload_ms": data.get("preload_ms"), "process_s": wall}


def main():
    parser = search_arguments(__doc__.split("\n")[0], "queries searched (the first ones of the file; at least 100, what --preload auto needs)")
    parser.add_argument("--idle", type=float, default=80, help="seconds without reading the index before each run")
    parser.add_argument("--evict", action="store_true", help="drop the index file from the page cache before each run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--report", help="default: Evaluation/reports/preload-<dataset>-<date>.json")
    arguments = parser.parse_args()
    runs = []
    with tempfile.TemporaryDirectory() as work:
        queries = os.path.join(work, "queries.jsonl")
        with open(arguments.queries) as source, open(queries, "w") as target:
            for n, line in enumerate(source):
                if n == arguments.count:
                    break
                target.write(line)
        identical = True
        for r in range(arguments.rounds):
            for mode in (("never", "always") if r % 2 == 0 else ("always", "never")):
                time.sleep(arguments.idle)
                if arguments.evict:
                    descriptor = os.open(os.path.join(arguments.index, "index.lsr"), os.O_RDONLY)
                    os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
                    os.close(descriptor)
                runs.append(search(arguments, queries, mode, work))
                last = runs[-1]
                print(f"{mode:6s} mean {last['mean_us']:7.1f} µs, first 500 {last['first_500_us']:7.1f}, rest {last['after_500_us'] or 0:7.1f}, "
                      f"open {last['open_ms']:.1f} ms, preload {last['preload_ms'] or 0:.1f} ms, process {last['process_s']:.2f} s", flush=True)
            identical &= filecmp.cmp(os.path.join(work, "never.run"), os.path.join(work, "always.run"), shallow=False)
    summary = {}
    for mode in ("never", "always"):
        means = [run["mean_us"] for run in runs if run["mode"] == mode]
        summary[mode] = {"best_mean_us": min(means), "median_mean_us": statistics.median(means)}
    summary["always_over_never_median"] = summary["always"]["median_mean_us"] / summary["never"]["median_mean_us"]
    print(f"median mean: never {summary['never']['median_mean_us']:.1f} µs, always {summary['always']['median_mean_us']:.1f} µs "
          f"({summary['always_over_never_median']:.3f}); identical runs: {identical}")
    output = {"dataset": arguments.dataset, "index": arguments.index, "queries": arguments.queries, "count": arguments.count,
              "target": arguments.target, "idle_s": arguments.idle, "evicted": arguments.evict, "rounds": arguments.rounds,
              "identical_runs": identical, "summary": summary, "runs": runs}
    write_report(output, "preload", arguments.dataset, arguments.report)


if __name__ == "__main__":
    main()
