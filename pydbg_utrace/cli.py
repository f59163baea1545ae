"""The command line: ``pydbg-utrace trace|gdbserver|debug ...``.

``pydbg-utrace debug ...``, or no sub-command at all, opens the REPL
(:mod:`pydbg_utrace.repl`), which parses its own options; ``trace`` takes
strace's options (:mod:`pydbg_utrace.trace_command`).

Errors a user can cause (no such program or pid, a process traced by
someone else) end in one line on stderr and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from . import Tracer, kernel
from .frontends import describe, wait_interruptibly

PROG = "pydbg-utrace"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="A utrace-style multiplexer of tracing engines on ptrace.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "trace", add_help=False, help="log every system call of a program (like strace)",
        description="pydbg-utrace trace [strace's options] {-p PID | [--] PROG [ARGS]}: "
                    "strace's letters and meaning; see docs/trace.md.")
    add_gdbserver_parser(commands)
    commands.add_parser(
        "debug", add_help=False, help="the interactive debugger (also: no sub-command)",
        description="pydbg-utrace debug [PROG ARGS | -p PID | --name NAME] [-ex CMD] "
                    "[-x FILE] [--batch]; see `pydbg-utrace debug --help`.")
    return parser


SUBCOMMANDS = ("trace", "gdbserver", "debug", "-h", "--help")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in SUBCOMMANDS or argv[0] == "debug":
        from .repl import main as debug

        return debug(argv[1:] if argv[:1] == ["debug"] else argv)
    if argv[0] == "trace":  # strace's own command line, parsed by its own module
        from .trace_command import main as trace

        return trace(argv[1:])
    return _main(argv)


def _main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        return gdbserver(args)
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"{PROG}: {_describe(exc)}", file=sys.stderr)
        return 1


def _describe(exc: BaseException) -> str:
    if isinstance(exc, kernel.NotPermittedError) and "already traced" in str(exc):
        return f"cannot attach: {exc.strerror}"
    if isinstance(exc, kernel.NoSuchProcessError) and exc.request == "attach":
        return f"no such process: {exc.pid}"
    return describe(exc)


def _exit_code(status: int) -> int:
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


# -- pydbg-utrace gdbserver ----------------------------------------------------------
def add_gdbserver_parser(commands) -> None:
    server = commands.add_parser(
        "gdbserver", help="serve the gdb remote protocol (several gdbs at once)",
        description="Run PROG (or attach to PID) and let stock gdb debug it over the remote "
                    "protocol: `target remote :1234`, or `target remote | pydbg-utrace "
                    "gdbserver - -- PROG`.  Several gdbs may connect at once, each its own "
                    "engine; --trace and --engine run beside them on the same process.")
    where = server.add_mutually_exclusive_group()
    where.add_argument("--listen", metavar="HOST:PORT",
                       help="TCP address (default 127.0.0.1:1234; HOST defaults to 127.0.0.1)")
    where.add_argument("--unix", metavar="PATH", help="a Unix socket, created mode 0600")
    server.add_argument("--allow-remote", action="store_true",
                        help="allow a non-loopback --listen address (no authentication!)")
    server.add_argument("--trace", metavar="FILE",
                        help="also log every system call to FILE (the syscall logger)")
    server.add_argument("--engine", metavar="FILE.py", action="append", default=[],
                        help="also run the engine in FILE.py (repeatable)")
    server.add_argument("--randomize", action="store_true",
                        help="keep address-space randomization (gdb turns it off; so do we)")
    server.add_argument("--multi", action="store_true",
                        help="start without a program: gdb's `target extended-remote` then "
                             "`run`s or `attach`es; stay up for one gdb after another")
    server.add_argument("--once", action="store_true",
                        help="with --multi: end when the first gdb disconnects")
    server.add_argument("-p", "--pid", type=int, help="attach to a running process")
    server.add_argument("argv", nargs=argparse.REMAINDER, metavar="[-] -- PROG ARGS",
                        help="`-` for stdio, then the program to run")


def gdbserver(args: argparse.Namespace) -> int:
    from pydbg_utrace.engine_files import load_engine
    from pydbg_utrace.gdb.server import GdbServer, check_loopback, parse_listen
    from pydbg_utrace.gdb.session import RunSettings

    rest = list(args.argv)
    stdio = rest[:1] == ["-"]
    if stdio:
        rest = rest[1:]
        if args.listen or args.unix:
            raise ValueError("give one of --listen, --unix or - (stdio)")
    command = rest[1:] if rest[:1] == ["--"] else rest
    if command and args.pid is not None or not (command or args.pid is not None or args.multi):
        raise ValueError("give either a program to run or -p PID, or --multi (see --help)")
    if args.once and not args.multi:
        raise ValueError("--once goes with --multi (without it the server ends with its program)")
    listen = None
    if not stdio and not args.unix:
        listen = parse_listen(args.listen or "127.0.0.1:1234")
        check_loopback(listen[0], args.allow_remote)  # refused before anything runs
    if (args.trace or args.engine) and not (command or args.pid is not None):
        raise ValueError("--trace and --engine need a program or -p PID to trace")
    hosted = [load_engine(path) for path in args.engine]
    log_file = open(args.trace, "w") if args.trace else None  # noqa: SIM115
    if log_file is not None:
        # Imported only when asked: python-ptrace's prototypes do not import everywhere
        # (s390x), and the server itself does not need them.
        from pydbg_utrace.engines.syscall_log import SyscallLogger

        hosted.insert(0, SyscallLogger(log_file, follow=True))
    # SIGTERM (gdb's way to end a `target remote |` command) closes cleanly: every
    # trap is taken out before the program is let go.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    tracer = Tracer()

    def launcher(argv: list[str], settings: RunSettings | None = None):
        """Start a program for gdb, held before its first instruction (also extended-remote's
        `run`: argv [] runs the server's PROG ARGS, with gdb's environment and directory)."""
        settings = settings or RunSettings()
        program = argv or command
        if not program:
            raise ValueError("no program to run: tell gdb `set remote exec-file PROG`")
        no_aslr = settings.disable_randomization
        devnull = os.open(os.devnull, os.O_RDONLY) if stdio else None
        try:
            # In stdio mode our stdout is the protocol: the program writes to stderr.
            return tracer.launch(program, env=settings.environment, cwd=settings.cwd,
                                 kill_on_exit=True, stdin=devnull, stdout=2 if stdio else None,
                                 disable_randomization=(not args.randomize if no_aslr is None
                                                        else no_aslr))
        finally:
            if devnull is not None:
                os.close(devnull)

    try:
        process = None
        if args.pid is not None:
            process = tracer.attach_process(args.pid)
        elif command:
            process = launcher(command)
        if hosted:
            # On the tracer thread, its thread table and no clone in between (as
            # GdbEngine.attach_all): a thread made meanwhile is followed by each.
            tracer.call(_attach_hosted, hosted, process)

        server = GdbServer(process, call=tracer.call, launched=args.pid is None,
                           hosted_engines=len(hosted),
                           launcher=launcher, attacher=tracer.attach_process,
                           persistent=args.multi and not args.once and not stdio)
        try:
            if stdio:
                server.serve_stdio()
            elif args.unix:
                server.listen_unix(args.unix)
            else:
                server.listen_tcp(*listen, checked=True)
            _serve_until_done(server, stdio)
            if process is not None and process.status is None and args.pid is None \
                    and not stdio:
                # The last gdb left and no engine stays: the program goes on
                # untraced, and as its parent we still pass on its exit status.
                # (Not with stdio: gdb waits for its pipe command to end.)
                process.detach()
                status = wait_interruptibly(process)
                return _exit_code(status)
        except KeyboardInterrupt:
            return 130  # tracer.close() detaches: the program goes on untraced
        finally:
            server.close()
    finally:
        tracer.close()
        if log_file is not None:
            log_file.close()
    return _exit_code(process.status) if process is not None and process.status is not None \
        else 0


def _attach_hosted(engines: list, process) -> None:
    from pydbg_utrace.engine_files import attach_engine

    for engine in engines:
        for thread in list(process.threads.values()):
            attach_engine(engine, thread)


def _exit_on_sigterm(signo: int, frame: object) -> None:
    raise SystemExit(128 + signo)


def _serve_until_done(server, stdio: bool) -> None:
    while True:
        try:
            server.wait()
            return
        except KeyboardInterrupt:
            if not stdio:
                raise
            # With `target remote |`, gdb's Ctrl-C reaches us too; gdb sends it
            # as \x03 as well, so the interrupt is its business, not ours.


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
