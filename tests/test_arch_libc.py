"""The powerpc atomic-sequence rule on every load-reserve in a real glibc.

Data: Debian's ``libc6:ppc64el`` package, fetched with ``apt-get download``
into ~/.cache/pydbg-utrace/debs (outside the repo) and unpacked with
``dpkg-deb -x``; ``.text`` read with pyelftools.  Each sequence the rule
classifies is checked against an independent walk that uses only capstone's
mnemonics and branch operands, so a misread mask, size or target fails.

Big-endian ppc64 has no package in Debian's main archive (it is a
debian-ports architecture); the same real instructions are re-encoded
big-endian instead, and the test that wants a real ppc64 libc says exactly
what it lacks.
"""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import capstone
import pytest
from pydbg_utrace.arch import by_name, ppc_atomic

CACHE = Path.home() / ".cache" / "pydbg-utrace" / "debs"
MIN_SEQUENCES = 20
SEQUENCE_LIMIT = 16  # gdb's limit, restated here so the walk below stays independent

STORE_CONDITIONAL_MNEMONICS = {"stwcx.", "stdcx.", "stbcx.", "sthcx.", "stqcx."}
LOAD_RESERVE_MNEMONICS = {"lwarx", "ldarx", "lbarx", "lharx", "lqarx"}
UNCONDITIONAL = {"b", "ba", "bl", "bla"}


def fetch_package(spec: str, deb_glob: str, why_missing: str = "") -> Path:
    """The unpacked root of ``spec`` (e.g. 'libc6:ppc64el'); skips if it cannot be had."""
    CACHE.mkdir(parents=True, exist_ok=True)
    debs = sorted(CACHE.glob(deb_glob))
    if not debs:
        if shutil.which("apt-get") is None:
            pytest.skip(f"{spec}: no apt-get on this host to download it")
        try:
            run = subprocess.run(["apt-get", "download", spec], cwd=CACHE,
                                 capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired:
            pytest.skip(f"{spec}: `apt-get download {spec}` timed out after 600 s")
        debs = sorted(CACHE.glob(deb_glob))
        if run.returncode or not debs:
            arch = spec.split(":")[1]
            said = ((run.stderr or run.stdout).strip().splitlines() or ["no output"])[-1]
            pytest.skip(
                f"{spec} is not obtainable: `apt-get download {spec}` in {CACHE} said "
                f"{said!r}; it needs `dpkg --add-architecture {arch} && apt-get update` "
                f"with an apt source that carries {arch}{why_missing}")
    deb = debs[-1]
    root = CACHE / "x" / deb.stem
    if not root.exists():
        if shutil.which("dpkg-deb") is None:
            pytest.skip(f"{deb.name}: dpkg-deb is missing to unpack it")
        tmp = root.with_name(root.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp)], check=True)
        tmp.rename(root)
    return root


@dataclass
class Text:
    """The ``.text`` section of a shared object, plus its exported symbols."""

    base: int
    data: bytes
    symbols: list[tuple[int, int, str]]

    def read(self, address: int, size: int) -> bytes:
        offset = address - self.base
        if not 0 <= offset < len(self.data):
            raise OSError(f"{address:#x} outside .text")
        return self.data[offset:offset + size]

    def symbols_at(self, address: int) -> list[str]:
        """Every exported function (aliases included) whose body holds ``address``."""
        return [name for start, size, name in self.symbols if start <= address < start + size]


def load_text(path: Path) -> Text:
    from elftools.elf.elffile import ELFFile

    with open(path, "rb") as f:
        elf = ELFFile(f)
        text = elf.get_section_by_name(".text")
        symbols = sorted((s["st_value"], s["st_size"], s.name)
                         for s in elf.get_section_by_name(".dynsym").iter_symbols()
                         if s["st_info"]["type"] == "STT_FUNC" and s["st_size"])
        return Text(text["sh_addr"], text.data(), symbols)


@pytest.fixture(scope="module")
def libc_le() -> Text:
    root = fetch_package("libc6:ppc64el", "libc6_*_ppc64el.deb")
    path = root / "lib" / "powerpc64le-linux-gnu" / "libc.so.6"
    if not path.exists():
        pytest.skip(f"{path} missing from the unpacked libc6:ppc64el package")
    return load_text(path)


def load_reserve_addresses(text: Text, byteorder: str) -> list[int]:
    return [text.base + off for off in range(0, len(text.data) - 3, 4)
            if ppc_atomic.load_reserve_name(
                int.from_bytes(text.data[off:off + 4], byteorder)) is not None]


def capstone_walk(cs, read, pc: int) -> list[int] | None:
    """The rule again, from capstone's view only (mnemonics, printed targets)."""
    def decode(address: int):
        insns = list(cs.disasm_lite(read(address, 4), address))
        if not insns:
            raise AssertionError(f"capstone cannot decode {address:#x}: prefixed or "
                                 "quadword forms need their own check here")
        (_, size, mnemonic, op_str), = insns
        return size, mnemonic, op_str

    _, first, _ = decode(pc)
    if first not in LOAD_RESERVE_MNEMONICS:
        return None
    loc, target, branches = pc, None, 0
    for _ in range(SEQUENCE_LIMIT):
        loc += 4
        _, mnemonic, op_str = decode(loc)
        last = op_str.split(",")[-1].strip()
        is_branch = mnemonic.startswith("b") and mnemonic.rstrip("+-") not in UNCONDITIONAL
        if is_branch and last.startswith("0x"):  # a conditional branch to an address
            branches += 1
            if branches > 1:
                return None
            target = int(last, 16) & (2**64 - 1)
        if mnemonic in STORE_CONDITIONAL_MNEMONICS:
            break
    else:
        return None
    bps = [loc + 4]
    if target is not None and target != loc + 4 and not pc <= target <= loc:
        bps.append(target)
    return bps


@pytest.fixture(scope="module")
def classified(libc_le: Text) -> dict[int, list[int] | None]:
    arch = by_name("ppc64le")
    return {pc: arch.software_step(pc, libc_le.read)
            for pc in load_reserve_addresses(libc_le, "little")}


def test_masks_and_capstone_agree_on_every_load_reserve(libc_le: Text):
    """Every word the mask calls a load-reserve is one for capstone, and back."""
    arch = by_name("ppc64le")
    cs = capstone.Cs(arch.capstone_arch, arch.capstone_mode)
    by_capstone = {}
    undecodable = 0
    for off in range(0, len(libc_le.data) - 3, 4):
        insns = list(cs.disasm_lite(libc_le.data[off:off + 4], libc_le.base + off))
        if not insns:
            undecodable += 1
            word = int.from_bytes(libc_le.data[off:off + 4], "little")
            if ppc_atomic.load_reserve_name(word) == "lqarx":
                by_capstone[libc_le.base + off] = "lqarx"
        elif insns[0][2] in LOAD_RESERVE_MNEMONICS:
            by_capstone[libc_le.base + off] = insns[0][2]
    by_mask = {pc: ppc_atomic.load_reserve_name(
        int.from_bytes(libc_le.read(pc, 4), "little")) for pc in load_reserve_addresses(
            libc_le, "little")}
    assert by_mask == by_capstone
    assert len(by_mask) >= MIN_SEQUENCES


def test_every_real_sequence_matches_an_independent_capstone_walk(libc_le, classified):
    arch = by_name("ppc64le")
    cs = capstone.Cs(arch.capstone_arch, arch.capstone_mode)
    misread = {pc: (ours, capstone_walk(cs, libc_le.read, pc))
               for pc, ours in classified.items()
               if ours != capstone_walk(cs, libc_le.read, pc)}
    assert not misread, {f"{pc:#x}": v for pc, v in list(misread.items())[:10]}


def test_breakpoints_follow_a_store_conditional_and_the_target_rule(libc_le, classified):
    handled = {pc: bps for pc, bps in classified.items() if bps is not None}
    assert len(handled) >= MIN_SEQUENCES
    for pc, bps in handled.items():
        closing = bps[0] - 4
        word = int.from_bytes(libc_le.read(closing, 4), "little")
        assert ppc_atomic.store_conditional_name(word), f"{pc:#x}: no stcx. before {bps[0]:#x}"
        assert closing - pc <= 4 * SEQUENCE_LIMIT
        # nothing between the load-reserve and the stcx. is another stcx.
        for a in range(pc + 4, closing, 4):
            assert not ppc_atomic.store_conditional_name(
                int.from_bytes(libc_le.read(a, 4), "little"))
        assert len(bps) in (1, 2)
        if len(bps) == 2:
            assert bps[1] != bps[0] and not pc <= bps[1] <= closing


def test_summary_and_known_functions(libc_le, classified, capsys):
    kinds = Counter()
    where = Counter()
    for pc, bps in classified.items():
        name = ppc_atomic.load_reserve_name(int.from_bytes(libc_le.read(pc, 4), "little"))
        kinds[(name, "gave up" if bps is None else f"{len(bps)} breakpoint(s)")] += 1
        if bps is not None:
            where.update(libc_le.symbols_at(pc))
    with capsys.disabled():
        print(f"\nlibc6:ppc64el .text: {len(classified)} load-reserves: "
              + ", ".join(f"{k[0]} {k[1]}: {n}" for k, n in sorted(kinds.items())))
    # The page names these as users of such loops (fork takes _IO_list_lock).
    for function in ("_IO_list_lock", "pthread_mutex_lock", "pthread_spin_lock", "flockfile"):
        assert where[function] >= 1, f"no sequence found in {function}"
    assert sum(n for (_, how), n in kinds.items() if how != "gave up") >= MIN_SEQUENCES


def test_same_real_sequences_big_endian(libc_le, classified):
    """The ppc64 (big-endian) arch on the same instructions, byte-swapped per word."""
    swapped = b"".join(libc_le.data[i:i + 4][::-1] for i in range(0, len(libc_le.data) - 3, 4))
    text_be = Text(libc_le.base, swapped, libc_le.symbols)
    assert load_reserve_addresses(text_be, "big") == list(classified)
    arch = by_name("ppc64")
    for pc, bps in classified.items():
        assert arch.software_step(pc, text_be.read) == bps, f"{pc:#x}"


def test_real_big_endian_libc():
    """Debian's main archive has no ppc64; this runs when a ppc64 libc6 is cached."""
    root = fetch_package(
        "libc6:ppc64", "libc6_*_ppc64.deb",
        " (Debian's main archive has no ppc64: it is a debian-ports architecture, served"
        " from http://deb.debian.org/debian-ports with debian-ports-archive-keyring;"
        " big-endian is covered meanwhile by test_same_real_sequences_big_endian)")
    path = root / "lib" / "powerpc64-linux-gnu" / "libc.so.6"
    if not path.exists():
        pytest.skip(f"{path} missing from the unpacked libc6:ppc64 package")
    text = load_text(path)
    arch = by_name("ppc64")
    cs = capstone.Cs(arch.capstone_arch, arch.capstone_mode)
    pcs = load_reserve_addresses(text, "big")
    results = {pc: arch.software_step(pc, text.read) for pc in pcs}
    assert sum(r is not None for r in results.values()) >= MIN_SEQUENCES
    for pc, bps in results.items():
        assert bps == capstone_walk(cs, text.read, pc), f"{pc:#x}"
