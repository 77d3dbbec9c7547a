"""The symbol graphs of lsr's library modules (public declarations), from the release build, for
Scripts/public_api.py and Scripts/documentation.py."""
import glob, json, os, subprocess, tempfile

# The repository's root directory.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The modules `import LSR` re-exports.
MODULES = ["LSRVectors", "LSRSuccinct", "LSRFormats", "LSRText", "LSRIndexBuilder", "LSRSearch", "LSREvaluation", "LSRSweep"]


def symbol_graphs(root=ROOT):
    """Yields (module, graph) for every symbol graph file `swift symbolgraph-extract` writes for
    the modules (a module's own, and one per module it extends), from `swift build -c release`."""
    bin_path = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=root, check=True,
                              capture_output=True, text=True).stdout.strip()
    maps = [os.path.join(root, "Sources", m, "module.modulemap") for m in ("CZstd", "CSQLite", "COpenBLAS")]
    maps += glob.glob(os.path.join(bin_path, "*.build", "module.modulemap"))
    with tempfile.TemporaryDirectory() as out:
        for module in MODULES:
            command = ["swift", "symbolgraph-extract", "-module-name", module, "-I", os.path.join(bin_path, "Modules"),
                       "-minimum-access-level", "public", "-output-dir", out]
            for m in maps:
                command += ["-Xcc", "-fmodule-map-file=" + m]
            subprocess.run(command, cwd=root, check=True)
        for path in sorted(glob.glob(os.path.join(out, "*.symbols.json"))):
            yield os.path.basename(path).split(".")[0], json.load(open(path))
