"""The front end: ``pydbg-utrace [debug] [PROG ARGS | -p PID | --name NAME]``.

Commands come from ``-ex``/``-x`` first, then (unless ``--batch``) from a
prompt_toolkit prompt with history in the user's state directory and
completion.  Ctrl-C at the prompt clears the line; while the program runs it
interrupts the program (the session catches it), never the debugger.
Ctrl-D quits, asking first if a program is live.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from typing import TextIO

from .debugger import Debugger

PROMPT = "(pydbg) "


def build_parser(prog: str = "pydbg-utrace debug") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="The interactive debugger (gdb's commands; `help` inside).")
    parser.add_argument("-p", "--pid", type=int, help="attach to a running process")
    parser.add_argument("--name", help="attach to the one process with this name")
    parser.add_argument("-ex", "--eval-command", dest="ex", action="append", default=[],
                        metavar="CMD", help="run CMD (repeatable, in order)")
    parser.add_argument("-x", "--command", dest="x", action="append", default=[],
                        metavar="FILE", help="run the commands in FILE")
    parser.add_argument("--batch", action="store_true",
                        help="exit after the -ex/-x commands (a started program is killed)")
    parser.add_argument("argv", nargs=argparse.REMAINDER, metavar="PROG ARGS",
                        help="the program to debug (started by `run`)")
    return parser


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = out or sys.stdout
    program = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    dbg = Debugger(out, color=not args.batch and out.isatty(), confirm=_ask,
                   err=sys.stderr if out is sys.stdout else out)  # errors: stderr, as gdb
    dbg.session.program = list(program)
    # Ctrl-C while the program runs interrupts the program, not us (at the prompt
    # prompt_toolkit reads it as a key).  The handler only sets a flag.
    previous = signal.signal(signal.SIGINT, lambda signo, frame: dbg.session.request_interrupt())
    try:
        dbg.interactive = False  # -ex and -x lines, as gdb's from_tty 0
        for line in _startup_commands(args):
            if args.batch:
                dbg.say(f"{PROMPT}{line}")  # a batch transcript reads like a session
            dbg.execute(line)
            if dbg.quit_requested:
                return 0
        if not args.batch:
            dbg.interactive = True
            interact(dbg)
        return 1 if dbg.failed else 0
    finally:
        dbg.session.close()
        signal.signal(signal.SIGINT, previous)


def _startup_commands(args: argparse.Namespace) -> list[str]:
    lines = []
    if args.pid is not None:
        lines.append(f"attach {args.pid}")
    elif args.name:
        lines.append(f"attach {args.name}")
    for path in args.x:
        with open(path) as script:
            lines.extend(line.rstrip("\n") for line in script)
    return lines + args.ex


def _ask(question: str) -> bool:
    """gdb's query(): batch and scripts answer yes; a terminal asks."""
    if not sys.stdin.isatty():
        return True
    try:
        return input(question).strip().lower().startswith("y")
    except EOFError:
        return True


def history_path() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    path = Path(state) / "pydbg-utrace" / "history"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def interact(dbg: Debugger, input=None, output=None, history=None) -> None:
    """The prompt loop until `quit` or a confirmed Ctrl-D.

    ``input``/``output`` are prompt_toolkit's (a pipe input in tests).
    """
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory

    from .completion import ReplCompleter

    if history is None:
        history = FileHistory(str(history_path()))
    session = PromptSession(history=history, completer=ReplCompleter(dbg),
                            input=input, output=output, complete_while_typing=False)
    queries = PromptSession(input=input, output=output)  # answers stay out of the history
    dbg.confirm = lambda question: _confirm(queries, question)
    last = ""
    while not dbg.quit_requested:
        try:
            line = session.prompt(PROMPT)
        except KeyboardInterrupt:
            continue  # Ctrl-C at the prompt: a fresh line, as in gdb
        except EOFError:
            dbg.say("quit")
            dbg.execute("quit")
            continue
        if not line.strip():
            line = last if _repeatable(last) else ""
        dbg.execute(line)
        last = line


def _confirm(session, question: str) -> bool:
    try:
        answer = session.prompt(question)
    except (EOFError, KeyboardInterrupt):
        return True  # gdb takes EOF as yes
    return answer.strip().lower().startswith("y")


def _repeatable(line: str) -> bool:
    from .commands import CommandError, resolve

    if not line.strip():
        return False
    try:
        return resolve(line)[0].repeat
    except CommandError:
        return False
