#!/usr/bin/env python3
"""Writes a compatibility fixture: a small index of the current format version with every part
an index can have, and the expected output of the searches in `searches.tsv`.

    python3 Indexes/compat/make.py --version 2      # writes Indexes/compat/v2/

Run it only when a format version is introduced (see Documentation/IndexFormat.md, "Versions"):
the fixture of a version is written once, by the lsr that introduced it, and never rewritten;
`Tests/LSRCLITests/CompatibilityTests.swift` checks that this lsr still reads it and answers
exactly as recorded. Needs a release build (`swift build -c release`) and numpy.

The index: 400 generated documents over 2,000 tokens `t0` … `t1999`, read from Seismic binary
input with a vocabulary (so `vocab.source` is stored), static pruning to 40 postings per list
(so lists have tail postings), summaries always (blocks; lists with their summary components
stored sparse and as bitmaps), 16-dimensional dense vectors (`dense.lsr`), an IDF text query
encoder over a vocab.txt tokenizer (`query-encoder`) and presets tuned on the 60 queries.
"""
import argparse, json, os, shutil, struct, subprocess, sys, tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCUMENTS, QUERIES, TOKENS, DIMENSION = 400, 60, 2000, 16


def generate(work):
    rng = np.random.default_rng(2026)
    popularity = 1.0 / np.arange(1, TOKENS + 1) ** 1.0
    popularity /= popularity.sum()

    def sparse(count, low, high):
        rows = []
        for _ in range(count):
            n = int(rng.integers(low, high))
            components = np.sort(rng.choice(TOKENS, size=n, replace=False, p=popularity))
            weights = np.round(rng.uniform(0.05, 3.0, size=n), 3)
            rows.append((components, weights))
        return rows

    documents = sparse(DOCUMENTS, 5, 60)
    with open(os.path.join(work, "docs.bin"), "wb") as out:
        out.write(struct.pack("<I", len(documents)))
        for components, weights in documents:
            out.write(struct.pack("<I", len(components)))
            out.write(components.astype("<u4").tobytes())
            out.write(weights.astype("<f4").tobytes())
    ids = [f"doc-{d:03d}" for d in range(DOCUMENTS)]
    open(os.path.join(work, "ids.txt"), "w").write("\n".join(ids) + "\n")
    tokens = [f"t{t}" for t in range(TOKENS)]
    open(os.path.join(work, "vocab.txt"), "w").write("\n".join(tokens) + "\n")

    queries = sparse(QUERIES, 3, 12)
    with open(os.path.join(work, "queries.jsonl"), "w") as out:
        for q, (components, weights) in enumerate(queries):
            vector = {tokens[c]: float(w) for c, w in zip(components, weights)}
            out.write(json.dumps({"id": f"q{q}", "vector": vector}) + "\n")
    with open(os.path.join(work, "text-queries.jsonl"), "w") as out:
        for q, (components, _) in enumerate(queries[:20]):
            out.write(json.dumps({"_id": f"tq{q}", "text": " ".join(tokens[c] for c in components)}) + "\n")

    np.save(os.path.join(work, "dense-docs.npy"), rng.standard_normal((DOCUMENTS, DIMENSION)).astype("<f4"))
    np.save(os.path.join(work, "dense-queries.npy"), rng.standard_normal((QUERIES, DIMENSION)).astype("<f4"))

    # A WordPiece vocabulary (vocab.txt) holding the tokens, and IDF weights for them.
    open(os.path.join(work, "tokenizer-vocab.txt"), "w").write("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + tokens) + "\n")
    frequency = np.zeros(TOKENS)
    for components, _ in documents:
        frequency[components] += 1
    idf = {tokens[t]: round(float(np.log((DOCUMENTS + 1) / (frequency[t] + 1))) + 0.01, 4) for t in range(TOKENS)}
    open(os.path.join(work, "idf.json"), "w").write(json.dumps(idf))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--version", type=int, required=True, help="the format version this lsr writes")
    parser.add_argument("--lsr", default=os.path.join(ROOT, ".build/release/lsr"))
    args = parser.parse_args()
    output = os.path.join(ROOT, "Indexes/compat", f"v{args.version}")
    if os.path.exists(output):
        sys.exit(f"{output} exists: a fixture is written once, when its version is introduced")
    searches = [line.split("\t") for line in open(os.path.join(ROOT, "Indexes/compat/searches.tsv")).read().splitlines()
                if line and not line.startswith("#")]

    def lsr(*arguments):
        subprocess.run([args.lsr, *arguments], check=True, stdout=subprocess.DEVNULL)

    with tempfile.TemporaryDirectory() as work:
        generate(work)
        index = os.path.join(work, "index")
        w = lambda name: os.path.join(work, name)
        lsr("index", "--input", w("docs.bin"), "--ids", w("ids.txt"), "--vocab", w("vocab.txt"), "--output", index,
            "--n-postings", "40", "--centroid-fraction", "0.3", "--summaries", "always", "--threads", "1",
            "--dense", w("dense-docs.npy"), "--dense-ids", w("ids.txt"))
        lsr("add-encoder", "--index", index, "--tokenizer", w("tokenizer-vocab.txt"), "--weights", w("idf.json"))
        lsr("tune", "--index", index, "--queries", w("queries.jsonl"), "--target-recall", "0.9,0.99", "--threads", "1")
        os.makedirs(os.path.join(output, "expected"))
        shutil.copytree(index, os.path.join(output, "index"))
        for name in ("queries.jsonl", "text-queries.jsonl", "dense-queries.npy"):
            shutil.copy(w(name), os.path.join(output, name))
        for name, arguments in searches:
            arguments = arguments.replace("{fixture}", output).split()
            expected = os.path.join(output, "expected", name + ".run")
            lsr("search", *arguments, "--output", expected)
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
