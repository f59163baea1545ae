"""The scopes expressions run in: a stopped frame, or the program's files before ``run``.

Both satisfy :class:`~pydbg_utrace.source.evaluate.Scope`.  :class:`History`
is gdb's value history (``$1``, ``$``, ``$$2``).
"""

from __future__ import annotations

from collections.abc import Callable

from .frames import SourceFrame, global_value
from .program import Program
from .regs import RegisterMap
from .types import Type
from .values import MemoryReader, SourceError, Value, from_int


class History:
    def __init__(self):
        self.values: list[Value] = []

    def add(self, value: Value) -> int:
        """Record a printed value; its number for ``$N = ``."""
        self.values.append(value)
        return len(self.values)

    def get(self, index: int) -> Value:
        """``$N`` for index > 0; ``$`` is 0, ``$$`` -1, ``$$N`` -N."""
        number = index if index > 0 else len(self.values) + index
        if not self.values and index <= 0:
            return Value(Type("void", "void", 1))
        if not 1 <= number <= len(self.values):
            raise SourceError(f"History has not yet reached ${number}.")
        return self.values[number - 1]


def _no_write(*_args) -> None:
    raise SourceError("Cannot write: no process to write to.")


class FileScope:
    """Globals and types of the program's files, with no frame (before ``run``, or a core)."""

    pointer_size = 8

    def __init__(self, program: Program, read: MemoryReader, history: History | None = None,
                 write_memory: Callable[[int, bytes], None] = _no_write):
        self.program = program
        self.read = read
        first = program.images[0] if program.images else None
        self.byteorder = "big" if first is not None and not first.debug.elf.little_endian \
            else "little"
        self.histories = history or History()
        self.write_memory = write_memory

    def variable(self, name: str) -> Value | None:
        for image in self.program.images:
            if image.debug.has_dwarf:
                var = image.debug.global_named(name)
                if var is not None:
                    return global_value(var, image, self.read)
        return self.function(name) or self.enumerator(name)

    def enumerator(self, name: str) -> Value | None:
        for image in self.program.images:
            if image.debug.has_dwarf:
                found = image.debug.enumerator_named(name)
                if found is not None:
                    return from_int(found[0], found[1], self.byteorder)
        return None

    def function(self, name: str) -> Value | None:
        for image in self.program.images:
            if image.debug.has_dwarf:
                fn = image.debug.function_named(name)
                if fn is not None:
                    return Value(fn.type, b"", fn.low + image.bias, order=self.byteorder)
        return None

    def type_named(self, name: str) -> Type | None:
        for image in self.program.images:
            if image.debug.has_dwarf:
                t = image.debug.type_named(name)
                if t is not None:
                    return t
        return None

    def register(self, name: str) -> int | None:
        return None

    def history(self, index: int) -> Value:
        return self.histories.get(index)

    def write_register(self, number: int, value: int) -> None:
        raise SourceError("No registers.")


class FrameScope(FileScope):
    """A selected frame: its locals and arguments first, its registers as ``$name``."""

    def __init__(self, frame: SourceFrame, history: History | None = None,
                 write_memory: Callable[[int, bytes], None] = _no_write,
                 write_register: Callable[[int, int], None] | None = None):
        super().__init__(frame.program, frame.read, history, write_memory)
        self.frame = frame
        self._write_register = write_register

    @property
    def regs(self) -> RegisterMap:
        return self.frame.registers

    def variable(self, name: str) -> Value | None:
        found = self.frame.lookup(name)
        if found is not None:
            return found
        return self.function(name) or self.enumerator(name)

    def type_named(self, name: str) -> Type | None:
        return self.frame.type_named(name)

    def register(self, name: str) -> int | None:
        regs = self.regs
        known = self.frame.state.registers
        if name in ("pc", regs.pc_name):
            return self.frame.pc
        if name == "sp":
            return known.get(regs.sp)
        if name == "fp" and regs.frame_pointer is not None:
            return known.get(regs.frame_pointer)
        number = regs.number(name)
        if number is not None:
            return known.get(number)
        sub = _SUBREGISTERS.get(name)  # $eax, $ax, $al as gdb has them on x86_64
        if sub is not None and regs.arch == "x86_64":
            full, shift, bits = sub
            value = known.get(regs.number(full))
            return None if value is None else (value >> shift) & ((1 << bits) - 1)
        return None

    def register_number(self, name: str) -> int | None:
        """The DWARF number of ``$name`` (``pc``, ``sp`` too), for assignments."""
        regs = self.regs
        if name in ("pc", regs.pc_name):
            return regs.number(regs.pc_name)
        if name == "sp":
            return regs.sp
        return regs.number(name)

    def write_register(self, number: int, value: int) -> None:
        if self._write_register is None or self.frame.level != 0:
            raise SourceError("Cannot write registers of this frame.")
        self._write_register(number, value)


_SUBREGISTERS = {
    **{f"e{r}x": (f"r{r}x", 0, 32) for r in "abcd"},
    **{f"{r}x": (f"r{r}x", 0, 16) for r in "abcd"},
    **{f"{r}l": (f"r{r}x", 0, 8) for r in "abcd"},
    "esi": ("rsi", 0, 32), "edi": ("rdi", 0, 32), "ebp": ("rbp", 0, 32), "esp": ("rsp", 0, 32),
    **{f"r{n}d": (f"r{n}", 0, 32) for n in range(8, 16)},
}
