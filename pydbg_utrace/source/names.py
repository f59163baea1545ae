"""Which compile units define a name: one DIE walk per build, kept on disk.

A lookup that the ELF symbol table cannot answer (a type, an enumerator, a
static function of a stripped file, a name that exists nowhere) used to read
every unit; in libc's debug file that is 2 000 units and about 260 000
top-level DIEs, seconds each time.  gdb answers from an index (its own
``.gdb_index``/``.debug_names``, or the one it builds at load); neither gcc nor
Debian's ``-dbg`` files ship one, so this module makes one: a single walk of
the top-level DIEs (:meth:`UnitReader.names`, names only, no types built),
turned into name -> unit offsets, and written to
``$XDG_CACHE_HOME/pydbg-utrace/names/BUILD-ID.json``.  The next session on the
same build reads that file in milliseconds.  A file without a build-id is
indexed in memory only (nothing could tell its index from another build's).

The index is built on the first lookup that needs it, never at start: opening
``/usr/bin/python3`` and libc, ``break main`` and ``bt`` go through the symbol
table and ``.debug_aranges`` as before.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable

from .dies import UnitReader

FORMAT = 1  # bump when UnitReader.names() changes what it records
KINDS = ("functions", "variables", "types", "enumerators", "files")


class NameIndex:
    """Name -> the offsets of the units that define it, per kind (:data:`KINDS`)."""

    def __init__(self, table: dict[str, dict[str, list[int]]]):
        self.table = table

    @classmethod
    def build(cls, units: Iterable[UnitReader]) -> NameIndex:
        table: dict[str, dict[str, list[int]]] = {kind: {} for kind in KINDS}
        for unit in units:
            names = unit.names()
            offset = unit.cu.cu_offset
            for kind in KINDS:
                by_name = table[kind]
                for name in getattr(names, kind):
                    by_name.setdefault(name, []).append(offset)
        return cls(table)

    def units(self, kind: str, name: str) -> list[int]:
        """The units (in file order) that define ``name`` as a ``kind``."""
        return self.table[kind].get(name, [])

    # -- on disk ----------------------------------------------------------------------------

    def save(self, path: str, key: str) -> None:
        """Write atomically (a reader never sees half a file); a cache that cannot
        be written (read-only home) is only a slower next start."""
        folder = os.path.dirname(path)
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", dir=folder, delete=False,
                                             suffix=".tmp") as out:
                json.dump({"format": FORMAT, "key": key, "table": self.table}, out,
                          separators=(",", ":"))
            os.replace(out.name, path)
        except OSError:
            pass

    @classmethod
    def load(cls, path: str, key: str) -> NameIndex | None:
        """The index saved for ``key``; None if absent, stale or unreadable."""
        try:
            with open(path) as f:
                saved = json.load(f)
        except (OSError, ValueError):
            return None
        if not isinstance(saved, dict) or saved.get("format") != FORMAT \
                or saved.get("key") != key or not isinstance(saved.get("table"), dict) \
                or set(saved["table"]) != set(KINDS):
            return None
        return cls(saved["table"])


def cache_folder() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "pydbg-utrace", "names")


def index_for(build_id: str | None, debug_path: str, units: Callable[[], Iterable[UnitReader]],
              announce: Callable[[str], None] | None = None) -> NameIndex:
    """The index of the debug file ``debug_path``: from the cache when its build-id
    and size match a saved one (a rebuilt file that reuses an id is not trusted),
    else built by walking ``units()`` (``announce(debug_path)`` first: it takes
    seconds on libc) and saved."""
    path = os.path.join(cache_folder(), f"{build_id}.json") if build_id else None
    try:
        key = f"{build_id}:{os.stat(debug_path).st_size}"
    except OSError:
        key, path = "", None
    if path is not None:
        saved = NameIndex.load(path, key)
        if saved is not None:
            return saved
    if announce is not None:
        announce(debug_path)
    index = NameIndex.build(units())
    if path is not None:
        index.save(path, key)
    return index
