"""A program's ELF files placed in one address space, for source-level lookups.

An :class:`Image` is one mapped ELF file: its :class:`DebugInfo` and
:class:`CallFrameTable` (both in file addresses) and its load ``bias``.
:class:`Program` turns runtime addresses into (image, file address) and back,
so everything above works in runtime addresses.  The REPL builds it from
``symbols.Module`` (path, bias, ranges) or, before ``run``, from the file alone
(bias 0, or the PIE's fixed ``0x555555554000`` when ASLR is off).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from .cfi import CallFrameTable
from .debuginfo import DebugInfo, open_debug_info
from .dies import Function
from .lines import LineRange
from .plt import plt_stubs
from .symtab import STB_LOCAL, read_symbols


@dataclass
class Image:
    path: str
    bias: int
    ranges: list[tuple[int, int]]  # runtime [start, end); empty: everything
    debug: DebugInfo
    display_path: str = ""  # the dynamic linker's name for it (solibs.name_libraries)
    _cfi: CallFrameTable | None = field(default=None, repr=False)
    _by_address: tuple[list[int], list[tuple[str, int]]] | None = field(default=None,
                                                                        repr=False)

    @classmethod
    def load(cls, path: str, bias: int = 0, ranges=()) -> Image:
        return cls(path, bias, list(ranges), open_debug_info(path))

    @property
    def name(self) -> str:
        return self.display_path or self.path

    def contains(self, address: int) -> bool:
        if not self.ranges:
            return True
        return any(lo <= address < hi for lo, hi in self.ranges)

    @property
    def cfi(self) -> CallFrameTable:
        if self._cfi is None:
            self._cfi = CallFrameTable(self.debug.elf, self.debug.debug_elf)
        return self._cfi

    def symbol_at(self, address: int) -> tuple[str, int] | None:
        """The ELF symbol covering runtime ``address``: (name, offset); PLT stubs
        are ``malloc@plt`` (:mod:`plt`)."""
        if self._by_address is None:
            entries = sorted([(sym.value, sym.bind == STB_LOCAL, sym.name.startswith("_"),
                               sym.name, sym.size) for sym in read_symbols(self.debug.elf)]
                             + [(start, False, False, name, size)
                                for start, size, name in plt_stubs(self.debug.elf)])
            self._by_address = ([e[0] for e in entries], [(e[3], e[4]) for e in entries])
        file_address = address - self.bias
        starts, names = self._by_address
        at = bisect.bisect_right(starts, file_address) - 1
        if at < 0:
            return None
        start = starts[at]
        name, size = names[bisect.bisect_left(starts, start)]  # the best name at that start
        if file_address < start + max(size, 1):
            return name, file_address - start
        return None


class Program:
    """All images of one address space; the first is the program itself."""

    def __init__(self, images: list[Image]):
        self.images = images

    def image_at(self, address: int) -> Image | None:
        return next((im for im in self.images if im.contains(address)), None)

    def function_at(self, address: int) -> tuple[Image, Function] | None:
        image = self.image_at(address)
        if image is None or not image.debug.has_dwarf:
            return None
        fn = image.debug.function_at(address - image.bias)
        return (image, fn) if fn is not None else None

    def line_at(self, address: int) -> LineRange | None:
        """The line covering runtime ``address``, its range in runtime addresses."""
        image = self.image_at(address)
        if image is None or not image.debug.has_dwarf:
            return None
        found = image.debug.line_at(address - image.bias)
        if found is None:
            return None
        return LineRange(found.file, found.line, found.start + image.bias,
                         found.end + image.bias, found.is_stmt)

    def symbolize(self, address: int) -> str | None:
        """``main+4`` for ``<main+4>``; None outside every symbol.  As gdb's
        build_address_symbolic, the DWARF function wins over the ELF symbol."""
        found_fn = self.function_at(address)
        if found_fn is not None:
            image, fn = found_fn
            offset = address - image.bias - fn.entry
            return f"{fn.name}+{offset}" if offset else fn.name
        image = self.image_at(address)
        found = image.symbol_at(address) if image is not None else None
        if found is None:
            return None
        name, offset = found
        return f"{name}+{offset}" if offset else name
