#!/usr/bin/env python3
"""Seismic (pyseismic-lsr) and lsr side by side on one corpus, single-threaded search.

Builds Seismic and lsr with the same index parameters and thread count, searches the same queries
with each engine over a (query_cut, heap_factor) grid, engines alternating, and reports recall@10
against a given exact top-k file, mean latency, build time and index bytes.

Usage (from the repository root, after `swift build -c release`):
  python3 -m venv .venv-seismic && .venv-seismic/bin/pip install pyseismic-lsr numpy
  .venv-seismic/bin/python Evaluation/seismic_side_by_side.py \
      --docs DOCS.bin --doc-ids DOC_IDS.txt[.zst] --vocab VOCAB.txt --queries QUERIES.jsonl \
      --truth EXACT_TOP100.tsv[.zst] --work /tmp/side-by-side --out Evaluation/reports/side-by-side-gcide.json
DOCS.bin must be uncompressed Seismic binary (pyseismic reads it directly).
"""
import argparse, json, os, struct, subprocess, sys, time

import numpy as np


def read_text(path):
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-dc", path], check=True, capture_output=True).stdout.decode()
    return open(path, encoding="utf-8").read()


def load_truth(path, k):
    truth = {}
    for line in read_text(path).splitlines():
        qid, did, rank, _ = line.split("\t")
        if int(rank) <= k:
            truth.setdefault(qid, []).append(did)
    return truth


def recall(results, truth, k):
    total = 0.0
    for qid, exact in truth.items():
        got = set(results.get(qid, [])[:k])
        total += len(got & set(exact[:k])) / min(k, len(exact))
    return total / len(truth)


def write_query_bin(queries_path, vocab, out):
    token_id = {t: i for i, t in enumerate(vocab)}
    ids, vectors = [], []
    for line in open(queries_path, encoding="utf-8"):
        if not line.strip():
            continue
        record = json.loads(line)
        pairs = sorted((token_id[t], w) for t, w in record["vector"].items() if t in token_id and w > 0)
        ids.append(str(record["id"]))
        vectors.append(pairs)
    with open(out, "wb") as f:
        f.write(struct.pack("<I", len(vectors)))
        for pairs in vectors:
            f.write(struct.pack("<I", len(pairs)))
            f.write(struct.pack(f"<{len(pairs)}I", *[c for c, _ in pairs]))
            f.write(struct.pack(f"<{len(pairs)}f", *[w for _, w in pairs]))
    return ids


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--docs", required=True)
    p.add_argument("--doc-ids", required=True)
    p.add_argument("--vocab", required=True)
    p.add_argument("--queries", required=True)
    p.add_argument("--truth", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--lsr", default=".build/release/lsr")
    p.add_argument("--threads", type=int, default=2, help="build threads, both engines")
    p.add_argument("--grid", default="10:0.9,10:0.8,15:0.8,20:0.8,20:0.7")
    p.add_argument("--n-postings", type=int, default=3500)
    p.add_argument("--centroid-fraction", type=float, default=0.1)
    p.add_argument("--summary-energy", type=float, default=0.4)
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    k = 10
    vocab = read_text(args.vocab).splitlines()
    doc_ids = read_text(args.doc_ids).splitlines()
    truth = load_truth(args.truth, k)
    qbin = os.path.join(args.work, "queries.bin")
    qids = write_query_bin(args.queries, vocab, qbin)

    os.environ["RAYON_NUM_THREADS"] = str(args.threads)
    import seismic
    started = time.perf_counter()
    sidx = seismic.SeismicIndexRaw.build(args.docs, n_postings=args.n_postings,
                                         centroid_fraction=args.centroid_fraction,
                                         summary_energy=args.summary_energy)
    seismic_build = time.perf_counter() - started
    prefix = os.path.join(args.work, "seismic")
    sidx.save(prefix)
    saved = [prefix + suffix for suffix in (".index.seismic", "") if os.path.isfile(prefix + suffix)]
    seismic_bytes = os.path.getsize(saved[0])

    lsr_dir = os.path.join(args.work, "lsr-index")
    started = time.perf_counter()
    subprocess.run([args.lsr, "index", "--input", args.docs, "--ids", args.doc_ids, "--vocab", args.vocab,
                    "--output", lsr_dir, "--force", "--threads", str(args.threads),
                    "--n-postings", str(args.n_postings), "--centroid-fraction", str(args.centroid_fraction),
                    "--summary-energy", str(args.summary_energy)], check=True, stdout=subprocess.DEVNULL)
    lsr_build = time.perf_counter() - started
    lsr_bytes = sum(os.path.getsize(os.path.join(lsr_dir, f)) for f in os.listdir(lsr_dir))

    points = []
    for cell in args.grid.split(","):
        qc, hf = int(cell.split(":")[0]), float(cell.split(":")[1])
        # Seismic, single thread.
        started = time.perf_counter()
        out = sidx.batch_search(qbin, k, qc, hf, 0, False, 1)
        seismic_us = (time.perf_counter() - started) / len(qids) * 1e6
        sres = {qids[i]: [doc_ids[pos] for _, pos in hits] for i, hits in enumerate(out)}
        # lsr, single thread.
        run = os.path.join(args.work, "lsr.run")
        report = os.path.join(args.work, "lsr.json")
        subprocess.run([args.lsr, "search", "--index", lsr_dir, "--queries", args.queries, "--k", str(k),
                        "--query-cut", str(qc), "--heap-factor", str(hf), "--threads", "1",
                        "--output", run, "--report", report], check=True, stderr=subprocess.DEVNULL)
        lres = {}
        for line in open(run):
            f = line.split()
            lres.setdefault(f[0], []).append(f[2])
        lrep = json.load(open(report))
        point = {"query_cut": qc, "heap_factor": hf,
                 "seismic": {"recall@10": recall(sres, truth, k), "mean_us": seismic_us},
                 "lsr": {"recall@10": recall(lres, truth, k), "mean_us": lrep["mean_us"], "p99_us": lrep["p99_us"]}}
        points.append(point)
        print(json.dumps(point), flush=True)
    summary = {"threads": args.threads, "queries": len(qids),
               "seismic": {"build_s": seismic_build, "index_bytes": seismic_bytes},
               "lsr": {"build_s": lsr_build, "index_bytes": lsr_bytes}, "grid": points}
    json.dump(summary, open(args.out, "w"), indent=2)
    print(json.dumps({k2: v for k2, v in summary.items() if k2 != "grid"}))


if __name__ == "__main__":
    main()
