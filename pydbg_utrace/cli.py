"""The command line: ``pydbg-utrace trace ...`` and the debugger REPL.

``pydbg-utrace debug ...``, or no sub-command at all, opens the REPL
(:mod:`pydbg_utrace.repl`), which parses its own options.

Errors a user can cause (no such program or pid, a process traced by
someone else) end in one line on stderr and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import TextIO

from . import Tracer, kernel

PROG = "pydbg-utrace"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="A utrace-style multiplexer of tracing engines on ptrace.")
    commands = parser.add_subparsers(dest="command", required=True)
    trace = commands.add_parser(
        "trace", help="log every system call of a program (like strace)",
        description="Run PROG (or attach to PID) and log one line per system call: "
                    "tid, name, arguments, result.  The program's exit status is ours.")
    trace.add_argument("-f", "--follow", action="store_true",
                       help="follow new threads and child processes")
    trace.add_argument("-p", "--pid", type=int, help="attach to a running process")
    trace.add_argument("-o", "--output", help="write the log to FILE (default: stderr)")
    trace.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- PROG ARGS",
                       help="the program to run")
    commands.add_parser(
        "debug", add_help=False, help="the interactive debugger (also: no sub-command)",
        description="pydbg-utrace debug [PROG ARGS | -p PID | --name NAME] [-ex CMD] "
                    "[-x FILE] [--batch]; see `pydbg-utrace debug --help`.")
    return parser


SUBCOMMANDS = ("trace", "debug", "-h", "--help")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in SUBCOMMANDS or argv[0] == "debug":
        from .repl import main as debug

        return debug(argv[1:] if argv[:1] == ["debug"] else argv)
    return _main(argv)


def _main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        return trace(args)
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"{PROG}: {_describe(exc)}", file=sys.stderr)
        return 1


def _describe(exc: BaseException) -> str:
    if isinstance(exc, kernel.NotPermittedError) and "already traced" in str(exc):
        return f"cannot attach: {exc.strerror}"
    if isinstance(exc, kernel.NoSuchProcessError) and exc.request == "attach":
        return f"no such process: {exc.pid}"
    if isinstance(exc, OSError) and exc.filename is None and exc.strerror:
        return exc.strerror
    return str(exc)


def trace(args: argparse.Namespace) -> int:
    from pydbg_utrace.engines.syscall_log import SyscallLogger

    command = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if bool(command) == (args.pid is not None):
        raise ValueError("give either a program to run or -p PID (see --help)")
    out: TextIO = open(args.output, "w") if args.output else sys.stderr  # noqa: SIM115
    logger = SyscallLogger(out, follow=args.follow)
    tracer = Tracer()
    try:
        if args.pid is not None:
            process = tracer.attach_process(args.pid)
            if args.follow:
                logger.attach_to_process(process)
            else:
                logger.attach_to(process.main_thread)
            print(f"{PROG}: attached to process {process.pid} "
                  f"({len(process.threads)} threads)", file=sys.stderr, flush=True)
        else:
            process = tracer.launch(command)
            logger.attach_to(process.main_thread)
            process.start()
        try:
            status = _wait(process)
        except KeyboardInterrupt:
            tracer.close()  # detach: the program goes on as if never traced
            return 130
    finally:
        tracer.close()
        if out is not sys.stderr:
            out.close()
    return _exit_code(status)


def _wait(process) -> int:
    # Wait in short slices so that Ctrl-C reaches the main thread promptly.
    while True:
        status = process.wait(0.5)
        if status is not None:
            return status


def _exit_code(status: int) -> int:
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
