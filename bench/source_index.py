"""How long the source-level index takes on real system files (not a pass/fail test).

    python bench/source_index.py [/usr/bin/python3.11] [/lib/x86_64-linux-gnu/libc.so.6]

Each step prints wall and CPU milliseconds (the machine is shared: CPU time is
the fairer number).  Caches are per process, so each file starts cold.
"""

from __future__ import annotations

import sys
import time

from pydbg_utrace.source.program import Image


def measure(label: str, action):
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()
    print(f"{label:58} {1000 * (time.perf_counter() - wall):8.1f} ms wall "
          f"{1000 * (time.process_time() - cpu):8.1f} ms cpu")
    return result


def main(python: str, libc: str) -> None:
    py = measure(f"open {python} (discovery + ELF headers)", lambda: Image.load(python))
    print(f"    debug file: {py.debug.debug_path}")
    address = measure("python: symbol table read, then Py_Initialize",
                      lambda: py.debug.symbol_address("Py_Initialize"))
    measure("python: CFI row at Py_Initialize (.eh_frame_hdr)", lambda: py.cfi.row_at(address))
    measure("python: CFI row outside every FDE", lambda: py.cfi.row_at(0x10))
    measure("python: <symbol+off> of an address", lambda: py.symbol_at(address + 4))
    lc = measure(f"open {libc} (build-id debug file)", lambda: Image.load(libc))
    print(f"    debug file: {lc.debug.debug_path}")
    fn = measure("libc: function 'write' (symbols, aranges, 1 unit)",
                 lambda: lc.debug.function_named("write"))
    measure("libc: function 'malloc' (an alias, another unit)",
            lambda: lc.debug.function_named("malloc"))
    measure("libc: line of write's first instruction", lambda: lc.debug.line_at(fn.low))
    measure("libc: CFI row inside write", lambda: lc.cfi.row_at(fn.low + 10))
    measure("libc: <symbol+off> of an address", lambda: lc.symbol_at(fn.low + 4))


if __name__ == "__main__":
    args = sys.argv[1:] + ["/usr/bin/python3.11", "/lib/x86_64-linux-gnu/libc.so.6"][len(
        sys.argv[1:]):]
    main(*args[:2])
