#!/usr/bin/env python3
"""What 2 MiB pages in the page cache do to search latency: two copies of one index, one read
into 4 KiB pages, the other into 2 MiB pages, searched alternately in fresh processes (one
thread, `--preload always`, which maps what the cache holds and changes no page's size).

    python3 Evaluation/huge_pages.py --dataset gcide --index Indexes/gcide.lsr \\
        --queries gcide_test.jsonl --count 3000 --target 0.90 --rounds 8

The copies go to `--scratch` (default: a temporary directory beside the index, removed after).
Each copy's file is synced and dropped from the page cache, then read back:
- small: page by page, through a mapping advised `MADV_RANDOM` (as a search without preload
  faults its forward index in), so the cache holds it in 4 KiB pages;
- huge: by `lsr search --preload always` over one query (lsr's own preload, which asks for
  2 MiB pages), so the cache holds it in 2 MiB pages where the kernel gives them.
How much of each file a mapping then maps in 2 MiB pages (`FilePmdMapped` of /proc/self/smaps)
is checked and reported; a kernel or file system without large folios in the page cache gives
the same small coverage for both, and the comparison says so.

`--coverage FILE` only prints how much of FILE a mapping maps in 2 MiB pages as the page cache
holds it now (say right after `lsr index`), and exits.

Latency: per run the mean over the queries; per copy the median of the runs' means, and the mean
over queries of each query's fastest time over the rounds (less sensitive to a noisy machine).
Results of the two copies are compared byte for byte. Report:
`Evaluation/reports/huge-pages-<dataset>-<date>.json`.
"""
import argparse, filecmp, json, mmap, os, re, shutil, statistics, subprocess, sys, tempfile

from provenance import REPOSITORY, search_arguments, write_report
LSR = os.path.join(REPOSITORY, ".build/release/lsr")
MADV_POPULATE_READ = 22
PAGE = mmap.PAGESIZE


def drop_from_cache(path):
    """Writes `path`'s dirty pages back (the kernel keeps dirty pages), then drops them all."""
    descriptor = os.open(path, os.O_RDONLY)
    os.fsync(descriptor)
    os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(descriptor)


def mapped_in_huge_pages(path):
    """Fraction of `path` that a fresh read-only mapping maps in 2 MiB pages once populated."""
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        view = mmap.mmap(file.fileno(), size, prot=mmap.PROT_READ)
        view.madvise(MADV_POPULATE_READ)
        pmd, inside, real = 0, False, os.path.realpath(path)
        with open("/proc/self/smaps") as smaps:
            for line in smaps:
                if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                    inside = line.rstrip().endswith(real)
                elif inside and line.startswith("FilePmdMapped:"):
                    pmd += int(line.split()[1]) * 1024
        view.close()
    return pmd / size


def read_back(index, huge, one_query, work):
    path = os.path.join(index, "index.lsr")
    drop_from_cache(path)
    if huge:
        subprocess.run([LSR, "search", "--index", index, "--queries", one_query, "--target-recall", "0.9", "--preload", "always",
                        "--output", os.path.join(work, "read-back.run")], check=True, capture_output=True)
        return
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        view = mmap.mmap(file.fileno(), size, prot=mmap.PROT_READ)
        view.madvise(mmap.MADV_RANDOM)
        for offset in range(0, size, PAGE):
            view[offset]
        view.close()


def search(index, queries, target, work, name):
    report, run = os.path.join(work, f"{name}.json"), os.path.join(work, f"{name}.run")
    subprocess.run([LSR, "search", "--index", index, "--queries", queries, "--target-recall", str(target), "--threads", "1",
                    "--preload", "always", "--report", report, "--output", run], check=True, capture_output=True)
    with open(report) as f:
        return json.load(f)


def main():
    if "--coverage" in sys.argv:
        coverage = argparse.ArgumentParser(description="huge-page coverage of a file as cached now")
        coverage.add_argument("--coverage", required=True, metavar="FILE")
        path = coverage.parse_args().coverage
        share = mapped_in_huge_pages(path)
        print(f"{path}: {share:.1%} of {os.path.getsize(path) / 2**20:.0f} MiB mapped in 2 MiB pages")
        return
    parser = search_arguments(__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--scratch", help="directory for the two copies (default: beside the index)")
    parser.add_argument("--report", help="default: Evaluation/reports/huge-pages-<dataset>-<date>.json")
    arguments = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="huge-pages-", dir=arguments.scratch or os.path.dirname(os.path.abspath(arguments.index)))
    try:
        queries, one_query = os.path.join(scratch, "queries.jsonl"), os.path.join(scratch, "one-query.jsonl")
        with open(arguments.queries) as source, open(queries, "w") as target, open(one_query, "w") as first:
            for n, line in enumerate(source):
                if n == arguments.count:
                    break
                target.write(line)
                if n == 0:
                    first.write(line)
        copies, coverage = {}, {}
        for name in ("small", "huge"):
            copies[name] = os.path.join(scratch, name)
            shutil.copytree(arguments.index, copies[name])
            read_back(copies[name], name == "huge", one_query, scratch)
            coverage[name] = mapped_in_huge_pages(os.path.join(copies[name], "index.lsr"))
            print(f"{name}: {coverage[name]:.1%} of index.lsr mapped in 2 MiB pages", flush=True)
        means, preloads = {"small": [], "huge": []}, {"small": [], "huge": []}
        fastest = {}
        for r in range(arguments.rounds):
            for name in (("small", "huge") if r % 2 == 0 else ("huge", "small")):
                data = search(copies[name], queries, arguments.target, scratch, name)
                means[name].append(data["mean_us"])
                preloads[name].append(data.get("preload_ms"))
                per = data["per_query_us"]
                fastest[name] = per if name not in fastest else [min(a, b) for a, b in zip(fastest[name], per)]
                print(f"{name:5s} mean {data['mean_us']:7.1f} µs, preload {data.get('preload_ms') or 0:.1f} ms", flush=True)
        identical = filecmp.cmp(os.path.join(scratch, "small.run"), os.path.join(scratch, "huge.run"), shallow=False)
        coverage_after = {name: mapped_in_huge_pages(os.path.join(copies[name], "index.lsr")) for name in copies}
    finally:
        shutil.rmtree(scratch)
    summary = {name: {"median_mean_us": statistics.median(means[name]), "mean_of_fastest_us": statistics.mean(fastest[name]),
                      "huge_page_coverage_before": coverage[name], "huge_page_coverage_after": coverage_after[name]} for name in means}
    summary["huge_over_small_median"] = summary["huge"]["median_mean_us"] / summary["small"]["median_mean_us"]
    summary["huge_over_small_fastest"] = summary["huge"]["mean_of_fastest_us"] / summary["small"]["mean_of_fastest_us"]
    print(f"median mean: small {summary['small']['median_mean_us']:.1f} µs, huge {summary['huge']['median_mean_us']:.1f} µs "
          f"({summary['huge_over_small_median']:.3f}); mean of fastest: {summary['small']['mean_of_fastest_us']:.1f} vs "
          f"{summary['huge']['mean_of_fastest_us']:.1f} ({summary['huge_over_small_fastest']:.3f}); identical runs: {identical}")
    if abs(coverage["huge"] - coverage["small"]) < 0.1:
        print("note: both copies have about the same huge-page coverage; this kernel or file system does not give the page cache 2 MiB pages")
    output = {"dataset": arguments.dataset, "index": arguments.index, "queries": arguments.queries, "count": arguments.count,
              "target": arguments.target, "rounds": arguments.rounds, "kernel": os.uname().release,
              "identical_runs": identical, "summary": summary, "means_us": means, "preload_ms": preloads}
    write_report(output, "huge-pages", arguments.dataset, arguments.report)


if __name__ == "__main__":
    main()
