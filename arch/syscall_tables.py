"""python-ptrace's per-arch syscall tables, loaded without its host checks.

WHY by file path: importing the package ``ptrace.syscall`` raises
NotImplementedError on hosts python-ptrace does not support (observed in the
s390x guest: ``ptrace/syscall/names.py`` picks its table by the *host*), yet
the per-arch files ``ptrace/syscall/linux/<arch>.py`` are plain dicts.  We
need the *tracee's* table on any host, so we execute just that file.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from pathlib import Path


def python_ptrace_table(module: str) -> Mapping[int, str]:
    """``SYSCALL_NAMES`` of python-ptrace's ``ptrace/syscall/linux/<module>.py``."""
    spec = importlib.util.find_spec("ptrace")  # top level only: runs none of its code
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("python-ptrace (module 'ptrace') is not installed")
    for base in spec.submodule_search_locations:
        path = Path(base) / "syscall" / "linux" / f"{module}.py"
        if path.exists():
            break
    else:
        raise ModuleNotFoundError(f"python-ptrace has no ptrace/syscall/linux/{module}.py")
    table_spec = importlib.util.spec_from_file_location(
        f"pydbg_utrace.arch._python_ptrace_{module}", path)
    table = importlib.util.module_from_spec(table_spec)
    table_spec.loader.exec_module(table)
    return table.SYSCALL_NAMES
