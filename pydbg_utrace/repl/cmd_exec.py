"""Commands that start, move and end the program, and say when it should stop."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from . import procs
from .commands import CommandError, command, help_text
from .policy import DESCRIPTIONS, signal_description, signal_name, signal_number

if TYPE_CHECKING:
    from .context import Context


def _count(args: str, default: int = 1) -> int:
    if not args:
        return default
    try:
        count = int(args, 0)
    except ValueError:
        raise CommandError(f"Not a count: {args!r}") from None
    if count < 1:
        raise CommandError("The count must be at least 1.")
    return count


# -- starting and ending -----------------------------------------------------------------
@command("help", "help [COMMAND]", aliases=("h",), complete="commands")
def help_(dbg: Context, args: str) -> None:
    """Show the list of commands, or what one command does."""
    dbg.say(help_text(args))


@command("file", "file PROGRAM", complete="files")
def file_(dbg: Context, args: str) -> None:
    """Use PROGRAM as the program that `run` starts."""
    if not args:
        raise CommandError("Give a program: file PROGRAM")
    dbg.session.program = [args.strip()]
    dbg.say(f"Program: {args.strip()}")


def _argv(dbg: Context, args: str) -> list[str]:
    program = dbg.session.program
    if not program:
        raise CommandError("No program: start the debugger with one, or use `file PROGRAM`.")
    return program[:1] + shlex.split(args) if args else list(program)


@command("run", "run [ARGS...]", aliases=("r",), complete="files")
def run(dbg: Context, args: str) -> None:
    """Start the program and run it until it stops.

    ARGS replace the program's arguments."""
    argv = _argv(dbg, args)
    dbg.breaks.clear_hit_counts()
    dbg.show_stop(dbg.session.run(argv))


@command("starti", "starti [ARGS...]")
def starti(dbg: Context, args: str) -> None:
    """Start the program, stop at its first instruction."""
    argv = _argv(dbg, args)
    dbg.breaks.clear_hit_counts()
    dbg.show_stop(dbg.session.starti(argv))


@command("attach", "attach PID|NAME", complete="processes")
def attach(dbg: Context, args: str) -> None:
    """Attach to a running process by pid or name; it stops.

    By NAME only if exactly one process has it: several are listed, not
    guessed between (see `ps`).  `detach` lets it run on as if never traced.
    """
    if not args:
        raise CommandError("Give a pid or a process name: attach PID|NAME")
    if args.isdigit():
        pid = int(args)
    else:
        try:
            pid = procs.find_one(args).pid
        except LookupError as exc:
            raise CommandError(str(exc)) from None
    dbg.say(f"Attaching to process {pid}")
    dbg.show_stop(dbg.session.attach(pid))


@command("ps", "ps [NAME]")
def ps(dbg: Context, args: str) -> None:
    """List processes (pid, user, threads, command).

    With NAME, only the processes called so."""
    found = procs.matching(args) if args else procs.processes()
    dbg.say(procs.HEADER)
    for proc in found:
        dbg.say(proc.line())


@command("detach", "detach")
def detach(dbg: Context, args: str) -> None:
    """Stop debugging; the program runs on as if untraced."""
    pid = dbg.session.detach()
    dbg.say(f"[Inferior 1 (process {pid}) detached]")


@command("kill", "kill", aliases=("k",))
def kill(dbg: Context, args: str) -> None:
    """Kill the program (SIGKILL)."""
    stop = dbg.session.kill()
    stop.extra["killed"] = True  # gdb: "[Inferior 1 (process N) killed]"
    dbg.show_stop(stop)


@command("quit", "quit", aliases=("q", "exit"))
def quit_(dbg: Context, args: str) -> None:
    """Leave: kill a started program, detach an attached one."""
    session = dbg.session
    if session.alive:
        what = "killed" if session.launched else "detached"
        question = (f"A debugging session is active.\n\n\tInferior 1 [process "
                    f"{session.process.pid}] will be {what}.\n\nQuit anyway? (y or n) ")
        if not dbg.confirm(question):
            dbg.say("Not confirmed.")
            return
    session.close()
    dbg.quit_requested = True


# -- moving ---------------------------------------------------------------------------------
@command("continue", "continue", aliases=("c", "fg"))
def continue_(dbg: Context, args: str) -> None:
    """Let every thread run until the program stops again.

    Ctrl-C interrupts the program (not the debugger)."""
    dbg.show_stop(dbg.session.cont())


@command("stepi", "stepi [N]", aliases=("si",), repeat=True)
def stepi(dbg: Context, args: str) -> None:
    """Execute N instructions (default 1) in this thread."""
    dbg.show_stop(dbg.session.step(_count(args)))


@command("nexti", "nexti [N]", aliases=("ni",), repeat=True)
def nexti(dbg: Context, args: str) -> None:
    """Like stepi, but a call runs to its return.

    The call is stepped through by the engine, not trapped."""
    stop = None
    for _ in range(_count(args)):
        stop = _next_one(dbg)
        if stop.reason != "step":
            break
    dbg.show_stop(stop)


def _next_one(dbg: Context):
    session = dbg.session
    regs = session.registers()
    pc, sp = regs.pc, regs.sp
    insns = session.arch.disassemble(session.read_code(pc, 16), pc, 1)
    if insns and insns[0].mnemonic.startswith("call"):
        return session.step(over_call_to=(pc + insns[0].size, sp))
    return session.step(1)


@command("step-syscall", "step-syscall", repeat=True)
def step_syscall(dbg: Context, args: str) -> None:
    """Run to the next syscall entry or exit of this thread."""
    dbg.show_stop(dbg.session.step_syscall())


# -- catchpoints and signals ---------------------------------------------------------------


def _catch(dbg: Context, kind: str, names: tuple[str, ...]) -> None:
    session = dbg.session
    if session.alive:
        session.held_attachment()  # change what stops us only while stopped
    number = session.take_number()
    catch = session.policy.add(number, kind, names)
    session.apply_events()
    dbg.say(f"Catchpoint {number} ({catch.describe()})")


@command("catch syscall", "catch syscall [NAME|NUMBER...]", complete="syscalls")
def catch_syscall(dbg: Context, args: str) -> None:
    """Stop at entry to the named syscalls (any if none).

    The stop shows the call with its arguments, strace-style."""
    names = []
    for word in args.split():
        if word.isdigit():
            word = _arch_for_names(dbg).syscall_name(int(word))
        else:
            try:
                _arch_for_names(dbg).syscall_number_of(word)
            except KeyError:
                raise CommandError(f"Unknown syscall name '{word}'.") from None
        names.append(word)
    _catch(dbg, "syscall", tuple(names))


def _arch_for_names(dbg: Context):
    from pydbg_utrace import arch

    return dbg.session.arch if dbg.session.alive else arch.host()


@command("catch signal", "catch signal [SIGNAL...]")
def catch_signal(dbg: Context, args: str) -> None:
    """Stop when the program receives SIGNAL (any if none).

    Stops even for a signal that `handle` says `nostop`."""
    try:
        names = tuple(signal_name(signal_number(word)) for word in args.split())
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    _catch(dbg, "signal", names)


@command("catch fork", "catch fork")
def catch_fork(dbg: Context, args: str) -> None:
    """Stop when the program forks; the child runs untraced."""
    _catch(dbg, "fork", ())


@command("catch exec", "catch exec")
def catch_exec(dbg: Context, args: str) -> None:
    """Stop after an execve, once the new program is loaded."""
    _catch(dbg, "exec", ())


@command("catch clone", "catch clone")
def catch_clone(dbg: Context, args: str) -> None:
    """Stop when the program creates a thread (or a clone)."""
    _catch(dbg, "clone", ())


_HANDLE_WORDS = {"stop": ("stop", True), "nostop": ("stop", False), "print": ("print_", True),
                 "noprint": ("print_", False), "pass": ("pass_", True),
                 "nopass": ("pass_", False), "noignore": ("pass_", True),
                 "ignore": ("pass_", False)}


@command("handle", "handle SIGNAL [no]stop [no]print [no]pass", complete="signals")
def handle(dbg: Context, args: str) -> None:
    """Set whether a signal stops, prints, passes on.

    `stop` implies `print`; `noprint` implies `nostop`, as in gdb.
    """
    words = args.split()
    if len(words) < 2:
        raise CommandError("Usage: handle SIGNAL [no]stop [no]print [no]pass")
    try:
        signo = signal_number(words[0])
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    handling = dbg.session.policy.handling(signo)
    for word in words[1:]:
        if word not in _HANDLE_WORDS:
            raise CommandError(f"Unrecognized or ambiguous flag word: \"{word}\".")
        attr, value = _HANDLE_WORDS[word]
        setattr(handling, attr, value)
        if attr == "stop" and value:
            handling.print_ = True
        if attr == "print_" and not value:
            handling.stop = False
    if dbg.interactive:  # gdb shows the table when typed, not from a script
        _signal_table(dbg, [signo])


def _signal_table(dbg: Context, signos: list[int], full: bool = False) -> None:
    """gdb's table: one row per signal (``SIGINT        Yes\tYes\tNo\t\tInterrupt``)."""
    dbg.say("Signal        Stop\tPrint\tPass to program\tDescription")
    if full:
        dbg.say()
    for signo in signos:
        dbg.say(f"{signal_name(signo):<14}{dbg.session.policy.handling(signo).describe()}"
                f"\t\t{signal_description(signo)}")
    if full:
        dbg.say('\nUse the "handle" command to change these tables.')


@command("info signals", "info signals [SIGNAL]", aliases=("handle",))
def info_signals(dbg: Context, args: str) -> None:
    """What each signal does to the program (see `handle`)."""
    try:
        signos = [signal_number(args)] if args else [signal_number(name)
                                                     for name in DESCRIPTIONS]
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    _signal_table(dbg, signos, full=not args)


@command("info inferiors", "info inferiors")
def info_inferiors(dbg: Context, args: str) -> None:
    """The program being debugged: pid, how, executable."""
    session = dbg.session
    dbg.say(f"  {'Num':<5}{'Description':<20}{'Connection':<14}Executable")
    if not session.alive:
        program = session.program[0] if session.program else ""
        dbg.say(f"* {1:<5}{'<null>':<20}{'':<14}{program}")
        return
    process = session.process
    how = "launched" if session.launched else "attached"
    try:
        import os

        exe = os.readlink(f"/proc/{process.pid}/exe")
    except OSError:
        exe = "?"
    dbg.say(f"* {1:<5}{'process ' + str(process.pid):<20}{how:<14}{exe}")
