"""The REPL without a terminal: run one command line, print what it says.

Front ends (the prompt_toolkit app, ``-ex``/``-x`` scripts, tests) hand lines
to :meth:`Debugger.execute`; every answer goes to ``out``.  Whatever goes
wrong in a command ends as one line and the debugger goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TextIO

from pydbg_utrace import UtraceError, kernel

from . import commands
from .breaks import Breakpoints
from .engine import Stop
from .expr import ExprError, Scope, evaluate
from .session import DebugError, Session, describe_status
from .symbols import SymbolTable
from .view import CONTEXT_REGISTERS, Style, code_lines, context_view, stop_reason

log = logging.getLogger("pydbg_utrace.repl")
CODE_BYTES = 16  # the longest x86 instruction is 15 bytes


class Debugger:
    """Session + output + the little state commands share (last x format, symbols)."""

    def __init__(self, out: TextIO, color: bool = False,
                 confirm: Callable[[str], bool] | None = None):
        from . import cmd_break, cmd_data, cmd_engines, cmd_exec  # noqa: F401 -- they register

        self.out = out
        self.style = Style(color)
        self.confirm = confirm or (lambda question: True)
        self.session = Session(on_note=self.say)
        self.previous_registers: dict[str, int] = {}
        self.x_format = ("x", "w")
        self.x_next: int | None = None  # where a bare `x` goes on
        self.syscall_names: dict[int, str] = {}  # tid -> call whose exit is next
        self.quit_requested = False
        self.failed = False  # the last command failed (batch exit status)
        self._symbols: SymbolTable | None = None
        self.breaks = Breakpoints()
        self.session.on_launch = lambda process: self.breaks.refresh(self)
        self.session.on_shlib = lambda: self.breaks.refresh(self)

    # -- output ---------------------------------------------------------------------
    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()  # before the program runs on and writes to the same terminal

    # -- running commands -------------------------------------------------------------
    def execute(self, line: str) -> bool:
        """Run one command line; False (after one line of explanation) if it failed."""
        line = line.strip()
        self.failed = False
        self.session.interrupt_requested = False  # a Ctrl-C between commands is spent
        if not line or line.startswith("#"):
            return True
        try:
            cmd, args = commands.resolve(line)
            if cmd.handler is None:
                self.say(commands.help_text(line))
            else:
                cmd.handler(self, args)
            return True
        except (commands.CommandError, DebugError, ExprError) as exc:
            self.say(str(exc))
        except (UtraceError, kernel.KernelError) as exc:
            self.say(f"Error: {exc}")
        except KeyboardInterrupt:
            self.say("Quit")
        except Exception as exc:  # a bug of ours must not end the session
            log.debug("command %r failed", line, exc_info=True)
            self.say(f"Internal error: {type(exc).__name__}: {exc}")
        self.failed = True
        return False

    # -- values -------------------------------------------------------------------------
    def symbols(self) -> SymbolTable:
        pid = self.session.require_process().pid
        if self._symbols is None or self._symbols.pid != pid:
            self._symbols = SymbolTable(pid)
        return self._symbols

    def describe(self, address: int) -> str:
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
        return evaluate(text, self.scope())

    # -- stops ----------------------------------------------------------------------------
    def show_stop(self, stop: Stop) -> None:
        if stop.reason == "exec":
            self._symbols = None  # a new program image: new symbols, traps gone
        self.breaks.refresh(self)
        if stop.reason == "exited":
            self.say(describe_status(stop.tid, stop.status))
            self.previous_registers = {}
            return
        if stop.reason == "watchpoint" and stop.extra.get("hardware"):
            stop.detail = self.session.hardware_watch_hit(stop.extra.get("address"))
        if stop.reason == "breakpoint":
            address = stop.extra.get("address")
            hit = self.breaks.hit(address)
            kind = "Temporary breakpoint" if hit and all(bp.temporary for bp in hit) \
                else "Breakpoint"
            numbers = ", ".join(str(bp.number) for bp in hit)
            where = f"{address:#x} {self.describe(address)}".rstrip()
            stop.detail = f"{kind} {numbers}".rstrip() + f", at {where}"
        self.say(self.context(stop))

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
        insns = self.session.arch.disassemble(code, pc, count)
        return code_lines(insns, pc, self.describe)

    def _syscall_text(self, stop: Stop) -> str:
        info = stop.extra.get("syscall")
        if info is None:
            return ""
        if stop.reason == "syscall-exit":
            from pydbg_utrace.engines.syscall_log import format_result

            # Its entry was seen by us, or came before we looked (execve's, at starti).
            name = self.syscall_names.pop(stop.tid, None)
            call = f"{name}(...)" if name else "<... resumed>"
            return f"{call} = {format_result(info.rval, info.is_error)}"
        from pydbg_utrace.engines.syscall_log import SyscallLogger

        self.syscall_names[stop.tid] = stop.detail
        args = SyscallLogger._arguments(stop.tid, stop.detail, info.args)
        return f"{stop.detail}({args})"
