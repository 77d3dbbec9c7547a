#!/usr/bin/env python3
"""Golden index checksums for BuildTests.testBuildsMatchTheInMemoryBuildersBytes.

Writes the two deterministic collections the test generates (the same text, byte for byte),
builds each configuration with the lsr binary given, and prints the header's table checksum
(bytes 32..40 of index.lsr, a fingerprint of every section). The expected values in the test
came from the in-memory builder of commit f757b58, before the bounded-memory builder:

  python3 Tests/LSRIndexBuilderTests/Fixtures/golden_builds.py /path/to/lsr-f757b58 /tmp/golden
"""
import os, struct, subprocess, sys

CONFIGURATIONS = {
    "narrow-defaults": ("narrow", []),
    "narrow-always": ("narrow", ["--summaries", "always", "--n-postings", "50"]),
    "narrow-fixed-f32": ("narrow", ["--pruning", "fixed", "--n-postings", "40", "--summaries", "always", "--precision", "f32"]),
    "narrow-none-blocks": ("narrow", ["--pruning", "none", "--summaries", "always", "--block-size", "16"]),
    "narrow-never": ("narrow", ["--summaries", "never"]),
    "wide-always": ("wide", ["--summaries", "always", "--n-postings", "20"]),
}


def weight(i, j):
    return float((i * 7 + j * 13) % 97 + 1) / 8


def record(i, tokens):
    entries = ", ".join(f'"{t}": {w}' for t, w in tokens)
    return f'{{"id": "d{i}", "vector": {{{entries}}}}}\n'


def narrow():
    text = ""
    for i in range(2000):
        if i % 97 == 0:
            text += record(i, [])
            continue
        seen, tokens = set(), []
        for j in range(5 + (i * 37) % 60):
            t = (i + j * j * 11) % (50 if j < 10 else 3000)
            if t not in seen:
                seen.add(t)
                tokens.append((f"t{t}", weight(i, j)))
        if i % 50 == 1:
            tokens.append(("zero", 1e-09))
        text += record(i, tokens)
    return text


def wide():
    text = ""
    for i in range(300):
        seen, tokens = set(), []
        for j in range(240):
            t = j if j < 5 else (i * 240 + j) % 70001
            if t not in seen:
                seen.add(t)
                tokens.append((f"w{t}", weight(i, j)))
        text += record(i, tokens)
    return text


def main():
    lsr, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    for name, text in (("narrow", narrow()), ("wide", wide())):
        with open(os.path.join(work, name + ".jsonl"), "w") as f:
            f.write(text)
    for name, (collection, options) in CONFIGURATIONS.items():
        output = os.path.join(work, name)
        subprocess.run([lsr, "index", "--input", os.path.join(work, collection + ".jsonl"), "--output", output, "--force",
                        "--threads", "2", "--seed", "11", *options], check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(output, "index.lsr"), "rb") as f:
            f.seek(32)
            print(f'"{name}": 0x{struct.unpack("<Q", f.read(8))[0]:016X},')


if __name__ == "__main__":
    main()
