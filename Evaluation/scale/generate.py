#!/usr/bin/env python3
"""Writes an N-document Seismic binary collection whose statistics follow a real one.

Each generated document mixes two or three documents of a real collection (gcide by default):
their vectors are added with random mixing weights, re-weighted by a per-document factor, and
trimmed to a length drawn from a log-normal distribution (its heaviest components kept). Token
frequencies, weight distributions and topical structure come from the real documents; the length
distribution is set by --mean-length / --length-sigma (MS MARCO passages with SPLADE average
about 127 nonzeros). A mixture of random documents is never a copy of one, and two mixtures
share all their sources with negligible probability, so there are no exact or near duplicates.

Deterministic for a seed; streams: it holds the source collection (137 MB for gcide) and one
output document at a time, whatever N. Writes DOCS (Seismic binary: u32 n, then per document
u32 nnz, u32 components ascending, f32 values) and, with --ids, one id per line (`syn-<i>`).
With --stats it prints the generated collection's statistics beside the source's.

Usage (from the repository root):
  python3 Evaluation/scale/generate.py --documents 250000 --output Evaluation/runs/syn250k.bin \\
      --ids Evaluation/runs/syn250k.ids --stats
"""
import argparse, os, struct, subprocess, sys

import numpy as np


def read_source(path):
    data = subprocess.run(["zstd", "-dc", path], check=True, capture_output=True).stdout if path.endswith(".zst") \
        else open(path, "rb").read()
    buffer = memoryview(data)
    n = struct.unpack_from("<I", buffer, 0)[0]
    offsets = np.zeros(n + 1, np.int64)
    position, lengths, starts = 4, np.zeros(n, np.int64), np.zeros(n, np.int64)
    for i in range(n):
        k = struct.unpack_from("<I", buffer, position)[0]
        lengths[i], starts[i] = k, position + 4
        position += 4 + 8 * k
    raw = np.frombuffer(data, np.uint8)
    components = np.empty(lengths.sum(), np.uint32)
    values = np.empty(lengths.sum(), np.float32)
    np.cumsum(lengths, out=offsets[1:])
    for i in range(n):
        s, k, o = starts[i], lengths[i], offsets[i]
        components[o:o + k] = raw[s:s + 4 * k].view(np.uint32)
        values[o:o + k] = raw[s + 4 * k:s + 8 * k].view(np.float32)
    return offsets, components, values


def statistics(lengths, components, values):
    frequency = np.bincount(components)
    top = np.sort(frequency)[::-1]
    return {
        "documents": len(lengths), "nonzeros_mean": float(np.mean(lengths)), "nonzeros_sd": float(np.std(lengths)),
        "nonzeros_p10_p50_p90": [float(x) for x in np.percentile(lengths, [10, 50, 90])],
        "weight_mean": float(np.mean(values)), "weight_p50_p90_p99": [float(x) for x in np.percentile(values, [50, 90, 99])],
        "distinct_tokens": int(np.count_nonzero(frequency)),
        "top_100_tokens_share_of_postings": float(top[:100].sum() / max(1, top.sum())),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--source", default=os.path.join(os.path.dirname(__file__), "../../../shared/data/gcide/docs.bin.zst"))
    p.add_argument("--documents", type=int, required=True)
    p.add_argument("--output", required=True)
    p.add_argument("--ids", help="also write one id per line here")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--mean-length", type=float, default=132.0,
                   help="mean of the sampled length (short mixtures cap it: 132 gives about 127 nonzeros, as MS MARCO with SPLADE)")
    p.add_argument("--length-sigma", type=float, default=0.45, help="log-normal sigma of the length")
    p.add_argument("--stats", action="store_true", help="print statistics of the source and the output")
    args = p.parse_args()

    offsets, components, values = read_source(args.source)
    n_source = len(offsets) - 1
    rng = np.random.default_rng(args.seed)
    mu = np.log(args.mean_length) - args.length_sigma ** 2 / 2
    sample_lengths, sample_components, sample_values = [], [], []
    temporary = args.output + ".tmp"
    with open(temporary, "wb") as out:
        out.write(struct.pack("<I", args.documents))
        for i in range(args.documents):
            parts = 2 + (rng.random() < 0.5)
            sources = rng.choice(n_source, parts, replace=False)
            mixing = rng.dirichlet(np.ones(parts))
            c = np.concatenate([components[offsets[s]:offsets[s + 1]] for s in sources])
            v = np.concatenate([values[offsets[s]:offsets[s + 1]] * m for s, m in zip(sources, mixing)])
            merged, inverse = np.unique(c, return_inverse=True)
            summed = np.zeros(len(merged), np.float32)
            np.add.at(summed, inverse, v)
            # Back to the source's weight scale: a mixture's weights are averages, and trimming keeps the heaviest.
            summed *= np.float32(np.exp(rng.normal(np.log(parts) * 0.5 - 0.26, 0.15)))
            length = int(np.clip(round(rng.lognormal(mu, args.length_sigma)), 8, len(merged)))
            if length < len(merged):
                keep = np.sort(np.argpartition(-summed, length - 1)[:length])
                merged, summed = merged[keep], summed[keep]
            out.write(struct.pack("<I", len(merged)))
            out.write(merged.astype("<u4").tobytes())
            out.write(summed.astype("<f4").tobytes())
            if args.stats and i < 200_000:
                sample_lengths.append(len(merged))
                sample_components.append(merged)
                sample_values.append(summed)
            if (i + 1) % 100_000 == 0:
                print(f"{i + 1} documents", file=sys.stderr, flush=True)
    os.replace(temporary, args.output)
    if args.ids:
        with open(args.ids + ".tmp", "w") as f:
            for i in range(args.documents):
                f.write(f"syn-{i}\n")
        os.replace(args.ids + ".tmp", args.ids)
    if args.stats:
        import json
        source = statistics(np.diff(offsets), components, values)
        generated = statistics(np.array(sample_lengths), np.concatenate(sample_components), np.concatenate(sample_values))
        print(json.dumps({"source": source, "generated (first 200,000 documents)": generated}, indent=1))


if __name__ == "__main__":
    main()
