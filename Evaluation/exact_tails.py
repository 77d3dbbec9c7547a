#!/usr/bin/env python3
"""What leaving tails out does to exact search (README "Exact search that leaves out tails"):
the same index searched exactly with its `list.tailmax` section and without it, alternating,
single-threaded, with the results compared byte for byte and the work counted.

    python3 Evaluation/exact_tails.py --dataset gcide --index Indexes/gcide.lsr \\
        --queries ../shared/data/gcide/queries.jsonl --count 2000

"Without" is a copy of `index.lsr` whose `list.tailmax` entry is renamed in the section table
(`list.tailmax-` is a name no reader asks for, checksums recomputed): the bytes of an index
written before the section existed, which lsr searches reading every tail. The copy goes to
`--work` (git-ignored); `documents.sqlite` is linked. Each engine's best of `--rounds`
alternating rounds is reported (a shared machine), with the work of one counted run, to
`Evaluation/reports/exact-tails-<dataset>-<date>.json`.
"""
import argparse, datetime, json, os, shutil, struct, subprocess, sys

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER, ENTRY = 64, 48

_P1, _P2, _P3, _P4, _P5 = (11400714785074694791, 14029467366897019727, 1609587929392839161,
                          9650029242287828579, 2870177450012600261)
_MASK = (1 << 64) - 1


def _rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & _MASK


def _round(acc, lane):
    return (_rotl((acc + lane * _P2) & _MASK, 31) * _P1) & _MASK


def xxh64(data):
    """XXH64 with seed 0 (the container's checksum; small inputs only: the header and the table)."""
    n, i = len(data), 0
    if n >= 32:
        v = [(_P1 + _P2) & _MASK, _P2, 0, (-_P1) & _MASK]
        while i + 32 <= n:
            for j in range(4):
                v[j] = _round(v[j], struct.unpack_from("<Q", data, i + 8 * j)[0])
            i += 32
        h = (_rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)) & _MASK
        for lane in v:
            h = ((h ^ _round(0, lane)) * _P1 + _P4) & _MASK
    else:
        h = _P5
    h = (h + n) & _MASK
    while i + 8 <= n:
        h = ((_rotl(h ^ _round(0, struct.unpack_from("<Q", data, i)[0]), 27) * _P1) + _P4) & _MASK
        i += 8
    if i + 4 <= n:
        h = ((_rotl(h ^ (struct.unpack_from("<I", data, i)[0] * _P1) & _MASK, 23) * _P2) + _P3) & _MASK
        i += 4
    while i < n:
        h = (_rotl(h ^ (data[i] * _P5) & _MASK, 11) * _P1) & _MASK
        i += 1
    h ^= h >> 33
    h = (h * _P2) & _MASK
    h ^= h >> 29
    h = (h * _P3) & _MASK
    return h ^ (h >> 32)


def without_tail_bounds(index, copy):
    """Copies `index` to `copy` with its `list.tailmax` table entry renamed; False if it has none."""
    os.makedirs(copy, exist_ok=True)
    source, target = os.path.join(index, "index.lsr"), os.path.join(copy, "index.lsr")
    shutil.copyfile(source, target)
    store = os.path.join(copy, "documents.sqlite")
    if os.path.lexists(store):
        os.remove(store)
    os.symlink(os.path.abspath(os.path.join(index, "documents.sqlite")), store)
    with open(target, "r+b") as f:
        header = bytearray(f.read(HEADER))
        count, table_offset = struct.unpack_from("<IQ", header, 12)
        f.seek(table_offset)
        table = bytearray(f.read(ENTRY * count))
        for e in range(count):
            name = bytes(table[ENTRY * e:ENTRY * e + 16]).rstrip(b"\0")
            if name == b"list.tailmax":
                table[ENTRY * e:ENTRY * e + 16] = b"list.tailmax-".ljust(16, b"\0")
                break
        else:
            return False
        struct.pack_into("<Q", header, 32, xxh64(bytes(table)))
        struct.pack_into("<Q", header, 40, xxh64(bytes(header[:40])))
        f.seek(table_offset)
        f.write(table)
        f.seek(0)
        f.write(header)
    return True


def search(binary, index, queries, output, count_work):
    report = output + ".json"
    command = [binary, "search", "--index", index, "--queries", queries, "--exact", "--threads", "1", "--output", output, "--report", report]
    subprocess.run(command + (["--count-work"] if count_work else []), check=True, capture_output=True)
    with open(report) as f:
        return json.load(f)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True, help="name in the report's file name")
    parser.add_argument("--index", required=True, help="an index written with list.tailmax")
    parser.add_argument("--queries", required=True, help="JSONL query vectors")
    parser.add_argument("--count", type=int, default=2000, help="queries used (the first ones)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--work", default=os.path.join(REPOSITORY, "Evaluation", "runs", "exact-tails"))
    parser.add_argument("--report", help="default Evaluation/reports/exact-tails-<dataset>-<date>.json")
    arguments = parser.parse_args()
    binary = os.path.join(subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=REPOSITORY, check=True,
                                         capture_output=True, text=True).stdout.strip(), "lsr")
    work = os.path.join(arguments.work, arguments.dataset)
    os.makedirs(work, exist_ok=True)
    queries = os.path.join(work, "queries.jsonl")
    with open(arguments.queries) as source, open(queries, "w") as out:
        taken = 0
        for line in source:
            if line.strip() and taken < arguments.count:
                out.write(line if line.endswith("\n") else line + "\n")
                taken += 1
    plain = os.path.join(work, "without-tailmax")
    if not without_tail_bounds(arguments.index, plain):
        sys.exit(f"{arguments.index} has no list.tailmax section: build it with this lsr")
    indexes = {"with": arguments.index, "without": plain}
    for name, index in indexes.items():  # warm the page cache
        search(binary, index, queries, os.path.join(work, name + ".warm"), False)
    best = {name: None for name in indexes}
    for _ in range(arguments.rounds):
        for name, index in indexes.items():
            r = search(binary, index, queries, os.path.join(work, name + ".run"), False)
            if best[name] is None or r["mean_us"] < best[name]["mean_us"]:
                best[name] = r
    with open(os.path.join(work, "with.run"), "rb") as a, open(os.path.join(work, "without.run"), "rb") as b:
        identical = a.read() == b.read()
    work_counts = {name: search(binary, index, queries, os.path.join(work, name + ".counted"), True)["work_per_query"]
                   for name, index in indexes.items()}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPOSITORY, capture_output=True, text=True).stdout.strip()
    summary = {
        "dataset": arguments.dataset, "index": arguments.index, "queries": taken, "commit": commit, "rounds": arguments.rounds,
        "identical_results": identical,
        "mean_us": {name: best[name]["mean_us"] for name in indexes},
        "p50_us": {name: best[name]["p50_us"] for name in indexes},
        "p99_us": {name: best[name]["p99_us"] for name in indexes},
        "time_ratio_with_over_without": best["with"]["mean_us"] / best["without"]["mean_us"],
        "work_per_query": work_counts,
        "command": " ".join(["python3", "Evaluation/exact_tails.py"] + sys.argv[1:]),
    }
    path = arguments.report or os.path.join(REPOSITORY, "Evaluation", "reports",
                                            f"exact-tails-{arguments.dataset}-{datetime.date.today().isoformat()}.json")
    with open(path, "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    print(json.dumps({k: summary[k] for k in ("identical_results", "mean_us", "time_ratio_with_over_without")}))
    print(f"report: {path}")
    if not identical:
        sys.exit("results differ between the two indexes")


if __name__ == "__main__":
    main()
