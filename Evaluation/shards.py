#!/usr/bin/env python3
"""One index against sharded collections of the same documents (README "Sharded collections and
Ray"): build wall time, bytes, search throughput and latency, recall@k against exact search.

For each shard count N (1 is one ordinary index), `lsr index [--shards N]` builds the
collection and `lsr search` searches every query of QUERIES at each setting, twice (the first
run warms the page cache, the second is reported), with `--recall-vs-exact`: exact search over
a collection equals exact search over one index (tests prove it), so every recall is against
the same truth. With `--ray`, the collections of N > 1 shards are also built by
`lsr.distributed.build` (one Ray task per shard, `cpus_per_shard` 1) and searched through
`lsr.distributed.Index` (one actor per shard) on a local Ray cluster; run it with a Python
that has `pip install "./python[ray]"`.

    python3 Evaluation/shards.py --docs ../shared/data/gcide/docs.bin.zst \\
        --ids ../shared/data/gcide/doc_ids.txt.zst --vocab ../shared/data/vocab.txt \\
        --queries ../shared/data/gcide/queries.jsonl --shards 1,2,4 --work /tmp/shards \\
        --report Evaluation/reports/shards-gcide-2026-12-03.json [--ray]

Timings are on one shared 2-core machine: compare them as ratios within one run.
"""
import argparse, json, os, shutil, subprocess, sys, tempfile, time

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def lsr_binary():
    path = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=REPOSITORY, check=True,
                          capture_output=True, text=True).stdout.strip()
    return os.path.join(path, "lsr")


def directory_bytes(path):
    return sum(os.path.getsize(os.path.join(root, name)) for root, _, names in os.walk(path) for name in names)


def settings(text):
    """"exact" or "query_cut:heap_factor" items, comma-separated."""
    return [s if s == "exact" else tuple(float(x) if i else int(x) for i, x in enumerate(s.split(":"))) for s in text.split(",")]


def search(binary, index, queries, setting, threads, k, work):
    report = os.path.join(work, "report.json")
    command = [binary, "search", "--index", index, "--queries", queries, "--k", str(k), "--threads", str(threads),
               "--output", os.path.join(work, "run.trec"), "--report", report, "--recall-vs-exact"]
    if setting == "exact":
        command.append("--exact")
    else:
        command += ["--query-cut", str(setting[0]), "--heap-factor", str(setting[1])]
    for _ in range(2):  # the first run warms the page cache
        subprocess.run(command, check=True, capture_output=True)
    with open(report) as f:
        fields = json.load(f)
    return {"setting": setting if setting == "exact" else {"query_cut": setting[0], "heap_factor": setting[1]}, "threads": threads,
            "mean_us": fields["mean_us"], "p99_us": fields["p99_us"], "qps": fields["qps"], "recall": fields["recall_vs_exact"]}


def recall(approximate, exact, k):
    """RecallAgainstExact's mean: |A ∩ E| / min(k, |E|) per query, 1 for an empty E."""
    total = 0.0
    for a, e in zip(approximate, exact):
        truth = {d for d in e[:k] if d != ""}
        total += 1.0 if not truth else len(truth & {d for d in a[:k] if d != ""}) / min(k, len(truth))
    return total / max(1, len(exact))


def in_process_measurements(arguments, counts, work, exact_ids):
    """`lsr.Index(collection).search(QUERIES)` from Python, end to end (reading the query file
    included), as the baseline of the Ray measurements."""
    import lsr
    rows = []
    for n in counts:
        row = {"shards": n, "searches": []}
        with lsr.Index(os.path.join(work, f"cli-{n}")) as index:
            for setting in settings(arguments.settings):
                options = {"method": "exact"} if setting == "exact" else {"query_cut": setting[0], "heap_factor": setting[1]}
                index.search(arguments.queries, k=arguments.k, threads=arguments.threads, **options)
                started = time.perf_counter()
                ids, _ = index.search(arguments.queries, k=arguments.k, threads=arguments.threads, **options)
                elapsed = time.perf_counter() - started
                row["searches"].append({"setting": setting if setting == "exact" else {"query_cut": setting[0], "heap_factor": setting[1]},
                                        "threads": arguments.threads, "qps": len(ids) / elapsed, "recall": recall(ids, exact_ids, arguments.k)})
        rows.append(row)
    return rows


def ray_measurements(arguments, counts, work, exact_ids):
    """Build with `lsr.distributed.build` and search end to end with `lsr.distributed.Index`."""
    import ray
    import lsr.distributed
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, logging_level="warning")
    rows = []
    for n in counts:
        if n == 1:
            continue
        output = os.path.join(work, f"ray-{n}")
        started = time.perf_counter()
        lsr.distributed.build(arguments.docs, output, shards=n, ids=arguments.ids, vocabulary=arguments.vocab, overwrite=True)
        build_seconds = time.perf_counter() - started
        row = {"shards": n, "build_seconds": build_seconds, "bytes": directory_bytes(output), "searches": []}
        with lsr.distributed.Index(output) as index:
            for setting in settings(arguments.settings):
                options = {"method": "exact"} if setting == "exact" else {"query_cut": setting[0], "heap_factor": setting[1]}
                index.search(arguments.queries, k=arguments.k, threads=1, **options)  # warm-up
                started = time.perf_counter()
                ids, _ = index.search(arguments.queries, k=arguments.k, threads=1, **options)
                elapsed = time.perf_counter() - started
                row["searches"].append({"setting": setting if setting == "exact" else {"query_cut": setting[0], "heap_factor": setting[1]},
                                        "threads_per_actor": 1, "qps": len(ids) / elapsed, "recall": recall(ids, exact_ids, arguments.k)})
        rows.append(row)
        shutil.rmtree(output)
    ray.shutdown()
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", required=True)
    parser.add_argument("--ids")
    parser.add_argument("--vocab")
    parser.add_argument("--queries", required=True)
    parser.add_argument("--shards", default="1,2,4")
    parser.add_argument("--settings", default="exact,3:1.0,6:0.8,10:0.7", help="exact or query_cut:heap_factor, comma-separated")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work", default=None)
    parser.add_argument("--report", required=True)
    parser.add_argument("--ray", action="store_true")
    arguments = parser.parse_args()
    binary = lsr_binary()
    work = arguments.work or tempfile.mkdtemp(prefix="lsr-shards-")
    os.makedirs(work, exist_ok=True)
    counts = [int(n) for n in arguments.shards.split(",")]
    rows = []
    for n in counts:
        output = os.path.join(work, f"cli-{n}")
        command = [binary, "index", "--input", arguments.docs, "--output", output, "--threads", str(arguments.threads), "--force"]
        command += ["--ids", arguments.ids] if arguments.ids else []
        command += ["--vocab", arguments.vocab] if arguments.vocab else []
        command += ["--shards", str(n)] if n > 1 else []
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        build_seconds = time.perf_counter() - started
        row = {"shards": n, "build_seconds": build_seconds, "bytes": directory_bytes(output), "searches": []}
        for setting in settings(arguments.settings):
            for threads in sorted({1, arguments.threads}):
                row["searches"].append(search(binary, output, arguments.queries, setting, threads, arguments.k, work))
        print(json.dumps(row), file=sys.stderr)
        rows.append(row)
    report = {"docs": arguments.docs, "queries": arguments.queries, "k": arguments.k, "machine_cores": os.cpu_count(),
              "command": " ".join(sys.argv), "collections": rows}
    if arguments.ray:
        import lsr
        with lsr.Index(os.path.join(work, f"cli-{counts[0]}")) as single:
            exact_ids, _ = single.search(arguments.queries, k=arguments.k, method="exact")
        report["python_in_process"] = in_process_measurements(arguments, counts, work, exact_ids)
        report["ray"] = ray_measurements(arguments, counts, work, exact_ids)
    with open(arguments.report, "w") as f:
        json.dump(report, f, indent=1)
    for n in counts:
        shutil.rmtree(os.path.join(work, f"cli-{n}"), ignore_errors=True)


if __name__ == "__main__":
    main()
