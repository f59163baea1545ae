"""The one interface every architecture module implements.

The core never asks which machine it runs on: it asks the tracee's
:class:`Arch` (see :func:`pydbg_utrace.arch.for_pid`) for named registers over
the raw ``NT_PRSTATUS`` bytes, for the system-call ABI, for the breakpoint
instruction, for the hardware steps that exist and for software-step rules.

Everything here is a pure function of bytes: no ptrace, no processes.  The
core reads the regset once per stop, hands the bytes to
:meth:`Arch.registers`, lets engines read and write named fields, and writes
``Registers.raw`` back with ``SETREGSET`` only when ``Registers.changed``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

#: ``load_regset(note_type, size) -> bytes``: fetch another regset of the same
#: stopped thread (the core passes one backed by ``PTRACE_GETREGSET``).
RegsetLoader = Callable[[int, int], bytes]
#: ``read(address, size) -> bytes``: read the tracee's memory (software steps).
MemoryReader = Callable[[int, int], bytes]

MAX_ERRNO = 4095  # include/linux/err.h: -4095..-1 are error returns
NT_PRFPREG = 2  # include/uapi/linux/elf.h: the floating-point regset


def to_signed(value: int, bits: int = 64) -> int:
    """Two's-complement reading of an unsigned register value."""
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


@dataclass(frozen=True, slots=True)
class Instruction:
    """One disassembled instruction, for people (REPL, traces, gdb)."""

    address: int
    size: int
    mnemonic: str
    op_str: str
    bytes: bytes

    def __str__(self) -> str:
        return f"{self.address:#x}: {self.mnemonic} {self.op_str}".rstrip()


@dataclass(frozen=True, slots=True)
class Field:
    """Where one named register lives in the regset: byte offset and width."""

    offset: int
    size: int


class Registers:
    """Named fields over the raw ``NT_PRSTATUS`` bytes of one stopped thread.

    Reading and writing go straight to :attr:`raw`, so ``raw`` is always
    exactly what ``SETREGSET(NT_PRSTATUS)`` must get back.  Other regsets
    (s390x ``NT_S390_SYSTEM_CALL``...) are fetched lazily through the loader
    given to :meth:`Arch.registers` and kept in :attr:`extra`; the core writes
    back each note type in :attr:`extra_changed`.
    """

    __slots__ = ("arch", "raw", "changed", "extra", "extra_changed", "_load")

    def __init__(self, arch: Arch, raw: bytes, load_regset: RegsetLoader | None = None):
        if len(raw) != arch.regset_size:
            raise ValueError(
                f"{arch.name}: NT_PRSTATUS is {arch.regset_size} bytes, got {len(raw)}")
        self.arch = arch
        self.raw = bytearray(raw)
        self.changed = False
        self.extra: dict[int, bytearray] = {}
        self.extra_changed: set[int] = set()
        self._load = load_regset

    def _field(self, name: str) -> Field:
        try:
            return self.arch.fields[name]
        except KeyError:
            raise KeyError(f"{name!r} is not a {self.arch.name} register "
                           f"(known: {', '.join(self.arch.register_names)})") from None

    def __getitem__(self, name: str) -> int:
        f = self._field(name)
        return int.from_bytes(self.raw[f.offset:f.offset + f.size], self.arch.byteorder)

    def __setitem__(self, name: str, value: int) -> None:
        f = self._field(name)
        bits = 8 * f.size
        if not -(1 << (bits - 1)) <= value < (1 << bits):
            raise ValueError(f"{value:#x} does not fit the {bits}-bit register {name!r}")
        value &= (1 << bits) - 1
        self.raw[f.offset:f.offset + f.size] = value.to_bytes(f.size, self.arch.byteorder)
        self.changed = True

    def __contains__(self, name: object) -> bool:
        return name in self.arch.fields

    @property
    def pc(self) -> int:
        return self[self.arch.pc_register]

    @pc.setter
    def pc(self, value: int) -> None:
        self[self.arch.pc_register] = value

    @property
    def sp(self) -> int:
        return self[self.arch.sp_register]

    @sp.setter
    def sp(self, value: int) -> None:
        self[self.arch.sp_register] = value

    def signed(self, name: str) -> int:
        """The register read as a signed number (syscall numbers, returns)."""
        return to_signed(self[name], 8 * self.arch.fields[name].size)

    def as_dict(self) -> dict[str, int]:
        return {name: self[name] for name in self.arch.register_names}

    # -- other regsets -------------------------------------------------------
    def regset(self, note_type: int) -> bytearray:
        """Regset ``note_type`` (loaded on first use); mutate it, then call
        :meth:`set_regset` or add the note type to :attr:`extra_changed`."""
        if note_type not in self.extra:
            if self._load is None:
                raise LookupError(f"{self.arch.name}: regset {note_type:#x} was not loaded "
                                  "and no loader was given")
            size = self.arch.extra_regsets.get(note_type)
            if size is None:
                raise KeyError(f"{self.arch.name} has no regset {note_type:#x}")
            self.extra[note_type] = bytearray(self._load(note_type, size))
        return self.extra[note_type]

    @property
    def fpregs(self) -> bytearray:
        """The ``NT_PRFPREG`` regset (x86_64: the 512-byte FXSAVE area; ppc64: 32
        FPRs + FPSCR; s390x: FPC + 16 FPRs), loaded on first use; mutate it and
        add ``NT_PRFPREG`` to :attr:`extra_changed` (or use :meth:`set_regset`)."""
        return self.regset(NT_PRFPREG)

    def set_regset(self, note_type: int, data: bytes) -> None:
        """Replace regset ``note_type``; the core writes it back."""
        self.extra[note_type] = bytearray(data)
        self.extra_changed.add(note_type)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v:#x}" for k, v in self.as_dict().items())
        return f"<{self.arch.name} Registers {shown}>"


class Arch:
    """What the core may ask about one architecture (one instance per arch).

    Subclasses set the class attributes and implement the syscall ABI.  All
    methods are pure: they read or write a :class:`Registers` or decode bytes.
    """

    name: str
    byteorder: str  # 'little' | 'big'
    word_size: int = 8
    regset_size: int  # bytes of NT_PRSTATUS as GETREGSET returns it
    register_names: tuple[str, ...]  # regset order
    fields: Mapping[str, Field]
    pc_register: str
    sp_register: str
    #: other regsets the loader may fetch: note type -> size in bytes
    #: (every arch has ``NT_PRFPREG``, see ``fp_regset_size``)
    extra_regsets: Mapping[int, int] = {}
    fp_regset_size: int  # bytes of NT_PRFPREG

    breakpoint_instruction: bytes
    breakpoint_pc_offset: int  # PC after the trap minus the breakpoint address
    breakpoint_si_code: int  # si_code of the SIGTRAP the breakpoint instruction raises
    has_singlestep: bool = True
    blockstep_request: int | None = None  # PTRACE_SINGLEBLOCK for this arch

    capstone_arch: int
    capstone_mode: int
    gdb_architecture: str
    gdb_register_order: tuple[str, ...]  # gdb's names, g-packet order (general regs)
    gdb_register_map: Mapping[str, str] = {}  # gdb name -> our name, where they differ

    # -- registers -----------------------------------------------------------
    def registers(self, raw: bytes, load_regset: RegsetLoader | None = None) -> Registers:
        return Registers(self, raw, load_regset)

    def empty_registers(self) -> Registers:
        """All-zero registers (tests, core dumps, synthetic stops)."""
        return Registers(self, bytes(self.regset_size))

    # -- system calls (subclasses) -------------------------------------------
    def syscall_number(self, regs: Registers) -> int:
        """The syscall number at a syscall-entry stop (signed: -1 = none)."""
        raise NotImplementedError

    def syscall_number_at_exit(self, regs: Registers) -> int | None:
        """The number of the call at a syscall-exit stop, if the registers still
        hold it (x86_64: ``orig_rax``); None where the exit overwrote it."""
        return None

    #: The registers at a syscall-exit stop still hold the call's number and
    #: all its arguments, so that :meth:`syscall_at_exit` can recover them and
    #: the fast lane may skip GET_SYSCALL_INFO at the entry (docs/architecture.md,
    #: "The fast lane").  False where the result overwrites an argument register
    #: or the number (ppc64 and s390x keep the first argument in orig_gpr3 /
    #: orig_gpr2, but the number is not known to survive): the lane then reads
    #: the entry whenever an engine wants the exit.
    keeps_syscall_at_exit: bool = False

    def syscall_at_exit(self, regs: Registers) -> tuple[int, tuple[int, ...]] | None:
        """``(number, arguments)`` of the call at its exit stop, from the registers;
        None where they no longer hold them (see ``keeps_syscall_at_exit``)."""
        return None

    def set_syscall_number(self, regs: Registers, nr: int) -> None:
        """Change the call the kernel will run (at the entry stop)."""
        raise NotImplementedError

    def syscall_args(self, regs: Registers) -> tuple[int, ...]:
        """The six arguments at the entry stop, unsigned."""
        raise NotImplementedError

    def syscall_result(self, regs: Registers) -> tuple[int, int | None]:
        """At the exit stop: ``(value, errno)``.

        On success ``errno`` is None and ``value`` the signed result; on
        failure ``errno`` is the positive error number and ``value`` is
        ``-errno`` on every arch (the kernel's own convention, as in
        ``PTRACE_GET_SYSCALL_INFO``), whatever the registers hold.
        """
        raise NotImplementedError

    def set_syscall_result(self, regs: Registers, value: int = 0,
                           errno: int | None = None) -> None:
        """At the exit stop: make the tracee see ``value``, or failure with ``errno``."""
        raise NotImplementedError

    def abort_syscall(self, regs: Registers) -> None:
        """At the entry stop: make the kernel skip the call (an invalid number).

        The kernel then returns ``-ENOSYS`` through the exit stop, where the
        core calls :meth:`set_syscall_result` with what the tracee should see.
        """
        raise NotImplementedError

    # -- stepping -------------------------------------------------------------
    def software_step(self, pc: int, read: MemoryReader) -> list[int] | None:
        """None: the hardware single-step is fine at ``pc``.  A list: plant
        temporary breakpoints there and continue instead (one step's worth)."""
        return None

    # -- disassembly ----------------------------------------------------------
    @property
    def _capstone(self) -> Any:
        """One capstone handle per thread (the REPL and the tracer may both disassemble)."""
        local = self.__dict__.setdefault("_capstone_local", threading.local())
        cs = getattr(local, "cs", None)
        if cs is None:
            import capstone

            cs = local.cs = capstone.Cs(self.capstone_arch, self.capstone_mode)
        return cs

    def disassemble(self, code: bytes, address: int, count: int = 0) -> list[Instruction]:
        """Decode ``code`` found at ``address``; ``count`` 0 means all of it.

        Where capstone cannot decode, :meth:`_undecodable` may supply an entry
        (ppc: ``lqarx``/``stqcx.`` by mask, or ``.long``); otherwise we stop.
        """
        out: list[Instruction] = []
        offset = 0
        while offset < len(code) and (count == 0 or len(out) < count):
            for addr, size, mnemonic, op_str in self._capstone.disasm_lite(
                    code[offset:], address + offset, count - len(out) if count else 0):
                out.append(Instruction(addr, size, mnemonic, op_str,
                                       bytes(code[offset:offset + size])))
                offset += size
            if offset >= len(code) or (count and len(out) >= count):
                break
            fallback = self._undecodable(code, offset, address + offset)
            if fallback is None:
                break
            out.append(fallback)
            offset += fallback.size
        return out

    def _undecodable(self, code: bytes, offset: int, address: int) -> Instruction | None:
        return None

    # -- system call names ----------------------------------------------------
    @property
    def syscall_names(self) -> Mapping[int, str]:
        raise NotImplementedError

    @cached_property
    def _syscall_numbers(self) -> dict[str, int]:
        return {name: nr for nr, name in self.syscall_names.items()}

    def syscall_number_of(self, name: str) -> int:
        try:
            return self._syscall_numbers[name]
        except KeyError:
            raise KeyError(f"no system call {name!r} on {self.name}") from None

    def syscall_name(self, nr: int) -> str:
        """``name`` or ``syscall_<nr>`` for numbers the table lacks."""
        return self.syscall_names.get(nr, f"syscall_{nr}")

    def __repr__(self) -> str:
        return f"<Arch {self.name}>"


def layout(*names_and_sizes: tuple[str, int]) -> tuple[tuple[str, ...], dict[str, Field]]:
    """Register names in regset order and their fields, from (name, size) pairs."""
    fields: dict[str, Field] = {}
    offset = 0
    for name, size in names_and_sizes:
        fields[name] = Field(offset, size)
        offset += size
    return tuple(fields), fields
