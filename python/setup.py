"""Builds lsr's C library (`swift build -c release --product lsr_c`, in the repository this
directory belongs to) and ships it inside the package: `pip install ./python` from the
repository root, after the README's system packages and a Swift 6 toolchain."""
import os, shutil, subprocess

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIBRARY = "liblsr_c.so"


class BuildSwiftLibrary(build_py):
    """Builds the Swift library in release mode and copies it into the package."""

    def run(self):
        super().run()
        subprocess.run(["swift", "build", "-c", "release", "--product", "lsr_c"], cwd=REPOSITORY, check=True)
        binaries = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=REPOSITORY, check=True,
                                  capture_output=True, text=True).stdout.strip()
        target = os.path.join(self.build_lib, "lsr")
        os.makedirs(target, exist_ok=True)
        shutil.copy(os.path.join(binaries, LIBRARY), os.path.join(target, LIBRARY))


class BinaryDistribution(Distribution):
    """A wheel for this platform: it holds a compiled library."""

    def has_ext_modules(self):
        return True


setup(cmdclass={"build_py": BuildSwiftLibrary}, distclass=BinaryDistribution)
