#!/usr/bin/env python3
"""lsr at scale: builds and searches growing prefixes of a large collection, Seismic beside it.

For each size N in --sizes (documents), on the first N documents of --collection (a Seismic
binary file such as generate.py writes; a prefix of a generated collection is the collection
generate.py writes for N with the same seed):
  1. builds lsr with its defaults (and --lsr-build-options) and --threads threads, after reading
     the input once so that it comes from the page cache (as for Seismic), measuring wall time, peak resident
     memory (wait4's ru_maxrss: the whole process, mapped pages included) and index bytes; with
     --budget-check, builds again under --memory-budget and checks that index.lsr is byte for
     byte the same;
  2. builds Seismic (pyseismic-lsr) with its defaults and the same threads, same measurements,
     up to --seismic-max-documents;
  3. computes the exact top-10 of the queries step 4 uses with `lsr search --exact`, checks a sample
     against `lsr search --brute-force` (a scan of every document);
  4. sets --tune-queries queries apart (seeded), runs `lsr tune` on them, and measures on up to
     --search-queries of the others, single-threaded: lsr at its search defaults, lsr at the
     tuned preset for each --targets recall, and Seismic over --seismic-grid (the fastest
     setting reaching each target), the engines alternating;
  5. at the largest size, lsr's latency with the index's pages dropped from the page cache
     (posix_fadvise DONTNEED: cold) and again right after (warm).
Writes Evaluation/reports/scale-<name>-<date>.{md,json,svg} (the SVG: build memory and
latency at recall 0.95 against collection size).

Usage (from the repository root; the full run takes hours, see README "Scale"):
  python3 Evaluation/scale/generate.py --documents 8841823 --output Evaluation/runs/syn8.8m.bin \\
      --ids Evaluation/runs/syn8.8m.ids
  python3 Evaluation/scale/run.py --collection Evaluation/runs/syn8.8m.bin --ids Evaluation/runs/syn8.8m.ids \\
      --sizes 1000000,2000000,4000000,8841823
CI runs `--check` on 200,000 documents: correctness (budgeted build identical, exact search
equal to brute force, presets landing), no Seismic and no timing claims.
"""
import argparse, datetime, json, os, platform, random, shutil, struct, subprocess, sys, time, types

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
import bench  # noqa: E402  (Evaluation/bench.py: measured runs, recall, Seismic children)

K = 10


def log(message):
    print(f"[scale {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def prefix(collection, ids, size, work):
    """The first `size` documents of a Seismic binary file (and ids), written once into `work`."""
    with open(collection, "rb") as f:
        total = struct.unpack("<I", f.read(4))[0]
        if size >= total:
            return collection, ids, total
        docs = os.path.join(work, f"docs-{size}.bin")
        ids_out = os.path.join(work, f"docs-{size}.ids")
        if not (os.path.exists(docs) and os.path.exists(ids_out)):
            position = 4
            for _ in range(size):
                f.seek(position)
                position += 4 + 8 * struct.unpack("<I", f.read(4))[0]
            with open(docs + ".tmp", "wb") as out:
                out.write(struct.pack("<I", size))
                f.seek(4)
                remaining = position - 4
                while remaining:
                    chunk = f.read(min(remaining, 64 << 20))
                    out.write(chunk)
                    remaining -= len(chunk)
            os.replace(docs + ".tmp", docs)
            with open(ids) as source, open(ids_out + ".tmp", "w") as out:
                for _ in range(size):
                    out.write(source.readline())
            os.replace(ids_out + ".tmp", ids_out)
        return docs, ids_out, size


def build_lsr(args, docs, ids, output, budget=None):
    command = [args.lsr, "index", "--input", docs, "--ids", ids, "--vocab", args.vocab, "--output", output, "--force",
               "--threads", str(args.threads)] + (["--memory-budget", budget] if budget else []) + args.lsr_build_options.split()
    wall, rss, out = bench.run_measured(command, stdout=subprocess.PIPE)
    out = out.decode()
    return {"build_s": wall, "peak_rss_bytes": rss, "bytes": os.path.getsize(os.path.join(output, "index.lsr")),
            "store_bytes": os.path.getsize(os.path.join(output, "documents.sqlite")),
            "passes": int(out.split("inverted lists built in ")[1].split()[0]), "output": out}


def lsr_run(args, index, queries, work, *options, threads=1):
    """One `lsr search`; returns (report, results by query id)."""
    run, report = os.path.join(work, "scale.run"), os.path.join(work, "scale-report.json")
    bench.run_measured([args.lsr, "search", "--index", index, "--queries", queries, "--k", str(K), "--threads", str(threads),
                        "--output", run, "--report", report, *options])
    results = {}
    for line in open(run):
        fields = line.split()
        results.setdefault(fields[0], []).append(fields[2])
    return json.load(open(report)), results


def write_queries(lines, path):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def drop_page_cache(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def settle(*paths):
    """Gives every build the same start: dirty pages (the previous build's index) written back,
    and the input read once so that each engine reads it from the page cache. Without this the
    first build of a size reads a 9 GB input from disk and the second one finds it cached."""
    os.sync()
    for path in paths:
        with open(path, "rb") as f:
            while f.read(64 << 20):
                pass


def measure_size(args, size, work, query_lines, tune_ids, test_ids, largest):
    entry = {"documents": size}
    docs, ids, size = prefix(args.collection, args.ids, size, work)
    entry["documents"] = size
    with open(docs, "rb") as f:
        entry["input_bytes"] = os.fstat(f.fileno()).st_size
    doc_ids = open(ids).read().split("\n")[:size]
    index = os.path.join(work, f"lsr-{size}")
    log(f"{size}: lsr build")
    settle(docs, ids)
    entry["lsr_build"] = build_lsr(args, docs, ids, index)
    nonzeros = int(entry["lsr_build"]["output"].split("(")[1].split()[0])
    entry["nonzeros"] = nonzeros
    log(f"  {entry['lsr_build']['build_s']:.0f} s, peak {entry['lsr_build']['peak_rss_bytes'] / 2**30:.2f} GiB, "
        f"index {entry['lsr_build']['bytes'] / 2**30:.2f} GiB")
    if args.budget_check:
        budgeted = os.path.join(work, f"lsr-{size}-budget")
        log(f"{size}: lsr build under --memory-budget {args.budget_check}")
        settle(docs, ids)
        entry["lsr_budget_build"] = build_lsr(args, docs, ids, budgeted, budget=args.budget_check)
        with open(os.path.join(index, "index.lsr"), "rb") as a, open(os.path.join(budgeted, "index.lsr"), "rb") as b:
            identical = True
            while identical:
                x, y = a.read(64 << 20), b.read(64 << 20)
                identical = x == y
                if not x:
                    break
        entry["lsr_budget_build"]["identical"] = identical
        log(f"  {entry['lsr_budget_build']['build_s']:.0f} s, peak {entry['lsr_budget_build']['peak_rss_bytes'] / 2**30:.2f} GiB, "
            f"identical: {identical}")
        shutil.rmtree(budgeted)
        if not identical:
            sys.exit("the budgeted build differs from the unbudgeted one")
        if args.check and entry["lsr_budget_build"]["passes"] < 2:
            sys.exit(f"--budget-check {args.budget_check} built the lists in one pass: pick a smaller budget")

    seismic_index = None
    if not args.check and size <= args.seismic_max_documents:
        log(f"{size}: Seismic build")
        settle(docs)
        built = bench.build_seismic(types.SimpleNamespace(threads=args.threads), docs, work, tuple(args.seismic_build))
        entry["seismic_build"] = {k: built[k] for k in ("build_s", "peak_rss_bytes", "bytes", "in_memory_build_s")}
        seismic_index = built["path"]
        log(f"  {built['build_s']:.0f} s, peak {built['peak_rss_bytes'] / 2**30:.2f} GiB")

    if args.builds_only:
        return entry
    # Exact answers for the queries tuned on and tested on (the others are never searched).
    by_id = {json.loads(line)["id"]: line for line in query_lines}
    used_lines = [by_id[q] for q in tune_ids + test_ids]
    all_queries = write_queries(used_lines, os.path.join(work, "queries-all.jsonl"))
    log(f"{size}: exact top-{K} of {len(used_lines)} queries")
    report, exact = lsr_run(args, index, all_queries, work, "--exact", threads=args.threads)
    entry["exact_us_2_threads"] = 1e6 / report["qps"]
    truth = {qid: hits[:K] for qid, hits in exact.items()}
    sample = random.Random(args.split_seed).sample(range(len(used_lines)), min(args.brute_force_sample, len(used_lines)))
    sample_path = write_queries([used_lines[i] for i in sample], os.path.join(work, "queries-sample.jsonl"))
    _, brute = lsr_run(args, index, sample_path, work, "--brute-force", threads=args.threads)
    agree = sum(set(brute.get(q, [])[:K]) == set(truth.get(q, [])) for q in brute)
    entry["brute_force_check"] = {"queries": len(brute), "identical_top10": agree}
    log(f"  brute force agrees on {agree}/{len(brute)}")
    if agree != len(brute):
        sys.exit("exact search disagrees with brute force")

    tune_path = write_queries([by_id[q] for q in tune_ids], os.path.join(work, "queries-tune.jsonl"))
    test_path = write_queries([by_id[q] for q in test_ids], os.path.join(work, "queries-test.jsonl"))
    targets = ",".join(f"{t:.2f}" for t in args.targets)
    tune_report = os.path.join(work, "tune-report.json")
    log(f"{size}: lsr tune on {len(tune_ids)} queries")
    wall, _, _ = bench.run_measured([args.lsr, "tune", "--index", index, "--queries", tune_path, "--target-recall", targets,
                                     "--threads", str(args.threads), "--report", tune_report])
    entry["tune_s"] = wall

    def recall(results):
        return bench.recall(results, truth, test_ids)

    lsr_run(args, index, test_path, work)  # warm the index's pages
    runs = []
    report, results = lsr_run(args, index, test_path, work)
    entry["lsr_defaults"] = {"recall": recall(results), "mean_us": 1e6 / report["qps"]}
    tuned = []
    for target in args.targets:
        report, results = lsr_run(args, index, test_path, work, "--target-recall", str(target))
        tuned.append({"target": target, "recall": recall(results), "mean_us": 1e6 / report["qps"],
                      "setting": report.get("target_recall")})
        log(f"  lsr tuned {target}: recall {tuned[-1]['recall']:.4f}, {tuned[-1]['mean_us']:.0f} µs")
    entry["lsr_tuned"] = tuned
    log(f"  lsr defaults: recall {entry['lsr_defaults']['recall']:.4f}, {entry['lsr_defaults']['mean_us']:.0f} µs")

    if seismic_index:
        import seismic
        queries_bin = os.path.join(work, "queries-test.bin")
        token_id = {t: i for i, t in enumerate(bench.read_lines(args.vocab))}
        qids, vectors = bench.jsonl_vectors([by_id[q] for q in test_ids], token_id, test_path, skip_unknown=True)
        bench.write_binary(vectors, queries_bin)
        loaded = seismic.SeismicIndexRaw.load(seismic_index)
        queries = queries_bin
        bench.search_seismic(loaded, queries, qids, doc_ids, 10, 0.7, True)  # warm its pages (untimed)
        grid = []
        for cell in args.seismic_grid.split(","):
            cut, heap = cell.split(":")
            us, _, results = bench.search_seismic(loaded, queries, qids, doc_ids, int(cut), float(heap), True)
            grid.append({"query_cut": int(cut), "heap_factor": float(heap), "recall": recall(results), "mean_us": us})
            lsr_report, lsr_results = lsr_run(args, index, test_path, work, "--query-cut", cut, "--heap-factor", heap)
            grid[-1]["lsr_recall"], grid[-1]["lsr_mean_us"] = recall(lsr_results), 1e6 / lsr_report["qps"]
            log(f"  {cut}:{heap} Seismic {grid[-1]['recall']:.4f} {us:.0f} µs | lsr {grid[-1]['lsr_recall']:.4f} {grid[-1]['lsr_mean_us']:.0f} µs")
        entry["seismic_grid"] = grid
        for t in tuned:
            reaching = [g for g in grid if g["recall"] >= t["target"]]
            best = min(reaching, key=lambda g: g["mean_us"]) if reaching else None
            t["seismic_us"] = best["mean_us"] if best else None
            t["seismic_setting"] = f"{best['query_cut']}:{best['heap_factor']}" if best else None
        del loaded

    if size == largest and not args.check and args.page_cache:
        cold, warm = [], []
        sample_test = write_queries([by_id[q] for q in test_ids[:args.cold_queries]], os.path.join(work, "queries-cold.jsonl"))
        for _ in range(3):
            drop_page_cache(os.path.join(index, "index.lsr"))
            report, _ = lsr_run(args, index, sample_test, work)
            cold.append(1e6 / report["qps"])
            report, _ = lsr_run(args, index, sample_test, work)
            warm.append(1e6 / report["qps"])
        entry["page_cache"] = {"queries": args.cold_queries, "cold_us": cold, "warm_us": warm}
        log(f"  cold {min(cold):.0f} µs, warm {min(warm):.0f} µs")
    return entry


def svg(entries, title):
    import math
    width, height, left, right, top, bottom = 760, 420, 70, 70, 40, 50
    xs = [e["documents"] for e in entries]
    x0, x1 = math.log10(min(xs) * 0.8), math.log10(max(xs) * 1.25)
    sx = lambda n: left + (math.log10(n) - x0) / (x1 - x0) * (width - left - right)
    memory = [(e["documents"], e["lsr_build"]["peak_rss_bytes"] / 2**30, "lsr") for e in entries] + \
             [(e["documents"], e["seismic_build"]["peak_rss_bytes"] / 2**30, "seismic") for e in entries if "seismic_build" in e]
    latency = [(e["documents"], t["mean_us"], "lsr") for e in entries for t in e.get("lsr_tuned", []) if abs(t["target"] - 0.95) < 1e-9] + \
              [(e["documents"], t["seismic_us"], "seismic") for e in entries for t in e.get("lsr_tuned", [])
               if abs(t["target"] - 0.95) < 1e-9 and t.get("seismic_us")]
    m1 = max(v for _, v, _ in memory) * 1.15
    l1 = max(v for _, v, _ in latency) * 1.15 if latency else 1
    sm = lambda v: height - bottom - v / m1 * (height - top - bottom)
    sl = lambda v: height - bottom - v / l1 * (height - top - bottom)
    colors = {"lsr": "#1f77b4", "seismic": "#d62728"}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="14">{title}</text>',
           f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="black"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="black"/>',
           f'<line x1="{width - right}" y1="{top}" x2="{width - right}" y2="{height - bottom}" stroke="black"/>',
           f'<text x="{(left + width - right) / 2}" y="{height - 12}" text-anchor="middle">documents (log scale)</text>',
           f'<text x="18" y="{(top + height - bottom) / 2}" text-anchor="middle" transform="rotate(-90 18 {(top + height - bottom) / 2})">build peak memory (GiB, solid)</text>',
           f'<text x="{width - 18}" y="{(top + height - bottom) / 2}" text-anchor="middle" transform="rotate(90 {width - 18} {(top + height - bottom) / 2})">latency at recall 0.95 (µs, dashed)</text>']
    for n in xs:
        out.append(f'<text x="{sx(n):.1f}" y="{height - bottom + 18}" text-anchor="middle">{n / 1e6:g}M</text>')
    for i in range(6):
        out.append(f'<text x="{left - 6}" y="{sm(m1 * i / 5) + 4:.1f}" text-anchor="end">{m1 * i / 5:.1f}</text>'
                   f'<text x="{width - right + 6}" y="{sl(l1 * i / 5) + 4:.1f}">{l1 * i / 5:.0f}</text>')
    for engine, color in colors.items():
        for points, scale, dash in ((memory, sm, ""), (latency, sl, ' stroke-dasharray="6 4"')):
            line = sorted((n, v) for n, v, e in points if e == engine)
            if line:
                out.append(f'<polyline points="{" ".join(f"{sx(n):.1f},{scale(v):.1f}" for n, v in line)}" fill="none" stroke="{color}" stroke-width="2"{dash}/>')
                out += [f'<circle cx="{sx(n):.1f}" cy="{scale(v):.1f}" r="3" fill="{color}"/>' for n, v in line]
    for i, (engine, color) in enumerate(colors.items()):
        out.append(f'<rect x="{left + 12}" y="{top + 8 + 18 * i}" width="14" height="3" fill="{color}"/>'
                   f'<text x="{left + 32}" y="{top + 13 + 18 * i}">{"lsr" if engine == "lsr" else "Seismic"}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def markdown(summary):
    gib = lambda b: f"{b / 2**30:.2f}"
    lines = [f"# lsr at scale: {summary['name']} ({summary['date']})", "",
             f"Command: `{summary['command']}`", "",
             f"Machine: {summary['machine']}. Builds with {summary['threads']} threads (lsr: "
             f"{('its defaults with ' + summary['lsr_build_options']) if summary.get('lsr_build_options') else 'its defaults'}; "
             f"Seismic: its defaults, {':'.join(map(str, summary['seismic_build']))}); peak memory is the build process's maximum "
             f"resident set (wait4)."
             + ("" if not any("lsr_defaults" in e for e in summary["sizes"]) else
                f" Searches single-threaded on {summary['search_queries']} test queries (exact top-{K} from `lsr search --exact`; "
                f"`lsr tune` on {summary['tune_queries']} other queries)."), "",
             "| documents | nonzeros | lsr build | lsr peak memory | lsr index | Seismic build | Seismic peak memory | Seismic index | build time ratio | memory ratio |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for e in summary["sizes"]:
        b, s = e["lsr_build"], e.get("seismic_build")
        lines.append(f"| {e['documents']:,} | {e['nonzeros']:,} | {b['build_s']:.0f} s | {gib(b['peak_rss_bytes'])} GiB | {gib(b['bytes'])} GiB | "
                     + (f"{s['build_s']:.0f} s | {gib(s['peak_rss_bytes'])} GiB | {gib(s['bytes'])} GiB | {b['build_s'] / s['build_s']:.2f} | "
                        f"{b['peak_rss_bytes'] / s['peak_rss_bytes']:.2f} |" if s else "not built | | | | |"))
    if summary.get("collection_stats"):
        stats = summary["collection_stats"]
        names = list(stats)
        lines += ["", "The collection against the real one it is made from (`generate.py --stats`):", "",
                  "| statistic | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
        for key in stats[names[0]]:
            cell = lambda v: ", ".join(f"{x:.3g}" for x in v) if isinstance(v, list) else (f"{v:,}" if isinstance(v, int) else f"{v:.3f}")
            lines.append(f"| {key} | " + " | ".join(cell(stats[n][key]) for n in names) + " |")
    budget = [e for e in summary["sizes"] if "lsr_budget_build" in e]
    if budget:
        lines += ["", f"Budgeted builds (`--memory-budget {summary['budget_check']}`): "
                  + "; ".join(f"{e['documents']:,} documents: {e['lsr_budget_build']['passes']} pass(es), {e['lsr_budget_build']['build_s']:.0f} s, peak "
                              f"{gib(e['lsr_budget_build']['peak_rss_bytes'])} GiB, index.lsr identical: {e['lsr_budget_build']['identical']}"
                              for e in budget) + "."]
    searched = [e for e in summary["sizes"] if "lsr_defaults" in e]
    if not searched:
        return "\n".join(lines) + "\n"
    lines += ["", "Search (single thread, test queries): lsr at its defaults and at the preset `lsr tune` stored for each target; "
              "Seismic at the fastest setting of its grid reaching the target.", "",
              "| documents | lsr defaults | " + " | ".join(f"lsr tuned {t:.2f}" for t in summary["targets"])
              + " | " + " | ".join(f"Seismic ≥ {t:.2f}" for t in summary["targets"]) + " |",
              "|---|---|" + "---|" * (2 * len(summary["targets"]))]
    for e in searched:
        d = e["lsr_defaults"]
        cells = [f"{d['recall']:.4f} @ {d['mean_us']:.0f} µs"]
        cells += [f"{t['recall']:.4f} @ {t['mean_us']:.0f} µs" for t in e["lsr_tuned"]]
        cells += [(f"{t['seismic_us']:.0f} µs ({t['seismic_setting']})" if t.get("seismic_us") else "—") for t in e["lsr_tuned"]]
        lines.append(f"| {e['documents']:,} | " + " | ".join(cells) + " |")
    for e in summary["sizes"]:
        if "page_cache" in e:
            p = e["page_cache"]
            lines += ["", f"Page cache at {e['documents']:,} documents ({p['queries']} queries, lsr defaults, best of 3): "
                      f"cold {min(p['cold_us']):.0f} µs per query (index pages dropped first), warm {min(p['warm_us']):.0f} µs."]
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--collection", required=True, help="Seismic binary documents (generate.py's output)")
    p.add_argument("--ids", required=True, help="document ids, one per line")
    p.add_argument("--sizes", required=True, help="comma-separated document counts (prefixes of the collection)")
    p.add_argument("--name", default="syn", help="report name")
    p.add_argument("--collection-stats", help="generate.py --stats output (JSON), shown in the report beside the source's")
    p.add_argument("--queries", default=os.path.join(REPO, "../shared/data/gcide/queries.jsonl"))
    p.add_argument("--vocab", default=os.path.join(REPO, "../shared/data/vocab.txt"))
    p.add_argument("--work", default=os.path.join(REPO, "Evaluation", "runs", "scale"))
    p.add_argument("--reports", default=os.path.join(os.path.dirname(HERE), "reports"))
    p.add_argument("--lsr", default=os.path.join(REPO, ".build", "release", "lsr"))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--targets", default="0.90,0.95,0.97")
    p.add_argument("--tune-queries", type=int, default=1000)
    p.add_argument("--search-queries", type=int, default=2000, help="test queries searched (at most)")
    p.add_argument("--split-seed", type=int, default=7)
    p.add_argument("--brute-force-sample", type=int, default=50)
    p.add_argument("--budget-check", help="also build under this --memory-budget and compare index.lsr byte for byte")
    p.add_argument("--seismic-max-documents", type=int, default=10**9)
    p.add_argument("--seismic-build", default="3500:0.1:0.4", help="Seismic's build (its defaults)")
    p.add_argument("--seismic-grid", default="3:1.0,4:1.0,5:1.0,6:1.0,8:0.9,10:0.7")
    p.add_argument("--cold-queries", type=int, default=200)
    p.add_argument("--lsr-build-options", default="", help="more `lsr index` options, e.g. \"--n-postings 1000\" (default: none)")
    p.add_argument("--no-page-cache", dest="page_cache", action="store_false", help="skip the cold/warm page-cache measurement")
    p.add_argument("--builds-only", action="store_true", help="measure the builds only (no search)")
    p.add_argument("--check", action="store_true", help="correctness only (CI): no Seismic, no page-cache timing, no report")
    args = p.parse_args()
    if not args.check:
        bench.ensure_venv(script=os.path.abspath(__file__))
    os.environ["RAYON_NUM_THREADS"] = "1"  # Seismic searches in this process single-threaded
    args.targets = [float(t) for t in args.targets.split(",")]
    args.seismic_build = [float(x) if "." in x else int(x) for x in args.seismic_build.split(":")]
    sizes = sorted(int(s) for s in args.sizes.split(","))
    os.makedirs(args.work, exist_ok=True)
    if not os.path.exists(args.lsr):
        subprocess.run(["swift", "build", "-c", "release"], cwd=REPO, check=True)

    query_lines = [line for line in bench.read_lines(args.queries) if line.strip()]
    qids = [json.loads(line)["id"] for line in query_lines]
    shuffled = qids[:]
    random.Random(args.split_seed).shuffle(shuffled)
    tune_ids = shuffled[:args.tune_queries]
    test_ids = shuffled[args.tune_queries:args.tune_queries + args.search_queries]

    entries = []
    for size in sizes:
        entries.append(measure_size(args, size, args.work, query_lines, tune_ids, test_ids, sizes[-1]))
        failed = [t for t in entries[-1].get("lsr_tuned", []) if t["recall"] < t["target"] - 0.01]
        if failed and args.check:
            sys.exit(f"presets missed their targets by more than 0.01: {failed}")
    if args.check:
        log("check passed")
        return
    date = datetime.date.today().isoformat()
    summary = {"name": args.name, "date": date, "command": " ".join([os.path.relpath(sys.argv[0], REPO)] + sys.argv[1:]),
               "machine": f"{platform.machine()}, {os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB",
               "threads": args.threads, "targets": args.targets, "tune_queries": len(tune_ids), "search_queries": len(test_ids),
               "budget_check": args.budget_check, "lsr_build_options": args.lsr_build_options, "seismic_build": args.seismic_build, "sizes": entries,
               "collection_stats": json.load(open(args.collection_stats)) if args.collection_stats else None}
    base = os.path.join(args.reports, f"scale-{args.name}-{date}")
    os.makedirs(args.reports, exist_ok=True)
    with open(base + ".json", "w") as f:
        json.dump(summary, f, indent=1)
    with open(base + ".md", "w") as f:
        f.write(markdown(summary))
    with open(base + ".svg", "w") as f:
        f.write(svg(entries, f"lsr and Seismic against collection size ({args.name})"))
    log(f"wrote {base}.{{md,json,svg}}")


if __name__ == "__main__":
    main()
