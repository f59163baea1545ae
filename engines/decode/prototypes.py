"""The fallback for calls we have no decoder of: python-ptrace's prototypes.

python-ptrace (``ptrace/syscall/prototypes.py``) knows every call's C
argument types and names; we print by type as strace would without a
decoder of its own (ints signed, pointers in hex or NULL, paths quoted).
WHY by file path: importing ``ptrace.syscall`` raises on hosts python-ptrace
does not support (s390x), while prototypes.py is a plain dict.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

_SIGNED = ("int", "long", "pid_t", "off_t", "loff_t", "key_t", "clockid_t", "timer_t",
           "mqd_t", "__s32", "s32")
_PATH_NAMES = frozenset({"filename", "pathname", "path", "oldname", "newname", "old", "new",
                         "specialfile", "library", "dir_name", "dev_name"})


@cache
def prototypes() -> dict:
    """``SYSCALL_PROTOTYPES``: name -> (return type, ((type, name), ...))."""
    spec = importlib.util.find_spec("ptrace")
    if spec is None or not spec.submodule_search_locations:
        return {}
    for base in spec.submodule_search_locations:
        path = Path(base) / "syscall" / "prototypes.py"
        if path.exists():
            module_spec = importlib.util.spec_from_file_location(
                "pydbg_utrace.engines.decode._python_ptrace_prototypes", path)
            module = importlib.util.module_from_spec(module_spec)
            module_spec.loader.exec_module(module)
            return module.SYSCALL_PROTOTYPES
    return {}


def argument_kinds(name: str) -> list[str] | None:
    """How to print each argument of ``name`` by its C type, or None if python-ptrace
    has no prototype: ``path``, ``ptr``, ``int`` (signed 32), ``long`` (signed) or
    ``unsigned``."""
    proto = prototypes().get(name)
    if proto is None:
        return None
    kinds = []
    for ctype, argname in proto[1]:
        ctype = ctype.replace("const ", "").replace("__user ", "").strip()
        if "*" in ctype:
            kinds.append("path" if ctype.startswith("char") and argname in _PATH_NAMES
                         else "ptr")
        elif ctype in ("int", "pid_t", "key_t", "clockid_t", "timer_t", "mqd_t", "__s32", "s32"):
            kinds.append("int")
        elif ctype in _SIGNED:
            kinds.append("long")
        else:
            kinds.append("unsigned")
    return kinds
