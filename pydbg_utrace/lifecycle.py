"""Launching a program: its arguments checked in the caller's thread, and the child's side.

:func:`prepare_launch` refuses, before anything is forked, whatever can be
known to fail; :func:`child` is what the forked child runs until its
``execve``.  The tracer's lifecycle part (:mod:`pydbg_utrace.tracer.lifecycle`)
forks, seizes and waits; the failure the child reports becomes
:func:`launch_failure`'s exception.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass

from . import kernel, seccomp


@dataclass(frozen=True, slots=True)
class LaunchPlan:
    """What to run and how, checked in the caller's thread before anything is forked."""

    path: str  # the program file
    argv: tuple[str | bytes, ...]
    env: Mapping[str | bytes, str | bytes] | None  # None: ours
    cwd: str | bytes | None
    fds: tuple[int | None, int | None, int | None]  # the program's 0, 1, 2 (None: ours)
    filter_program: seccomp.FilterProgram | None = None  # seccomp: installed before execve
    disable_randomization: bool = False  # personality(ADDR_NO_RANDOMIZE), as gdb's default


_STREAMS = ("stdin", "stdout", "stderr")


def prepare_launch(argv: object, env: object = None, cwd: object = None,
                   fds: tuple[object, object, object] = (None, None, None),
                   filter_program: seccomp.FilterProgram | None = None,
                   disable_randomization: bool = False) -> LaunchPlan:
    """Check the arguments of ``Tracer.launch``; a clear TypeError/ValueError/OSError if bad.

    Everything the child could fail on that can be known beforehand is
    refused here, in the caller's thread: a child that cannot even try its
    ``execve`` has nobody to tell.
    """
    if isinstance(argv, str | bytes | os.PathLike):
        raise TypeError(f"launch() takes the command as a list of arguments, not the string "
                        f"{argv!r}: use [{argv!r}]")
    try:
        args = tuple(os.fspath(arg) for arg in argv)  # type: ignore[union-attr]
    except TypeError:
        raise TypeError("launch(): every argument must be a str, bytes or path, got "
                        f"{argv!r}") from None
    if not args:
        raise ValueError("nothing to launch: empty command")
    for arg in args:
        _no_nul(arg, "argument")
    plan_env = None if env is None else _checked_env(env)
    plan_cwd = None if cwd is None else _checked_cwd(cwd)
    program = os.fsdecode(args[0])
    path = program if "/" in program else shutil.which(program)
    relative = plan_cwd is not None and not os.path.isabs(program)
    if path is None or not (relative or os.path.exists(path)):
        raise FileNotFoundError(errno.ENOENT, f"no such program: {program}")
    checked = tuple(_checked_fd(fd, name) for fd, name in zip(fds, _STREAMS, strict=True))
    return LaunchPlan(path, args, plan_env, plan_cwd, checked,  # type: ignore[arg-type]
                      filter_program, bool(disable_randomization))


def _no_nul(text: str | bytes, what: str) -> None:
    if ("\0" if isinstance(text, str) else b"\0") in text:
        raise ValueError(f"launch(): embedded NUL in {what} {text!r}")


def _checked_env(env: object) -> dict:
    if not isinstance(env, Mapping):
        raise TypeError(f"launch(): env must be a mapping of str to str, not {type(env).__name__}")
    checked = {}
    for key, value in env.items():
        for what, item in (("name", key), ("value", value)):
            if not isinstance(item, str | bytes):
                raise TypeError(f"launch(): env {what} {item!r} (for {key!r}) is a "
                                f"{type(item).__name__}, not a str")
            _no_nul(item, f"env {what}")
        if not key or ("=" if isinstance(key, str) else b"=") in key:
            raise ValueError(f"launch(): bad environment variable name {key!r}")
        checked[key] = value
    return checked


def _checked_cwd(cwd: object) -> str | bytes:
    try:
        path = os.fspath(cwd)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(f"launch(): cwd must be a path, not {type(cwd).__name__}") from None
    if not os.path.exists(path):
        raise FileNotFoundError(errno.ENOENT, "launch(): no such directory", path)
    if not os.path.isdir(path):
        raise NotADirectoryError(errno.ENOTDIR, "launch(): not a directory", path)
    return path


def _checked_fd(fd: object, name: str) -> int | None:
    if fd is None:
        return None
    if not isinstance(fd, int) or isinstance(fd, bool):
        hint = "; pass its .fileno()" if hasattr(fd, "fileno") else ""
        raise TypeError(f"launch(): {name} must be a file descriptor (an int) or None, "
                        f"not {type(fd).__name__}{hint}")
    try:
        os.fstat(fd)
    except OSError:
        raise ValueError(f"launch(): {name}={fd} is not an open file descriptor") from None
    return fd


def child(plan: LaunchPlan, go_r: int, err_w: int) -> None:
    """The forked child: clean signals, wait until seized, set up, exec; never returns.

    Any failure is written to ``err_w`` as ``STEP ERRNO`` (or ``STEP -1
    TEXT``) before the child exits with 127, so the parent can say what went
    wrong and where.
    """
    step = "signals"
    try:
        kernel.reset_signals()
        os.read(go_r, 1)
        os.close(go_r)
        step = "fds"
        for target, fd in enumerate(plan.fds):
            if fd is not None:
                os.dup2(fd, target)
        if plan.cwd is not None:
            step = "chdir"
            os.chdir(plan.cwd)
        if plan.disable_randomization:
            step = "personality"
            _no_randomization()
        if plan.filter_program is not None:
            # Last, so that our own calls above stop nowhere; a failure leaves the
            # full path (the parent sees no filter in /proc), as strace does.
            step = "seccomp"
            plan.filter_program.install()
        step = "exec"
        os.execve(plan.path, plan.argv, os.environ if plan.env is None else plan.env)
    except OSError as exc:
        os.write(err_w, f"{step} {exc.errno}".encode())
    except BaseException as exc:  # noqa: BLE001 -- whatever it is, say it and exit
        os.write(err_w, f"{step} -1 {exc!r}".encode(errors="replace"))
    finally:
        os._exit(127)


ADDR_NO_RANDOMIZE = 0x0040000  # linux/personality.h


def _no_randomization() -> None:
    """In the child: the program about to be exec'd gets no ASLR (kept across exec).

    Best effort, as gdb (which only warns): where the kernel or a seccomp
    policy refuses, the program runs randomized."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    current = libc.personality(0xFFFFFFFF)
    if current != -1:
        libc.personality(current | ADDR_NO_RANDOMIZE)


def launch_failure(plan: LaunchPlan, failure: bytes) -> Exception:
    """The exception the child's failure report stands for."""
    step, _, rest = failure.decode(errors="replace").partition(" ")
    err_text, _, text = rest.partition(" ")
    try:
        err = int(err_text)
    except ValueError:
        return ChildProcessError(f"cannot execute {plan.path}: the child exited before execve")
    if err < 0:
        return RuntimeError(f"cannot execute {plan.path}: {step} failed: {text}")
    what = {"chdir": f"cannot change directory to {os.fsdecode(plan.cwd or '')}",
            "fds": f"cannot set up stdin/stdout/stderr for {plan.path}",
            "signals": f"cannot reset signals for {plan.path}"}.get(step,
                                                                  f"cannot execute {plan.path}")
    return OSError(err, f"{what}: {os.strerror(err)}")


def exited_error(pid: int) -> kernel.NoSuchProcessError:
    """The kernel refuses to seize a zombie (EPERM): say what it is."""
    error = kernel.NoSuchProcessError(errno.ESRCH, "PTRACE_SEIZE", pid)
    error.strerror = f"process {pid} has exited (zombie)"
    return error


def reap_tracee(pid: int) -> None:
    """Wait for a tracee child to die, letting it pass its exit stop."""
    while True:
        _, status = kernel.wait_tracee(pid)
        if not os.WIFSTOPPED(status):
            return
        kernel.cont(pid, 0)


