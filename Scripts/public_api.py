#!/usr/bin/env python3
"""The public API of the `LSR` library, one declaration per line, from the symbol graphs of the
release build's modules (`swift symbolgraph-extract`, public declarations only).

    python3 Scripts/public_api.py                 # print the list
    python3 Scripts/public_api.py --check Documentation/PublicAPI.txt
    python3 Scripts/public_api.py --undocumented  # public declarations without a doc comment

`--check` fails (exit 1, with a diff) when the API differs from the committed list: a change to
the public surface is deliberate, so the list is updated in the same commit
(`python3 Scripts/public_api.py > Documentation/PublicAPI.txt`); it also fails when a public
declaration has no doc comment. Run after `swift build -c release`.
"""
import argparse, difflib, sys

from symbol_graphs import symbol_graphs

# Members the compiler writes for a conformance (Equatable, Hashable, Codable, RawRepresentable):
# documented by the conformance itself.
SYNTHESIZED = ("!=(_:_:)", "hash(into:)", "hashValue", "init(from:)", "encode(to:)", "init(rawValue:)", "rawValue")


def symbols():
    for module, graph in symbol_graphs():
        for symbol in graph["symbols"]:
            yield module, symbol


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", metavar="FILE", help="compare with this committed list")
    parser.add_argument("--undocumented", action="store_true", help="list public declarations without a doc comment")
    args = parser.parse_args()
    lines, undocumented = set(), []
    for module, symbol in symbols():
        kind = symbol["kind"]["identifier"].removeprefix("swift.")
        name = ".".join(symbol["pathComponents"])
        lines.add(f"{module} {kind} {name}")
        if not symbol.get("docComment") and not name.endswith(SYNTHESIZED):
            undocumented.append(f"{module} {kind} {name}")
    listing = sorted(lines)
    if args.undocumented:
        print("\n".join(sorted(undocumented)))
        print(f"{len(undocumented)} of {len(listing)} public declarations have no doc comment", file=sys.stderr)
        return 0
    if args.check:
        committed = open(args.check).read().splitlines()
        if committed != listing:
            sys.stdout.writelines(line + "\n" for line in difflib.unified_diff(committed, listing, args.check, "this build", lineterm=""))
            print(f"the public API differs from {args.check}: if the change is deliberate, regenerate it with "
                  f"`python3 Scripts/public_api.py > {args.check}`", file=sys.stderr)
            return 1
        if undocumented:
            print("\n".join(sorted(undocumented)))
            print(f"{len(undocumented)} public declarations have no doc comment", file=sys.stderr)
            return 1
        print(f"public API: {len(listing)} declarations, as in {args.check}, every one documented", file=sys.stderr)
        return 0
    print("\n".join(listing))
    return 0


if __name__ == "__main__":
    sys.exit(main())
