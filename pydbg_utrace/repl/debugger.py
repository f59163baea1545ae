"""The REPL without a terminal: run one command line, print what it says.

Front ends (the prompt_toolkit app, ``-ex``/``-x`` scripts, tests) hand lines
to :meth:`Debugger.execute`; every answer goes to ``out``.  Whatever goes
wrong in a command ends as one line and the debugger goes on.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from typing import TextIO

from pydbg_utrace import UtraceError, kernel
from pydbg_utrace.source.evaluate import evaluate as evaluate_c
from pydbg_utrace.source.types import strip
from pydbg_utrace.source.values import SourceError

from . import asm, language
from .breaks import Breakpoints
from .engine import Stop
from .expr import ExprError, Scope, evaluate
from .session import DebugError, Session, describe_status
from .sourcelevel import SourceLevel
from .symbols import SymbolTable
from .view import CONTEXT_REGISTERS, Style, context_view, stop_reason

log = logging.getLogger("pydbg_utrace.repl")
CODE_BYTES = 16  # the longest x86 instruction is 15 bytes


class Debugger:
    """Session + output + the little state commands share; satisfies
    :class:`~pydbg_utrace.repl.context.Context`, the interface commands see."""

    def __init__(self, out: TextIO, color: bool = False,
                 confirm: Callable[[str], bool] | None = None, err: TextIO | None = None):
        self.out = out
        self.err = err or out  # a failed command's one line (gdb: on stderr)
        self.style = Style(color)
        self.confirm = confirm or (lambda question: True)
        self.session = Session(on_note=self.say)
        self._progress_shown = False
        self.session.declines = self._declined
        if color:  # a terminal: long steps show their count, on one line
            self.session.on_progress = self._progress
        self.source = SourceLevel(self.session)
        self.previous_registers: dict[str, int] = {}
        self.x_format = ("x", "w")
        self.x_next: int | None = None  # where a bare `x` goes on
        self.disassembly_flavor = "att"  # gdb's default on x86; `set disassembly-flavor`
        self.syscall_names: dict[int, str] = {}  # tid -> call whose exit is next
        self.quit_requested = False
        self.interactive = True  # the front end says False for -ex/-x/--batch lines
        self.failed = False  # the last command failed (batch exit status)
        self._symbols: SymbolTable | None = None
        self.breaks = Breakpoints()
        self._collecting: tuple[list[str], Callable[[list[str]], None]] | None = None
        self.session.on_launch = lambda process: self.breaks.refresh(self)
        self.session.on_shlib = lambda: self.breaks.refresh(self)

    # -- output ---------------------------------------------------------------------
    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()  # before the program runs on and writes to the same terminal

    def _progress(self, steps: int) -> None:
        self.out.write(f"\r[{steps:,} instructions stepped; Ctrl-C stops]")
        self.out.flush()
        self._progress_shown = True

    def complain(self, text: str) -> None:
        self.out.flush()  # in order with what came before
        self.err.write(text + "\n")
        self.err.flush()

    # -- running commands -------------------------------------------------------------
    def collect_lines(self, done: Callable[[list[str]], None]) -> None:
        self._collecting = ([], done)

    def execute(self, line: str) -> bool:
        """Run one command line; False (after one line of explanation) if it failed."""
        line = line.strip()
        if self._collecting is not None:  # the body of `commands`, up to `end`
            lines, done = self._collecting
            if line == "end":
                self._collecting = None
                done(lines)
            else:
                lines.append(line)
            return True
        self.failed = False
        self.session.interrupt_requested = False  # a Ctrl-C between commands is spent
        self.session.begin_command()
        if not line or line.startswith("#"):
            return True
        try:
            cmd, args = language.resolve(line)
            if cmd.handler is None:
                self.say(language.help_text(line))
            else:
                cmd.handler(self, args)
            return True
        except (language.CommandError, DebugError, ExprError, SourceError) as exc:
            self.complain(str(exc))
        except (UtraceError, kernel.KernelError) as exc:
            self.complain(f"Error: {exc}")
        except KeyboardInterrupt:
            self.complain("Quit")
        except Exception as exc:  # a bug of ours must not end the session
            log.debug("command %r failed", line, exc_info=True)
            self.complain(f"Internal error: {type(exc).__name__}: {exc}")
        self.failed = True
        return False

    # -- values -------------------------------------------------------------------------
    def symbols(self) -> SymbolTable:
        pid = self.session.require_process().pid
        if self._symbols is None or self._symbols.pid != pid:
            self._symbols = SymbolTable(pid)
        return self._symbols

    def describe(self, address: int) -> str:
        """``<main+108>`` as gdb names it (the DWARF function, else the ELF symbol),
        else the core's ``<libc.so.6:write+16>``; empty outside every symbol."""
        try:
            name = self.source.program().symbolize(address)
            if name:
                return f"<{name}>"
        except (DebugError, SourceError, OSError):
            pass
        try:
            return self.symbols().describe(address)
        except DebugError:
            return ""

    def register(self, name: str) -> int:
        regs = self.session.registers()
        if name == "pc":
            return regs.pc
        if name == "sp":
            return regs.sp
        return regs[name]

    def scope(self) -> Scope:
        def symbol(name: str) -> int | None:
            sym = self.symbols().lookup(name)
            return None if sym is None else sym.address

        def word(address: int) -> int:
            arch = self.session.arch
            data = self.session.read_memory(address, arch.word_size)
            return int.from_bytes(data, arch.byteorder)

        return Scope(self.register, symbol, word)

    def evaluate(self, text: str) -> int:
        """An address or number: a C expression (``greeting`` is the pointer's value,
        ``&counter``, ``fact``, ``$sp+8``), else a symbol of a file without DWARF
        (``write``, ``libc.so.6:malloc+4``)."""
        if not self.session.alive and not self.session.program:
            self.session.require_process()  # nothing to read from at all
        try:
            value = evaluate_c(text, self.source.scope())
        except (SourceError, DebugError) as first:
            if not self.session.alive:
                raise
            try:
                return evaluate(text, self.scope())
            except ExprError:
                raise first from None
        if strip(value.type).kind in ("array", "function") and value.address is not None:
            return value.address
        return value.as_int() & ((1 << 64) - 1)

    def lvalue(self, text: str) -> tuple[int, int | None]:
        """Where an object is and its size (``counter``, ``p->x``), or, for an
        address expression that is no object (``counter-1``), that address and None."""
        try:
            value = evaluate_c(text, self.source.scope())
            if value.address is not None and value.register is None and \
                    strip(value.type).kind not in ("function",):
                return value.address, value.type.size
        except (SourceError, DebugError):
            pass
        return evaluate(text, self.scope()), None

    # -- stops ----------------------------------------------------------------------------
    def _declined(self, stop: Stop) -> bool:
        """A user breakpoint's stop that none of its breakpoints wants (condition false,
        ignore count): decided once per stop, the answer kept in the stop."""
        if stop.reason != "breakpoint" or stop.extra.get("momentary"):
            return False
        address = stop.extra.get("address")
        if "hit" not in stop.extra:
            if not self.breaks.at(address):
                return False
            stop.extra["hit"] = self.breaks.hit(self, address)
        return not stop.extra["hit"]

    def show_stop(self, stop: Stop) -> None:
        """Say why the program stopped; a breakpoint whose condition is false (or that
        is ignored) lets the program go on first, and its ``commands`` run after."""
        while self._declined(stop):
            stop = self.session.cont()  # not the user's stop (the first one of `run`)
        self._end_progress(stop)
        self._say_switch(stop)
        hit = stop.extra.get("hit")
        if hit:
            self._show_breakpoint(stop, hit)
            return
        self._show(stop)

    def _say_switch(self, stop: Stop) -> None:
        """gdb's ``[Switching to Thread ...]``: the stop is another thread's than the one
        selected when the command began."""
        session = self.session
        before = session.selected_at_command
        if stop.reason != "exited" and before is not None and stop.tid != before \
                and session.multithreaded() and session.alive:
            self.say(f"[Switching to {session.target_id(stop.tid, with_name=False)}]")

    def _whose(self, stop: Stop, what: str) -> str:
        """gdb's ``Thread 2 "name" hit `` before WHAT once the program has threads."""
        session = self.session
        if not session.multithreaded():
            return ""
        name = session.thread_name(stop.tid)
        named = f' "{name}"' if name is not None else ""
        return f"Thread {session.thread_number(stop.tid)}{named} {what}"

    def _show_breakpoint(self, stop: Stop, hit: list) -> None:
        self.breaks.refresh(self)
        kind = "Temporary breakpoint" if all(bp.temporary for bp in hit) else "Breakpoint"
        numbers = ", ".join(str(bp.number) for bp in hit)
        script = [line for bp in hit for line in bp.commands]
        silent = bool(script) and script[0].strip() == "silent"
        if not silent:
            source = self._source_stop(True, f"\n{self._whose(stop, 'hit ')}{kind} {numbers}, ")
            if source is not None:
                self.say("\n".join(source + self.source.display_lines()))
            else:
                address = stop.extra.get("address")
                where = f"{address:#x} {self.describe(address)}".rstrip()
                stop.detail = f"{kind} {numbers}, at {where}"
                self.say(self.context(stop))
        for line in script[1:] if silent else script:
            self.execute(line)

    def _end_progress(self, stop: Stop) -> None:
        """The progress line becomes the count reached (a Ctrl-C typed at the terminal
        stops the program with SIGINT: gdb's words then say nothing of the count)."""
        if self._progress_shown:
            steps = stop.extra.get("steps")
            self.out.write("\r\x1b[K" + (f"[{steps:,} instructions stepped]\n" if steps else ""))
            self._progress_shown = False

    def _show(self, stop: Stop) -> None:
        self.session.declines = self._declined
        if stop.reason == "interrupt" and stop.extra.get("steps"):
            stop.detail = f"after {stop.extra['steps']:,} instructions stepped"
        if stop.reason == "exec":
            self._symbols = None  # a new program image: new symbols, traps gone
        self.breaks.refresh(self)
        if stop.reason == "exited":
            self.say(describe_status(stop.tid, stop.status, bool(stop.extra.get("killed"))))
            self.previous_registers = {}
            return
        while stop.reason == "watchpoint" and stop.extra.get("hardware"):
            detail = self.session.hardware_watch_hit(stop.extra.get("address"))
            if detail is not None:
                stop.detail = detail
                break
            stop = self.session.cont()  # an rwatch saw a write: not the user's stop
        if stop.reason == "exited":
            self.say(describe_status(stop.tid, stop.status, bool(stop.extra.get("killed"))))
            self.previous_registers = {}
            return
        if stop.reason == "breakpoint":  # no user breakpoint of ours (momentary, or gone)
            address = stop.extra.get("address")
            stop.detail = f"Breakpoint, at {address:#x} {self.describe(address)}".rstrip()
        if stop.reason == "signal" and "signo" in stop.extra:  # gdb's words, where it can
            source = self._source_stop(True, "")
            if source is not None:
                name = stop.detail
                text = signal.strsignal(stop.extra["signo"]) or name
                whose = self._whose(stop, "received") or "Program received"
                self.say("\n".join(["", f"{whose} signal {name}, {text}.", *source,
                                     *self.source.display_lines()]))
                return
        if stop.reason == "watchpoint":  # gdb: what changed, then where, in source words
            source = self._source_stop(True, "")
            if source is not None:
                self.say("\n".join(["", stop.detail, *source, *self.source.display_lines()]))
                return
        if stop.extra.get("source"):  # next, step, finish, until...: gdb's words
            source = self._source_stop(stop.extra.get("new_frame", False), "")
            if source is not None:
                self.say("\n".join(source + self.source.display_lines()))
                return
        self.say(self.context(stop))

    def _source_stop(self, with_frame: bool, prefix: str) -> list[str] | None:
        """gdb's stop lines, or None where there are no frames to say it with."""
        try:
            return self.source.stop_lines(with_frame, prefix)
        except (SourceError, DebugError, OSError):
            log.debug("no source-level stop view", exc_info=True)
            return None

    def context(self, stop: Stop) -> str:
        session = self.session
        regs = session.registers()
        names = CONTEXT_REGISTERS.get(session.arch.name, session.arch.register_names[:32])
        values = {name: regs[name] for name in names}
        header = stop_reason(stop, session.thread_number(stop.tid), self._syscall_text(stop))
        view = context_view(header, values, self.previous_registers,
                            self.code_around(regs.pc), self.style)
        self.previous_registers = values
        return view

    def code_around(self, pc: int, count: int = 5) -> list[str]:
        try:
            code = self.session.read_code(pc, CODE_BYTES * count)
        except DebugError as exc:
            return [str(exc)]
        insns = asm.lines_for(self.session.arch, code, pc, count, self.disassembly_flavor)
        return asm.listing(insns, pc, self.describe)

    def _syscall_text(self, stop: Stop) -> str:
        info = stop.extra.get("syscall")
        if info is None:
            return ""
        if stop.reason == "syscall-exit":
            from pydbg_utrace.engines.syscall_log import format_result

            # Its entry was seen by us, or came before we looked (execve's, at starti).
            name = self.syscall_names.pop(stop.tid, None)
            call = f"{name}(...)" if name else "<... resumed>"
            return f"{call} = {format_result(info.rval, info.is_error, name or '')}"
        from pydbg_utrace.engines.syscall_log import call_arguments

        self.syscall_names[stop.tid] = stop.detail
        args = call_arguments(stop.tid, stop.detail, info.args, self.session.arch)
        return f"{stop.detail}({args})"
