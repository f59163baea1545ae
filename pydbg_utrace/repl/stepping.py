"""Source-level moves: ``next``, ``step``, ``until``, ``finish``, ``advance``, as gdb does them.

A line is stepped with a *step range*: the engine single-steps on the tracer
thread while the pc stays in the line's code, so the REPL hears once per range
(not once per instruction).  When the pc leaves the range:

- into a call (the return address on the stack points back into the range):
  ``next``, and ``step`` into code without line info, put a momentary
  breakpoint at the return address, conditional on the stack being back at
  this level (a recursive call returns there too, deeper), and continue;
  ``step`` into a function with line info runs to the end of its prologue.
- to the first instruction of a different line: done (gdb's
  ``end_stepping_range``).
- to the middle of a line, or to another range of the same line: that line
  becomes the range, and stepping goes on (gdb's ``set_step_info``).

A breakpoint, a signal or the program's end stops any of these early.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydbg_utrace.source.format import frame_line
from pydbg_utrace.source.frames import dwarf_registers
from pydbg_utrace.source.returns import return_value
from pydbg_utrace.source.types import strip
from pydbg_utrace.source.values import SourceError

from .engine import Stop
from .session import DebugError, Session
from .sourcelevel import SourceLevel

STEP_RANGES_LIMIT = 100_000  # ranges one `next` walks through at most (a runaway loop ends)
TRAMPOLINE_STEPS = 16  # instructions of a PLT stub, at most, before its target


@dataclass(frozen=True)
class FrameId:
    """gdb's frame id: the stack address of a call and its function."""

    sp: int
    function: int | None


class Stepper:
    def __init__(self, session: Session, source: SourceLevel):
        self.session = session
        self.source = source

    # -- where we are ----------------------------------------------------------------------
    def _pc_sp(self) -> tuple[int, int]:
        regs = self.session.registers()
        return regs.pc, regs.sp

    def _frame_id(self) -> FrameId:
        frame = self.source.frame() if self.source.selected == 0 else self.source.frames()[0][0]
        caller = frame.caller
        regmap = self.source.regmap
        sp = caller.state.registers.get(regmap.sp) if caller is not None else None
        fn = frame.function
        image = frame.image
        start = fn.low + image.bias if fn is not None and image is not None else None
        return FrameId(sp if sp is not None else self._pc_sp()[1], start)

    def _return_address(self, sp: int) -> int:
        arch = self.session.arch
        data = self.session.read_memory(sp, arch.word_size)
        return int.from_bytes(data, arch.byteorder)

    # -- next / step / until -----------------------------------------------------------------
    def step_lines(self, over_calls: bool, until: bool = False) -> Stop:
        """One source line (``next``, ``step``; ``until``: never backwards in a frame)."""
        program = self.source.program()
        pc, _ = self._pc_sp()
        line = program.line_at(pc)
        if line is None:
            return self._out_of_function()
        origin = self._frame_id()
        start, end = line.start, line.end
        if until and origin.function is not None:
            start = min(start, origin.function)
        current = (line.file, line.line)
        for _ in range(STEP_RANGES_LIMIT):
            stop = self._stepped_on(self.session.step_in_range(start, end))
            if stop.reason != "step":
                return stop
            pc, sp = self._pc_sp()
            if start <= pc < end:  # a breakpoint inside the range that did not stop us
                continue
            if self._entered_call(sp, start, end):
                elsewhere = self._into_call(pc, sp, over_calls)
                if elsewhere is not None:
                    return elsewhere
                pc, sp = self._pc_sp()
                if start <= pc < end:
                    continue
            found = program.line_at(pc)
            if found is None and self._in_signal_trampoline(pc):
                stop = self._through_sigreturn()  # back where the signal came
                if stop.reason != "step":
                    return stop
                pc, sp = self._pc_sp()
                found = program.line_at(pc)
            if found is None:  # returned into code without line info (main's caller)
                return self._out_of_function()
            if pc == found.start and (found.file, found.line) != current:
                if found.is_stmt:
                    return self._source_stop(stop, origin)
                start, end = found.start, found.end  # gdb: not a statement, step on,
                continue  # the line stepped from unchanged (refresh_step_info false)
            start, end = found.start, found.end
            current = (found.file, found.line)
        raise DebugError("Stepping gave up: the line did not end.")

    def _stepped_on(self, stop: Stop) -> Stop:
        """A step that landed on a user breakpoint stops there only if the breakpoint
        says so (its condition holds, its ignore count is spent): else, as in gdb,
        it is a step like any other, which may go on or end at a new line."""
        declines = self.session.declines
        if stop.reason == "breakpoint" and declines is not None and declines(stop):
            stop.reason = "step"
        return stop

    def _entered_call(self, sp: int, start: int, end: int) -> bool:
        """A call instruction of the range just ran: its return address is on top."""
        try:
            ret = self._return_address(sp)
        except DebugError:
            return False
        return start < ret <= end

    def _into_call(self, pc: int, sp: int, over_calls: bool) -> Stop | None:
        """Past the call (None when back in the range), or a stop to show."""
        program = self.source.program()
        found = program.function_at(pc)
        if not over_calls and found is None:
            target = self._plt_target(pc)  # a PLT stub: the function it calls
            if target is not None:
                return self._enter(target)
            found = self._through_trampoline(sp)
            pc = self._pc_sp()[0]
        if not over_calls and found is not None:
            image, fn = found
            if fn.low + image.bias == pc:  # step into a function with line info
                return self._enter((image, fn))
        ret = self._return_address(sp)
        stop = self.session.run_to([(ret, sp + self.session.arch.word_size)])
        if stop.extra.get("momentary"):
            return None
        return stop

    def _enter(self, found) -> Stop:
        """Run to the end of a function's prologue (step's stop in a callee)."""
        image, fn = found
        pc = self._pc_sp()[0]
        target = image.debug.after_prologue(fn) + image.bias
        stop = self.session.run_to([(target, None)]) if target != pc else \
            Stop(self.session.current or 0, "step")
        if stop.reason == "step" or stop.extra.get("momentary"):
            stop.reason = "step"
            stop.extra.update(source=True, new_frame=True)
        return stop

    def _plt_target(self, pc: int):
        """``getpid@plt``: the (image, function) with line info it calls, if any."""
        program = self.source.program()
        name = program.symbolize(pc) or ""
        if not name.split("+")[0].endswith("@plt"):
            return None
        wanted = name.split("+")[0][:-len("@plt")]
        for image in program.images[1:]:
            if image.debug.has_dwarf:
                fn = image.debug.function_named(wanted)
                if fn is not None:
                    return image, fn
        return None

    def _in_signal_trampoline(self, pc: int) -> bool:
        frames, _ = self.source.frames()
        return bool(frames) and frames[0].unwinder.is_signal_trampoline(pc)

    def _through_sigreturn(self) -> Stop:
        """A handler returned into the signal trampoline (``rt_sigreturn``): step it,
        as gdb does, to where the program was when the signal came."""
        stop = Stop(self.session.current or 0, "step")
        for _ in range(TRAMPOLINE_STEPS):
            stop = self.session.step(1)
            if stop.reason != "step" or not self._in_signal_trampoline(self._pc_sp()[0]):
                return stop
        return stop

    def _through_trampoline(self, sp: int):
        """Single-step a PLT stub (a jump, the stack untouched) to its target; the
        target's (image, function) if it has line info, as gdb skips trampolines."""
        program = self.source.program()
        for _ in range(TRAMPOLINE_STEPS):
            stop = self.session.step(1)
            pc, now = self._pc_sp()
            if stop.reason != "step" or now != sp:
                return None
            found = program.function_at(pc)
            if found is not None:
                return found
            if program.symbolize(pc) is not None and not self._in_plt(pc):
                return None  # a function without line info: stepped over by the caller
        return None

    def _in_plt(self, pc: int) -> bool:
        image = self.source.program().image_at(pc)
        if image is None:
            return False
        address = pc - image.bias
        for name in (".plt", ".plt.sec", ".plt.got"):
            section = image.debug.elf.get_section_by_name(name)
            if section is not None and section["sh_addr"] <= address < \
                    section["sh_addr"] + section["sh_size"]:
                return True
        return False

    def _out_of_function(self) -> Stop:
        """No line info here: run to the caller (gdb: "Single stepping until exit")."""
        frames, _ = self.source.frames()
        if len(frames) < 2:
            return self.session.cont()
        caller = frames[1]
        lowest = caller.state.registers.get(self.source.regmap.sp)
        stop = self.session.run_to([(caller.pc, lowest)])
        if stop.extra.get("momentary"):
            stop.reason = "step"
            stop.extra.update(source=True, new_frame=True)
        return stop

    def _source_stop(self, stop: Stop, origin: FrameId) -> Stop:
        stop.extra["source"] = True
        stop.extra["new_frame"] = self._frame_id() != origin
        return stop

    # -- finish / until LOCATION / advance ------------------------------------------------------
    def finish(self, interactive: bool = True) -> tuple[Stop, list[str]]:
        """Run until the selected frame returns; the stop and the lines to say after it."""
        frame = self.source.frame()
        frames, _ = self.source.frames()
        caller = frame.caller if frame.level < len(frames) - 1 else None
        if caller is None:  # main is the outermost frame, as gdb sees it
            raise DebugError('"finish" not meaningful in the outermost frame.')
        printer = self.source.printer()
        header = "Run till exit from " + frame_line(frame, printer)
        fn = frame.function if frame.inline is None else None
        regmap = self.source.regmap
        lowest = caller.state.registers.get(regmap.sp)
        if interactive:  # gdb says it only when typed (from_tty), not in scripts
            self.session.on_note(header)
        stop = self.session.run_to([(caller.pc, lowest)])
        if not stop.extra.get("momentary"):
            return stop, []
        stop.reason = "step"
        stop.extra.update(source=True, new_frame=True)
        after = []
        rtype = fn.type.target if fn is not None and fn.type is not None else None
        if rtype is not None and strip(rtype).kind != "void":
            registers = dwarf_registers(self.session.registers().as_dict(), regmap)
            fpregs = self.session.fp_registers()  # xmm0/xmm1, st(0): floats, structs
            try:
                value = return_value(rtype, registers, regmap, fpregs, self.session.read_memory)
            except (SourceError, DebugError):
                value = None
            if value is not None:
                number = self.source.history.add(value)
                after.append(f"Value returned is ${number} = {printer.value(value)}")
        return stop, after

    def run_to_location(self, address: int, this_frame: bool) -> Stop:
        """``until LOCATION`` (there in this frame, not a deeper call: ``this_frame``)
        or ``advance LOCATION`` (there in any frame); or the current frame's return."""
        frames, _ = self.source.frames()
        lowest = self._pc_sp()[1] if this_frame else None
        targets: list[tuple[int, int | None]] = [(address, lowest)]
        if len(frames) > 1:
            caller = frames[1]
            targets.append((caller.pc, caller.state.registers.get(self.source.regmap.sp)))
        stop = self.session.run_to(targets)
        if stop.extra.get("momentary"):
            stop.reason = "step"
            stop.extra.update(source=True, new_frame=True)
        return stop
