#!/usr/bin/env python3
"""The evidence for lsr's automatic n_postings: run.py reports of the same collection built with
different n_postings, side by side (recall and latency of the tuned presets on held-out
queries, build time, memory, index bytes).

Usage (from the repository root, after the run.py runs named in the report):
  python3 Evaluation/scale/growth.py --output Evaluation/reports/defaults-growth-2026-12-02.md \\
      --run "4M, auto (1600)=Evaluation/reports/scale-syn-4m-auto-2026-12-02.json" \\
      --run "4M, 1000=Evaluation/reports/scale-syn-4m-n1000-2026-12-02.json" ...
Each --run is LABEL=REPORT; rows keep the order given. --note adds a paragraph after the table.
The report starts with the command that made it.
"""
import argparse, json, shlex, sys


def cell(entry):
    return f"{entry['recall']:.4f} @ {entry['mean_us']:,.0f}" if entry else ""


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", action="append", required=True, help="LABEL=run.py JSON report")
    p.add_argument("--output", required=True)
    p.add_argument("--title", default="Default n_postings against collection size")
    p.add_argument("--note", action="append", default=[])
    args = p.parse_args()
    runs = []
    for spec in args.run:
        label, path = spec.split("=", 1)
        runs.append((label, path, json.load(open(path))))
    targets = sorted({t["target"] for _, _, report in runs for e in report["sizes"] for t in e.get("lsr_tuned", [])})
    lines = [f"# {args.title}", "",
             "Rows: one lsr build each (2 threads), searched single-threaded on held-out gcide queries "
             "(presets from `lsr tune` on 1,000 others, split seed 7); cells are recall@10 @ µs per query "
             "(mean); a recall of 1.0000 is exact search, the tuner's fallback when no approximate setting reaches the target. "
             "Each report names its own run.py command.", "",
             "Command: `" + " ".join(["python3", "Evaluation/scale/growth.py"] + [shlex.quote(a) for a in sys.argv[1:]]) + "`", "",
             "| build | report | documents | build s | peak GiB | index GiB | kept in blocks | defaults | "
             + " | ".join(f"preset {t:.2f}" for t in targets) + " |",
             "|---|---|---|---|---|---|---|---|" + "---|" * len(targets)]
    for label, path, report in runs:
        for e in report["sizes"]:
            build = e["lsr_build"]
            kept = build["output"].split("kept in blocks: ")[1].split(",")[0] if "kept in blocks" in build["output"] else ""
            tuned = {t["target"]: t for t in e.get("lsr_tuned", [])}
            lines.append(
                f"| {label} | `{path.split('/')[-1]}` | {e['documents']:,} | {build['build_s']:.0f} | "
                f"{build['peak_rss_bytes'] / 2**30:.2f} | {build['bytes'] / 2**30:.2f} | {int(kept):,} | {cell(e.get('lsr_defaults'))} | "
                + " | ".join(cell(tuned.get(t)) for t in targets) + " |")
    lines.append("")
    for note in args.note:
        lines += [note, ""]
    with open(args.output, "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
