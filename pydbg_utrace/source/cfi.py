"""Call frame information: one ELF file's ``.eh_frame`` / ``.debug_frame`` rows.

A :class:`CallFrameTable` answers "at this pc, how is the caller's frame found"
with a :class:`CFIRow`: the CFA rule, one rule per saved register, the return
address column and whether the FDE is a signal frame (augmentation ``S``, as
glibc's ``__restore_rt`` has).  pyelftools decodes CIEs and FDEs.

Finding the FDE: ``.eh_frame_hdr``'s sorted table (what the dynamic linker's
unwinder and gdb use) leads straight to one FDE, so a pc in libc costs one FDE
parse, not the 3 700 of the whole section (1.7 s); a file without the table,
and ``.debug_frame``, are parsed whole, once.
"""

from __future__ import annotations

import bisect
import struct
from dataclasses import dataclass

from elftools.dwarf.callframe import FDE, CallFrameInfo, CFARule, RegisterRule

_HDR_TABLE_DATAREL_SDATA4 = 0x3B  # GNU ld always writes this table encoding


@dataclass(frozen=True)
class CFIRow:
    """The unwinding rules in force at one pc."""

    cfa: CFARule
    rules: dict[int, RegisterRule]
    return_column: int
    signal_frame: bool
    fde_start: int


class CallFrameTable:
    """The CFI of one ELF file (file addresses); ``debug_elf`` adds its ``.debug_frame``."""

    def __init__(self, elf, debug_elf=None):
        self.elf = elf
        self._dwarf = elf.get_dwarf_info(relocate_dwarf_sections=False) \
            if elf.get_section_by_name(".eh_frame") or elf.get_section_by_name(".debug_frame") \
            else None
        self.structs = self._dwarf.structs if self._dwarf else None
        self._eh = None
        self._hdr: tuple[list[int], list[int]] | None = None
        self._sorted: tuple[list[int], list[FDE]] | None = None
        self._debug_elf = debug_elf

    def row_at(self, pc: int) -> CFIRow | None:
        fde = self._fde_for(pc)
        if fde is None:
            return None
        table = fde.get_decoded().table
        rows = [line for line in table if line["pc"] <= pc]
        if not rows:
            return None
        line = rows[-1]
        cie = fde.cie
        augmentation = cie["augmentation"] if "augmentation" in cie.header else b""
        if isinstance(augmentation, str):
            augmentation = augmentation.encode()
        rules = {k: v for k, v in line.items() if isinstance(k, int)}
        return CFIRow(line["cfa"], rules, cie["return_address_register"],
                      b"S" in augmentation, fde["initial_location"])

    def _fde_for(self, pc: int) -> FDE | None:
        if self._dwarf is None:
            return None
        if self._dwarf.eh_frame_sec is not None:
            fde = self._from_hdr(pc)
            if fde is not None:
                return fde
            if self._hdr and self._hdr[0] and not self._dwarf.has_CFI() and \
                    self._debug_dwarf() is None:
                return None  # the table lists every FDE: no need to parse them all
        starts, fdes = self._all_fdes()
        at = bisect.bisect_right(starts, pc) - 1
        if at >= 0 and pc < starts[at] + fdes[at]["address_range"]:
            return fdes[at]
        return None

    def _eh_info(self) -> CallFrameInfo:
        if self._eh is None:
            sec = self._dwarf.eh_frame_sec
            self._eh = CallFrameInfo(stream=sec.stream, size=sec.size, address=sec.address,
                                     base_structs=self.structs, for_eh_frame=True)
        return self._eh

    def _from_hdr(self, pc: int) -> FDE | None:
        if self._hdr is None:
            self._hdr = _read_hdr(self.elf) or ([], [])
        starts, fde_addresses = self._hdr
        if not starts:
            return None
        at = bisect.bisect_right(starts, pc) - 1
        if at < 0:
            return None
        cfi = self._eh_info()
        parse_one = getattr(cfi, "_parse_entry_at", None)  # pyelftools has no public one
        if parse_one is None:
            return None
        entry = parse_one(fde_addresses[at] - self._dwarf.eh_frame_sec.address)
        if isinstance(entry, FDE) and \
                entry["initial_location"] <= pc < entry["initial_location"] + \
                entry["address_range"]:
            return entry
        return None

    def _all_fdes(self) -> tuple[list[int], list[FDE]]:
        if self._sorted is None:
            fdes = []
            if self._dwarf.eh_frame_sec is not None:
                fdes += [e for e in self._eh_info().get_entries() if isinstance(e, FDE)]
            for dwarf in (self._dwarf, self._debug_dwarf()):
                if dwarf is not None and dwarf.has_CFI():
                    fdes += [e for e in dwarf.CFI_entries() if isinstance(e, FDE)]
            fdes.sort(key=lambda f: f["initial_location"])
            self._sorted = ([f["initial_location"] for f in fdes], fdes)
        return self._sorted

    def _debug_dwarf(self):
        if self._debug_elf is None or self._debug_elf is self.elf or \
                self._debug_elf.get_section_by_name(".debug_frame") is None:
            return None
        return self._debug_elf.get_dwarf_info(relocate_dwarf_sections=False)


def _read_hdr(elf) -> tuple[list[int], list[int]] | None:
    """``.eh_frame_hdr``'s binary search table: FDE start addresses and FDE addresses."""
    section = elf.get_section_by_name(".eh_frame_hdr")
    if section is None:
        return None
    data = section.data()
    if len(data) < 12 or data[0] != 1 or data[3] != _HDR_TABLE_DATAREL_SDATA4:
        return None
    order = "<" if elf.little_endian else ">"
    # eh_frame_ptr and fde_count are 4 bytes each in every encoding GNU ld writes
    if data[2] != 0x03:  # fde_count as udata4
        return None
    count = struct.unpack_from(order + "I", data, 8)[0]
    base = section["sh_addr"]
    table = struct.unpack_from(order + "ii" * count, data, 12)
    return [base + v for v in table[0::2]], [base + v for v in table[1::2]]
