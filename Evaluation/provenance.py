"""What a report records about where it came from, and how reports are written."""
import json, os, subprocess

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def lsr_revision():
    """The checkout's short commit, with " (with uncommitted changes)" when tracked files differ."""
    commit = subprocess.run(["git", "-C", REPOSITORY, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", REPOSITORY, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip()
    return commit + (" (with uncommitted changes)" if dirty else "")


def write_report(path, report):
    """Writes `report` as indented JSON to `path` and says so."""
    with open(path, "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    print("wrote", path)
