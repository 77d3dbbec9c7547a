"""What a report records about where it came from, and where and how reports are written."""
import datetime, json, os, subprocess, sys

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def lsr_revision():
    """The checkout's short commit, with " (with uncommitted changes)" when tracked files differ."""
    commit = subprocess.run(["git", "-C", REPOSITORY, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", REPOSITORY, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip()
    return commit + (" (with uncommitted changes)" if dirty else "")


def write_report(report, kind, dataset, path=None):
    """Writes `report`, with the lsr revision and the command line added, as indented JSON to
    `path` (default `Evaluation/reports/<kind>-<dataset>-<date>.json`) and says so."""
    report = dict(report, lsr=lsr_revision(), command="python3 " + " ".join(sys.argv))
    path = path or os.path.join(REPOSITORY, "Evaluation/reports", f"{kind}-{dataset}-{datetime.date.today()}.json")
    with open(path, "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    print("wrote", path)


def search_arguments(description, count_help="queries searched (the first ones of the file)"):
    """A parser with the options of a script that searches a tuned index: --dataset (names the
    report), --index, --queries, --count, --target (the preset, `lsr search --target-recall`)."""
    import argparse
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--index", required=True, help="an index with presets (lsr tune)")
    parser.add_argument("--queries", required=True)
    parser.add_argument("--count", type=int, default=3000, help=count_help)
    parser.add_argument("--target", type=float, default=0.90, help="the preset searched with (--target-recall)")
    return parser
