#!/usr/bin/env python3
"""Builds the DocC documentation of the `LSR` module: the articles of Sources/LSR/LSR.docc and
every public declaration of the modules `import LSR` re-exports, as one module, the way users
import it.

    swift build -c release && python3 Scripts/documentation.py [--output .build/documentation]

Writes `LSR.doccarchive` (open it with Xcode, or serve it: `--static` writes a static site, then
`python3 -m http.server -d .build/documentation/LSR.doccarchive` and browse
http://localhost:8000/documentation/lsr). Every warning is an error: a broken link, a symbol an
article names that does not exist, a parameter without documentation.

DocC documents a module's own symbols, and `LSR` only re-exports (so does
`swift package generate-documentation --target LSR`, which finds no symbol in it): this script
merges the symbol graphs of the re-exported modules into one graph of module `LSR` and hands it
to `docc convert`.
"""
import argparse, json, os, shutil, subprocess, sys, tempfile

from symbol_graphs import ROOT, symbol_graphs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", default=".build/documentation", help="directory for LSR.doccarchive")
    parser.add_argument("--static", action="store_true", help="transform the archive for static hosting")
    args = parser.parse_args()
    merged = None
    for _, graph in symbol_graphs():
        if merged is None:
            merged = dict(graph, symbols=[], relationships=[], module=dict(graph["module"], name="LSR"))
        merged["symbols"] += graph["symbols"]
        merged["relationships"] += graph["relationships"]
    archive = os.path.join(os.path.abspath(args.output), "LSR.doccarchive")
    with tempfile.TemporaryDirectory() as graphs:
        json.dump(merged, open(os.path.join(graphs, "LSR.symbols.json"), "w"))
        shutil.rmtree(archive, ignore_errors=True)
        os.makedirs(os.path.dirname(archive), exist_ok=True)
        command = ["docc", "convert", os.path.join(ROOT, "Sources/LSR/LSR.docc"), "--additional-symbol-graph-dir", graphs,
                   "--fallback-display-name", "LSR", "--fallback-bundle-identifier", "org.lsr.LSR",
                   "--output-path", archive, "--warnings-as-errors"]
        if args.static:
            command += ["--transform-for-static-hosting"]
        result = subprocess.run(command)
    if result.returncode != 0:
        return result.returncode
    print(f"wrote {archive} ({len(merged['symbols'])} symbols)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
