"""PLT stubs named as gdb names them: ``malloc@plt``.

A stub is a jump through its GOT slot (x86_64: ``jmp *SLOT(%rip)``, after an
``endbr64`` in ``.plt.sec``); the slot is the ``r_offset`` of a relocation
(``.rela.plt``'s JUMP_SLOT, or ``.rela.dyn``'s GLOB_DAT for ``.plt.got``),
whose symbol names the function.  Pure: ELF in, ``(address, size, name)`` out.
"""

from __future__ import annotations

STUB_SECTIONS = {".plt": 16, ".plt.sec": 16, ".plt.got": 8}
_JMP_RIP = b"\xff\x25"  # jmp qword ptr [rip + rel32]


def plt_stubs(elf) -> list[tuple[int, int, str]]:
    """Each stub's file address, size and ``name@plt`` (x86_64 files; else none)."""
    if elf.get_machine_arch() != "x64":
        return []
    slots = _slots(elf)
    out = []
    for section_name, size in STUB_SECTIONS.items():
        section = elf.get_section_by_name(section_name)
        if section is None:
            continue
        data, base = section.data(), section["sh_addr"]
        for start in range(0, len(data) - size + 1, size):
            at = data.find(_JMP_RIP, start, start + size)
            if at < 0 or at + 6 > len(data):
                continue
            rel = int.from_bytes(data[at + 2:at + 6], "little", signed=True)
            slot = base + at + 6 + rel
            if slot in slots:
                out.append((base + start, size, slots[slot] + "@plt"))
    return out


def _slots(elf) -> dict[int, str]:
    """GOT slot address -> the function's name."""
    slots = {}
    for name in (".rela.plt", ".rela.dyn"):
        section = elf.get_section_by_name(name)
        if section is None or not hasattr(section, "iter_relocations"):
            continue
        symbols = elf.get_section(section["sh_link"])
        for reloc in section.iter_relocations():
            index = reloc["r_info_sym"]
            if index:
                symbol = symbols.get_symbol(index)
                if symbol is not None and symbol.name:
                    slots[reloc["r_offset"]] = symbol.name
    return slots
