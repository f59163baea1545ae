"""Source-level frames: a machine frame seen through its function's DWARF.

A :class:`SourceFrame` knows its function, its line, its arguments and the
locals in scope at its pc, and reads them as :class:`Value`\\ s through an
expression context made of the frame's registers (from the unwinder), its
frame base (``DW_AT_frame_base``, which gcc makes ``DW_OP_call_frame_cfa``),
its CFA, and for ``DW_OP_entry_value`` the caller's call-site parameters.

Name lookup is gdb's: the blocks around the pc innermost first (a function's
parameters live in its outermost block), then the compile unit's file-scope
variables, then every image's globals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from . import location
from .dies import Block, Function, InlinedCall, Variable
from .lines import LineRange
from .location import Unavailable
from .program import Image, Program
from .regs import RegisterMap
from .types import Type
from .unwind import FrameState, Unwinder
from .values import MemoryReader, SourceError, Value, from_location

_MASK = (1 << 64) - 1


@dataclass
class SourceFrame:
    level: int
    state: FrameState
    program: Program
    unwinder: Unwinder
    caller: SourceFrame | None = field(default=None, repr=False)
    inline: InlinedCall | None = None  # this frame is that inlined call (gdb's INLINE_FRAME)
    callee_inline: InlinedCall | None = None  # the inlined call this frame made at its pc

    @property
    def name(self) -> str:
        """The function gdb names: the inlined one for an inline frame."""
        if self.inline is not None:
            return self.inline.name
        fn = self.function
        return fn.name if fn is not None else ""

    @property
    def pc(self) -> int:
        return self.state.pc

    @cached_property
    def image(self) -> Image | None:
        return self.program.image_at(self.state.lookup_pc)

    @cached_property
    def function(self) -> Function | None:
        """The real (out-of-line) function whose code runs here."""
        found = self.program.function_at(self.state.lookup_pc)
        return found[1] if found is not None else None

    @property
    def file_pc(self) -> int:
        image = self.image
        return self.state.lookup_pc - (image.bias if image is not None else 0)

    @property
    def line(self):
        """The line covering the frame's pc (runtime range), or None; for a frame whose
        callee was inlined, the line of that call (DW_AT_call_line), as gdb shows it."""
        if self.callee_inline is not None:
            call = self.callee_inline
            return LineRange(call.call_file, call.call_line, self.state.pc, self.state.pc)
        return self.program.line_at(self.state.lookup_pc)

    @property
    def read(self) -> MemoryReader:
        return self.unwinder.read

    @property
    def byteorder(self) -> str:
        image = self.image or (self.program.images[0] if self.program.images else None)
        return "big" if image is not None and not image.debug.elf.little_endian else "little"

    @property
    def registers(self) -> RegisterMap:
        return self.unwinder.regs

    # -- variables ------------------------------------------------------------------------

    def scopes(self) -> list[Block]:
        """This frame's blocks at its pc, innermost first: an inline frame's end at its
        inlined call (gdb's lookups stop there), a real frame's at its function."""
        fn = self.function
        chain = fn.scopes_at(self.file_pc) if fn is not None else []
        start = chain.index(self.callee_inline) + 1 if self.callee_inline in chain else 0
        end = chain.index(self.inline) + 1 if self.inline in chain else len(chain)
        return chain[start:end]

    def arguments(self) -> list[tuple[Variable, Value]]:
        owner = self.inline if self.inline is not None else self.function
        if owner is None:
            return []
        return [(v, self.value_of(v)) for v in owner.parameters]

    def locals(self) -> list[tuple[Variable, Value]]:
        """``info locals``: each block's variables, innermost block first."""
        out = []
        for block in self.scopes():
            for var in block.variables:
                if not var.is_parameter:
                    out.append((var, self.value_of(var)))
        return out

    def value_of(self, var: Variable) -> Value:
        spec = var.location
        if spec is None:
            return Value(var.type, optimized_out=True)
        if spec.const is not None:
            return Value(var.type, spec.const, order=self.byteorder)
        expr = spec.at(self.file_pc)
        if expr is None:
            return Value(var.type, optimized_out=True)
        ctx = FrameContext(self)
        try:
            where = location.evaluate(location.parse(expr, self.unit_structs()), ctx)
        except Unavailable:
            return Value(var.type, optimized_out=True)
        return from_location(var.type, where, self.read, ctx.register, self.byteorder)

    def entry_value_of(self, var: Variable) -> Value | None:
        """gdb's ``param@entry``: the value the caller passed, from its call site.

        Only for a parameter whose location at the function's entry is a plain
        register (what gcc emits at -O1 and up), answered by the caller's
        ``DW_TAG_call_site_parameter`` for that register; None when unknown.
        """
        fn = self.function
        spec = var.location
        if fn is None or spec is None or spec.const is not None or self.inline is not None:
            return None
        expr = spec.at(fn.low)
        if expr is None:
            return None
        try:
            ops = location.parse(expr, self.unit_structs())
            if len(ops) != 1 or not ops[0].op_name.startswith("DW_OP_reg"):
                return None
            number = FrameContext(self).entry_value(ops)
        except (Unavailable, SourceError):
            return None
        return from_location(var.type, location.Implicit(number=number), self.read,
                             lambda n: 0, self.byteorder)

    def unit_structs(self):
        image = self.image
        unit = image.debug.unit_at(self.file_pc) if image is not None else None
        if unit is None:
            raise SourceError("No symbol table is loaded.")
        return unit.cu.structs

    def lookup(self, name: str) -> Value | None:
        """The variable ``name`` as gdb finds it from this frame, or None."""
        for block in self.scopes():
            for var in reversed(block.variables):
                if var.name == name:
                    return self.value_of(var)
        image = self.image
        unit = image.debug.unit_at(self.file_pc) if image is not None and \
            image.debug.has_dwarf else None
        for im in ([image] if image is not None else []) + \
                [i for i in self.program.images if i is not image]:
            if not im.debug.has_dwarf:
                continue
            var = im.debug.global_named(name, unit if im is image else None)
            if var is not None:
                return global_value(var, im, self.read)
        return None

    def type_named(self, name: str) -> Type | None:
        image = self.image
        unit = image.debug.unit_at(self.file_pc) if image is not None and \
            image.debug.has_dwarf else None
        for im in ([image] if image is not None else []) + \
                [i for i in self.program.images if i is not image]:
            if im.debug.has_dwarf:
                t = im.debug.type_named(name, unit if im is image else None)
                if t is not None:
                    return t
        return None


def global_value(var: Variable, image: Image, read: MemoryReader) -> Value:
    """A file-scope variable: its location is an address (DW_OP_addr) or a constant."""
    spec = var.location
    if spec is None:
        return Value(var.type, optimized_out=True)
    order = "little" if image.debug.elf.little_endian else "big"
    if spec.const is not None:
        return Value(var.type, spec.const, order=order)
    expr = spec.at(0)
    if expr is None:
        return Value(var.type, optimized_out=True)
    ctx = StaticContext(image.bias, read, order)
    structs = image.debug.dwarf.structs
    try:
        where = location.evaluate(location.parse(expr, structs), ctx)
    except Unavailable:
        return Value(var.type, optimized_out=True)
    return from_location(var.type, where, read, ctx.register, order)


class StaticContext:
    """An expression context with no frame: globals before ``run`` or anywhere."""

    address_size = 8

    def __init__(self, bias: int, read: MemoryReader, byteorder: str = "little"):
        self.bias = bias
        self.read_memory = read
        self.byteorder = byteorder

    def register(self, number: int) -> int:
        raise Unavailable("no frame selected")

    def frame_base(self) -> int:
        raise Unavailable("no frame selected")

    def cfa(self) -> int:
        raise Unavailable("no frame selected")

    def entry_value(self, expr) -> int:
        raise Unavailable("no frame selected")

    def relocate(self, address: int) -> int:
        return address + self.bias


class FrameContext:
    """The :class:`location.ExprContext` of one source frame."""

    address_size = 8

    def __init__(self, frame: SourceFrame):
        self.frame = frame
        self.byteorder = frame.byteorder

    def read_memory(self, address: int, size: int) -> bytes:
        return self.frame.read(address, size)

    def register(self, number: int) -> int:
        registers = self.frame.state.registers
        if number not in registers:
            raise Unavailable(f"register {number} is not saved in this frame")
        return registers[number]

    def frame_base(self) -> int:
        fn = self.frame.function
        spec = fn.frame_base if fn is not None else None
        expr = spec.at(self.frame.file_pc) if spec is not None else None
        if expr is None:
            raise Unavailable("no frame base")
        return location.evaluate_value(location.parse(expr, self.frame.unit_structs()), self)

    def cfa(self) -> int:
        cfa = self.frame.unwinder.cfa_of(self.frame.state)
        if cfa is None:
            raise Unavailable("no CFA for this frame")
        return cfa

    def relocate(self, address: int) -> int:
        image = self.frame.image
        return address + (image.bias if image is not None else 0)

    def entry_value(self, expr) -> int:
        """DW_OP_entry_value(DW_OP_regN): what the caller's call site put in regN."""
        if len(expr) != 1 or not expr[0].op_name.startswith("DW_OP_reg"):
            raise Unavailable("entry value of a complex expression")
        callee = self.frame.function
        if callee is not None and callee.name == "main":
            # gdb's get_prev_frame stops at main (backtrace past-main off): no caller
            raise Unavailable("DW_OP_entry_value resolving requires caller of main")
        caller = self.frame.caller
        while caller is not None and caller.state is self.frame.state:
            caller = caller.caller  # past the inline frames of this machine frame
        if caller is None or caller.function is None or caller.state.signal_trampoline:
            raise Unavailable("no caller for an entry value")
        wanted = _reg_op_number(expr[0])
        return_pc = caller.pc - caller.image.bias
        for site in caller.function.call_sites:
            if site.return_pc != return_pc:
                continue
            self._check_target(site, caller, callee)
            for where, value in site.parameters:
                ops = location.parse(where, caller.unit_structs())
                if len(ops) == 1 and ops[0].op_name.startswith("DW_OP_reg") and \
                        _reg_op_number(ops[0]) == wanted:
                    value_ops = location.parse(value, caller.unit_structs())
                    return location.evaluate_value(value_ops, FrameContext(caller)) & _MASK
        raise Unavailable("the caller's call site does not say")


    def _check_target(self, site, caller: SourceFrame, callee: Function | None) -> None:
        """gdb trusts a call site only for the function it called (a tail call in
        between would make its argument values someone else's)."""
        if callee is None:
            raise Unavailable("no callee")
        image = self.frame.image
        entry = callee.low + (image.bias if image is not None else 0)
        if site.origin is not None:  # a name: the same function, or an alias of its address
            if site.origin in (callee.name, callee.source_name):
                return
            for im in self.frame.program.images:
                address = im.debug.symbol_address(site.origin)
                if address is not None and address + im.bias == entry:
                    return
            raise Unavailable(f"the call site calls {site.origin}, not {callee.name}")
        if site.target is None:
            raise Unavailable("DW_AT_call_target is not specified at DW_TAG_call_site")
        where = location.evaluate(location.parse(site.target, caller.unit_structs()),
                                  FrameContext(caller))
        if isinstance(where, location.InMemory):
            address = where.address  # an expression, not a location: its value
        else:
            address = location.evaluate_value(location.parse(site.target,
                                                             caller.unit_structs()),
                                              FrameContext(caller))
        if address != entry:
            raise Unavailable("the call site called another function")


def _reg_op_number(op) -> int:
    return op.args[0] if op.op_name == "DW_OP_regx" else int(op.op_name[9:])


def dwarf_registers(named: Mapping[str, int], regs: RegisterMap) -> dict[int, int]:
    """``{"rip": ..., "rsp": ...}`` (a regset's names) as ``{DWARF number: value}``."""
    out = {}
    for name, value in named.items():
        number = regs.number(name)
        if number is not None:
            out[number] = value
    return out


def backtrace(program: Program, regs: RegisterMap, read: MemoryReader, pc: int,
              registers: dict[int, int], limit: int = 64) -> tuple[list[SourceFrame], str]:
    """Source frames from frame 0's pc and registers (DWARF numbers), and why the
    walk stopped ('' at the outermost frame)."""
    unwinder = Unwinder(program, regs, read)
    states, reason = unwinder.backtrace(FrameState(pc, registers), limit)
    frames: list[SourceFrame] = []
    for state in states:
        frames.extend(_frames_of(state, program, unwinder, len(frames)))
    for inner, outer in zip(frames, frames[1:], strict=False):
        inner.caller = outer
    return frames, reason


def _frames_of(state: FrameState, program: Program, unwinder: Unwinder,
               level: int) -> list[SourceFrame]:
    """One machine frame as gdb shows it: its inlined calls first, innermost first."""
    found = program.function_at(state.lookup_pc)
    calls: list[InlinedCall] = []
    if found is not None:
        image, fn = found
        calls = [b for b in fn.scopes_at(state.lookup_pc - image.bias)
                 if isinstance(b, InlinedCall)]
    frames, callee = [], None
    for call in calls:
        frames.append(SourceFrame(level + len(frames), state, program, unwinder, inline=call,
                                  callee_inline=callee))
        callee = call
    frames.append(SourceFrame(level + len(frames), state, program, unwinder,
                              callee_inline=callee))
    return frames
