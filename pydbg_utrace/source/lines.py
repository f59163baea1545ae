"""Line tables as gdb reads them: address -> (file, line) and (file, line) -> addresses.

A :class:`LineTable` is the rows of one compile unit's line program (pyelftools
decodes the program; we only keep its rows), sorted into sequences.  The rules
are gdb's (``symtab.c``):

- ``find_pc_line``: the row that covers a pc is the last row at or below it in
  its sequence; among rows at one address an ``is_stmt`` row wins; it ends at
  the next row with a higher address (``info line *ADDR``).
- ``decode_line`` for ``break FILE:LINE``: the ``is_stmt`` rows of that exact
  line, else of the smallest line after it that has any; in each function only
  the lowest address (a ``for`` loop's line has several).
"""

from __future__ import annotations

import bisect
import os
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LineRow:
    """One row of a line table (file addresses, unbiased)."""

    address: int
    file: str
    line: int
    is_stmt: bool
    end_sequence: bool = False


@dataclass(frozen=True, slots=True)
class LineRange:
    """What covers one pc: its row and where that row's code ends."""

    file: str
    line: int
    start: int
    end: int
    is_stmt: bool = True  # a statement's row (gdb shows the pc of a stop elsewhere)


class LineTable:
    """The rows of one compile unit, searchable both ways."""

    def __init__(self, rows: list[LineRow]):
        self.sequences: list[list[LineRow]] = []
        current: list[LineRow] = []
        for row in rows:
            current.append(row)
            if row.end_sequence:
                self.sequences.append(current)
                current = []
        if current:
            self.sequences.append(current)
        self.sequences = [s for s in self.sequences if len(s) > 1]
        self.sequences.sort(key=lambda s: s[0].address)
        self._starts = [s[0].address for s in self.sequences]

    @property
    def rows(self) -> list[LineRow]:
        return [row for seq in self.sequences for row in seq]

    @property
    def files(self) -> set[str]:
        return {row.file for seq in self.sequences for row in seq if not row.end_sequence}

    def find(self, pc: int) -> LineRange | None:
        """The row covering ``pc`` and its extent, or None (no line info there)."""
        at = bisect.bisect_right(self._starts, pc) - 1
        if at < 0:
            return None
        seq = self.sequences[at]
        if pc >= seq[-1].address:
            return None
        addresses = [row.address for row in seq]
        i = bisect.bisect_right(addresses, pc) - 1
        same = [row for row in seq if row.address == seq[i].address and not row.end_sequence]
        best = next((row for row in reversed(same) if row.is_stmt), same[-1])
        end = next(row.address for row in seq[i:] if row.address > best.address)
        return LineRange(best.file, best.line, best.address, end, best.is_stmt)

    def rows_of_line(self, file: str, line: int) -> tuple[int, list[LineRow]]:
        """The is_stmt rows of ``line`` in ``file`` (or of the next line that has
        some) and the line they are for; ``(line, [])`` if none."""
        candidates = [row for seq in self.sequences for row in seq
                      if row.is_stmt and not row.end_sequence and same_file(row.file, file)
                      and row.line >= line]
        if not candidates:
            return line, []
        best = min(row.line for row in candidates)
        return best, [row for row in candidates if row.line == best]

    def rows_between(self, start: int, end: int) -> list[LineRow]:
        """Rows with ``start <= address < end`` (a function's rows), in order."""
        return [row for seq in self.sequences for row in seq
                if start <= row.address < end and not row.end_sequence]


def same_file(recorded: str, asked: str) -> bool:
    """gdb's rule for ``break FILE:LINE``: FILE matches a recorded name equal to
    it or ending in ``/FILE``."""
    if recorded == asked:
        return True
    return recorded.endswith("/" + asked) or os.path.basename(recorded) == asked
