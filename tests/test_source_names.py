"""The name index (pydbg_utrace.source.names): one DIE walk per build, cached on disk.

Built on tests/tracees/src_demo.c (compiled here) and, where libc6-dbg is
installed, on libc's debug file: the index must answer what the unit scans
answered (same units, same misses), and a miss must read no unit at all once
the index is there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pydbg_utrace.source import names
from pydbg_utrace.source.debugfile import find_debug_file
from pydbg_utrace.source.debuginfo import DebugInfo
from pydbg_utrace.source.names import NameIndex

SOURCE = Path(__file__).parent / "tracees" / "src_demo.c"
LIBC = "/lib/x86_64-linux-gnu/libc.so.6"

needs_cc = pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler (gcc)")


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    return folder / "pydbg-utrace" / "names"


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    if shutil.which("cc") is None:
        pytest.skip("needs a C compiler (gcc)")
    folder = tmp_path_factory.mktemp("names")
    shutil.copy(SOURCE, folder / "src_demo.c")
    subprocess.run(["cc", "-O0", "-g", "-o", "demo", "src_demo.c"], cwd=folder, check=True)
    return folder / "demo"


def _counting_units(monkeypatch) -> list[int]:
    """The offsets of the units a DebugInfo reads from now on."""
    read: list[int] = []
    original = DebugInfo.unit

    def unit(self, offset):
        read.append(offset)
        return original(self, offset)

    monkeypatch.setattr(DebugInfo, "unit", unit)
    return read


@needs_cc
def test_the_index_names_what_the_units_define(demo, cache):
    debug = DebugInfo(str(demo), str(demo))
    index = debug.index
    (unit_offset,) = {u.cu.cu_offset for u in debug.units()}
    assert index.units("functions", "fact") == [unit_offset]
    assert index.units("functions", "main") == [unit_offset]
    assert index.units("variables", "counter") == [unit_offset]
    assert index.units("types", "struct shape") == [unit_offset]
    assert index.units("enumerators", "RED") == [unit_offset]
    assert index.units("files", "src_demo.c") == [unit_offset]
    assert index.units("functions", "printf") == []  # declared only: defined in libc
    assert index.units("types", "struct no_such") == []


@needs_cc
def test_a_second_debug_info_reads_the_saved_index_and_a_miss_reads_no_unit(
        demo, cache, monkeypatch):
    first = DebugInfo(str(demo), str(demo))
    assert first.function_named("no_such_function") is None
    saved = list(cache.iterdir())
    assert [p.name for p in saved] == [f"{first.build_id}.json"]
    assert os.stat(cache).st_mode & 0o777 == 0o700

    read = _counting_units(monkeypatch)
    second = DebugInfo(str(demo), str(demo))
    assert second.function_named("no_such_function") is None
    assert second.global_named("no_such_var") is None
    assert second.type_named("struct no_such") is None
    assert second.enumerator_named("NO_SUCH") is None
    assert second.line_addresses("no_such.c", 3) == (3, [])
    assert read == []
    assert second.type_named("struct shape") is not None
    assert len(set(read)) == 1


@needs_cc
def test_a_stale_or_broken_cache_file_is_rebuilt(demo, cache):
    debug = DebugInfo(str(demo), str(demo))
    _ = debug.index
    path = cache / f"{debug.build_id}.json"
    saved = json.loads(path.read_text())
    saved["key"] = "another-build:1"
    path.write_text(json.dumps(saved))
    assert NameIndex.load(str(path), f"{debug.build_id}:{os.stat(demo).st_size}") is None
    path.write_text("{ half a file")
    announced = []
    again = DebugInfo(str(demo), str(demo))
    again.announce_indexing = announced.append
    assert again.index.units("functions", "fact")
    assert announced == [str(demo)]
    assert json.loads(path.read_text())["key"].startswith(f"{debug.build_id}:")


@needs_cc
def test_a_file_without_a_build_id_is_indexed_in_memory_only(tmp_path, cache):
    shutil.copy(SOURCE, tmp_path / "src_demo.c")
    subprocess.run(["cc", "-O0", "-g", "-Wl,--build-id=none", "-o", "demo", "src_demo.c"],
                   cwd=tmp_path, check=True)
    debug = DebugInfo(str(tmp_path / "demo"), str(tmp_path / "demo"))
    assert debug.build_id is None
    assert debug.function_named("no_such_function") is None
    assert debug.function_named("fact") is not None
    assert not cache.exists()


def test_the_cache_folder_follows_xdg_cache_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert names.cache_folder() == str(tmp_path / "pydbg-utrace" / "names")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert names.cache_folder() == os.path.expanduser("~/.cache/pydbg-utrace/names")


@pytest.mark.skipif(not os.path.exists(LIBC) or find_debug_file(LIBC) is None,
                    reason="needs libc's debug file (apt-get install libc6-dbg)")
def test_libc_index_agrees_with_the_symbol_table_and_finds_types_and_statics():
    # the user's cache (libc's cold walk costs ~20 s of CPU; it is built once per machine,
    # and test_a_stale_or_broken_cache_file_is_rebuilt covers the walk and the save)
    debug = DebugInfo(LIBC, find_debug_file(LIBC))
    index = debug.index
    write = debug.function_named("__libc_write")
    assert write is not None
    (unit,) = [u for u in index.units("functions", "__libc_write")]
    assert debug.unit_at(write.low).cu.cu_offset == unit
    assert index.units("types", "struct malloc_state")
    assert index.units("functions", "no_such_function") == []
    assert debug.type_named("struct malloc_state") is not None
    assert debug.enumerator_named("no_such_enumerator") is None
