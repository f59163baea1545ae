"""Compile a layout's static assertions with each target's own C headers.

The decoders' numbers and structure layouts are checked against the headers
of the arch they decode for: ``_Static_assert`` lines compiled with
``-fsyntax-only`` by the host's compiler and Debian's cross compilers
(`.ci/run` installs them).
"""

from __future__ import annotations

import platform
import shutil
import subprocess
from pathlib import Path

import pytest

#: The C compiler of each target: the host's, Debian's cross compilers.
COMPILERS = {"x86_64": "x86_64-linux-gnu-gcc", "ppc64le": "powerpc64le-linux-gnu-gcc",
             "s390x": "s390x-linux-gnu-gcc"}


def assert_compiles(target: str, source_text: str, source: Path) -> None:
    """``source_text`` (written to ``source``) compiles for ``target``; skipped, saying
    which package to install, where its compiler is missing."""
    compiler = COMPILERS[target]
    if target == "x86_64" and shutil.which(compiler) is None and platform.machine() == "x86_64":
        compiler = "cc"
    if shutil.which(compiler) is None:
        pytest.skip(f"no {compiler} (apt-get install gcc-{compiler.rsplit('-', 1)[0]}): "
                    "cannot read that target's headers")
    source.write_text(source_text)
    done = subprocess.run([compiler, "-fsyntax-only", str(source)], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
