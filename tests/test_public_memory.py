"""pydbg_utrace.read_memory / read_string: the public reads without a stop (docs/engine-api.md).

Read from our own process (process_vm_readv on oneself needs no tracing), so
the bytes are known: a string across a page boundary, one cut by the limit,
and an unmapped address.
"""

import ctypes
import mmap
import os

import pytest

import pydbg_utrace
from pydbg_utrace import kernel


def test_both_are_exported():
    assert {"read_memory", "read_string"} <= set(pydbg_utrace.__all__)


def test_a_string_across_a_page_boundary_and_the_limit():
    page = mmap.PAGESIZE
    area = mmap.mmap(-1, 2 * page)
    base = ctypes.addressof(ctypes.c_char.from_buffer(area))
    text = b"across the page boundary"
    start = page - 10
    area[start:start + len(text) + 1] = text + b"\0"
    pid = os.getpid()
    assert pydbg_utrace.read_string(pid, base + start) == (text, True)
    assert pydbg_utrace.read_string(pid, base + start, limit=6) == (text[:6], False)
    assert pydbg_utrace.read_memory(pid, base + start, 6) == text[:6]
    del base
    area.close()


def test_nothing_readable_is_a_kernel_error():
    with pytest.raises(kernel.KernelError):
        pydbg_utrace.read_string(os.getpid(), 8)
    with pytest.raises(OSError):
        pydbg_utrace.read_memory(os.getpid(), 8, 4)
