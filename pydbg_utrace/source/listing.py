"""``list`` as gdb does it: ten lines centred on a line, or a range, then onwards.

gdb's rules (``source.c``, ``lines_to_list`` 10): ``list LINE`` and ``list
FUNCTION`` show lines ``max(LINE - 5, 1)`` to that plus 9, where a function's
line is the line of its first instruction (its opening line); ``list A,B``
shows A to B; a bare ``list`` goes on after the last line shown.  Lines are
``N<TAB>text``.  Source files are found as DWARF names them: relative names
under the unit's ``DW_AT_comp_dir``.
"""

from __future__ import annotations

import os

from .values import SourceError

LINES_TO_LIST = 10


class Lister:
    def __init__(self):
        self.path: str | None = None
        self.name: str | None = None
        self.next_line = 1

    def place(self, path: str | None, name: str, line: int) -> None:
        """A bare ``list`` next lists around ``line`` (after a stop, ``frame N``)."""
        self.path, self.name = path, name
        self.next_line = max(line - LINES_TO_LIST // 2, 1)

    def around(self, path: str, name: str, line: int) -> list[str]:
        first = max(line - LINES_TO_LIST // 2, 1)
        return self.range(path, name, first, first + LINES_TO_LIST - 1)

    def range(self, path: str, name: str, first: int, last: int) -> list[str]:
        if not os.path.exists(path):  # gdb: the first line's number, "in" the file
            self.path, self.name, self.next_line = path, name, last + 1
            return [f"{first}\tin {name}"]
        text = _read(path, name)
        if first > len(text):
            raise SourceError(f"Line number {first} out of range; {name} has "
                              f"{len(text)} lines.")
        last = min(last, len(text))
        self.path, self.name, self.next_line = path, name, last + 1
        return [f"{n}\t{text[n - 1]}" for n in range(first, last + 1)]

    def more(self) -> list[str]:
        if self.path is None or self.name is None:
            raise SourceError("No default source file.")
        return self.range(self.path, self.name, self.next_line,
                          self.next_line + LINES_TO_LIST - 1)


def source_path(file: str, comp_dir: str | None) -> str:
    if comp_dir and not os.path.isabs(file):
        return os.path.join(comp_dir, file)
    return file


def _read(path: str, name: str) -> list[str]:
    try:
        with open(path, errors="replace") as f:
            return f.read().splitlines()
    except OSError:
        raise SourceError(f"{name}: No such file or directory.") from None
