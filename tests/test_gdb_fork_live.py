"""Fork events: gdb's `catch fork`, `follow-fork-mode child`, `detach-on-fork off` through us.

One gdb script runs three ways on the same binary (tests/tracees/gdb_fork.c):
natively (`run`), through our server and through the real gdbserver (each
`target remote | SERVER - PROG`, then `continue`).  What gdb prints from the
script's `==go==` on is compared line by line with gdbserver's (pids, the
connection column of `info inferiors` and the servers' own chatter folded),
and the stops, frames and exit codes with native gdb's.
"""

from __future__ import annotations

import re
import shutil

import pytest
from conftest import build_tracee
from gdbclient import Server, require_gdb, run_gdb, sections, server_command

pytestmark = pytest.mark.live

GDBSERVER = shutil.which("gdbserver")

#: Lines that differ between servers for reasons outside the protocol.
NOISE = re.compile(
    r"^(warning: |Warning: |gdbserver: |Reading |Detaching from process |Download failed"
    r"|\[Thread debugging"
    r"|Using host libthread_db|\d+\t\.\./sysdeps|\s+Num\s+Description|stdin/stdout redirected"
    r"|Process \S+ created; pid|Remote debugging using|\s*$)")
#: The program's own lines: they come through another pipe, in their own order.
PROGRAM = re.compile(r"^(child|parent): ")
#: The same anywhere: a detached process writes into gdb's stderr, which it shares with
#: gdb's (and the server's) warnings, so its line can land inside one of theirs.
PROGRAM_TEXT = re.compile(r"(child: \d+|parent: child exited \d+, in_parent \d+)\n")


def normalized(lines: list[str]) -> list[str]:
    """gdb's lines, pids folded, the Connection column of `info inferiors` dropped."""
    out = []
    for line in lines:
        if NOISE.match(line) or PROGRAM.match(line):
            continue
        line = re.sub(r"\b(process|Thread|LWP) \d+(\.\d+)?", r"\1 N", line)
        row = re.match(r"^(\*?)\s+(\d+)\s+(process N|<null>)\s", line)
        if row:
            line = f"{row.group(1) or ' '} {row.group(2)} {row.group(3)}"
        out.append(line)
    return out


def program_lines(output: str) -> list[str]:
    return sorted(line for line in output.splitlines() if PROGRAM.match(line))


def three_ways(tmp_path, script: str, *args: str) -> tuple[str, str, str | None]:
    """(native, ours, gdbserver's or None) outputs of ``script`` on gdb_fork ARGS."""
    require_gdb()
    binary = build_tracee("gdb_fork")
    run_args = " ".join(args)
    native = run_gdb(binary, script.format(go=f"run {run_args}".strip()), cwd=str(tmp_path))
    ours = run_gdb(binary, script.format(go="continue"), cwd=str(tmp_path),
                   target="| " + server_command("-", "--", binary, *args))
    theirs = None
    if GDBSERVER is not None:
        theirs = run_gdb(binary, script.format(go="continue"), cwd=str(tmp_path),
                         target=f"| {GDBSERVER} - {binary} {run_args}")
    return native, ours, theirs


def stops(output: str) -> list[str]:
    """The stops, frames and ends gdb reports: what must equal native gdb's."""
    keep = re.compile(r"^(#\d|Catchpoint \d+ \(v?forked|.*hit Breakpoint|Breakpoint \d+,"
                      r"|\[Inferior \d+ \(process N\) (exited|detached))")
    return [line for line in normalized(sections(output).get("go", [])) if keep.match(line)]


def compare(native: str, ours: str, theirs: str | None, *, program: bool = True) -> None:
    """Ours as gdbserver's line by line, as native gdb's stop by stop.

    ``program``: the program's lines too (not where gdb detached a process that
    prints after the session's end, racing the server's exit, with any server).
    """
    if theirs is not None:
        ours_gdb, theirs_gdb = (PROGRAM_TEXT.sub("", out) for out in (ours, theirs))
        assert normalized(sections(ours_gdb)["go"]) == normalized(sections(theirs_gdb)["go"]), \
            ours
    assert stops(PROGRAM_TEXT.sub("", ours)) == stops(PROGRAM_TEXT.sub("", native)), ours
    if program:
        assert program_lines(ours) == program_lines(native), ours


CATCH_FORK = r"""
set sysroot /
catch fork
break in_parent
echo ==go==\n
{go}
info inferiors
continue
bt
continue
"""


def test_catch_fork_then_the_child_is_detached_and_runs(tmp_path):
    """`catch fork` stops at the fork (stop reply `fork:`); gdb then takes its traps out of
    the child (Hg child, z0) and detaches it (`D;pid`): the child runs and exits, the
    parent stops at its own breakpoint and exits 6."""
    native, ours, theirs = three_ways(tmp_path, CATCH_FORK)
    assert re.search(r"Catchpoint 1 \(forked process \d+\)", ours), ours
    assert "[Detaching after fork from child process" in ours
    assert "Breakpoint 2, in_parent (n=1)" in ours
    assert program_lines(ours) == ["child: 21", "parent: child exited 21, in_parent 2"]
    assert "[Inferior 1 (process N) exited with code 06]" in normalized(ours.splitlines())
    compare(native, ours, theirs)


FOLLOW_CHILD = r"""
set sysroot /
set follow-fork-mode child
break in_child
echo ==go==\n
{go}
bt
info inferiors
continue
"""


def test_follow_fork_mode_child_stops_in_the_child(tmp_path):
    """`follow-fork-mode child`: gdb detaches the parent (`D;pid`) and follows the child
    to its breakpoint (re-inserted in the child), its frames and its exit code (025)."""
    native, ours, theirs = three_ways(tmp_path, FOLLOW_CHILD)
    assert 'hit Breakpoint 1, in_child (n=7)' in ours, ours
    assert "[Inferior 2 (process N) exited with code 025]" in normalized(ours.splitlines())
    assert program_lines(ours)[:1] == ["child: 21"], ours
    compare(native, ours, theirs, program=False)


def test_follow_fork_mode_child_after_vfork_stops_in_the_child(tmp_path):
    """After a *vfork*, gdb inserts nothing in the child: it takes the traps it put in
    the parent for the child's too (they share the memory), as natively.  The core
    lifts every trap while a vfork child runs, so the child's engine puts gdb's back
    for the child: its breakpoint is hit, its frames are native gdb's, and gdb detaches
    the vfork parent after the child's exit, as with gdbserver."""
    native, ours, theirs = three_ways(tmp_path, FOLLOW_CHILD, "v")
    assert 'hit Breakpoint 1, in_child (n=7)' in ours, ours
    lines = normalized(ours.splitlines())
    assert "[Detaching vfork parent process N after child exit]" in lines, ours
    assert "[Inferior 2 (process N) exited with code 025]" in lines, ours
    compare(native, ours, theirs, program=False)


#: A breakpoint set while gdb is in the vfork child lands in the memory it borrows.
VFORK_CHILD_BREAK = r"""
set sysroot /
set follow-fork-mode child
break in_child
echo ==go==\n
continue
break in_parent
continue
"""


@pytest.mark.parametrize("mode", ["v", "e"], ids=["child-exits", "child-execs"])
def test_a_trap_set_in_a_vfork_child_is_not_left_in_the_parent(tmp_path, mode):
    """`break in_parent` while gdb follows a vfork child: the trap goes into the memory
    the child borrows from its parent.  gdb detaches the parent after the child's exit
    (or exec) and takes the parent's traps out, but the parent has none there: the core
    dropped the child's (exec) or could not write them (exit).  The session puts the
    original back through the parent, so the parent runs in_parent and exits 6, as
    natively.  (gdbserver 13.1 leaves the int3 there: the parent dies of SIGTRAP.)"""
    require_gdb()
    binary = build_tracee("gdb_fork")
    native = run_gdb(binary, VFORK_CHILD_BREAK.replace("continue", f"run {mode}", 1),
                     cwd=str(tmp_path))
    assert "parent: child exited" in native, native
    server = Server("--", binary, mode, cwd=str(tmp_path))
    try:
        out = run_gdb(binary, VFORK_CHILD_BREAK, cwd=str(tmp_path), target=server.target)
        status, program_out, log = server.finish()
    finally:
        server.kill()
    assert 'hit Breakpoint 1, in_child (n=7)' in out, out
    assert "[Detaching vfork parent process" in out, out
    child_status = 21 if mode == "v" else 0  # /bin/true
    assert program_out.splitlines() == [f"parent: child exited {child_status}, in_parent 2"], log
    assert status == 6, log


def test_follow_fork_mode_child_lets_the_parent_finish(tmp_path):
    """The parent gdb detached from runs on: over TCP the server waits for the program it
    launched and exits with its status (6, after the child's 21 was waited for)."""
    require_gdb()
    binary = build_tracee("gdb_fork")
    server = Server("--", binary, cwd=str(tmp_path))
    try:
        out = run_gdb(binary, FOLLOW_CHILD.format(go="continue"), cwd=str(tmp_path),
                      target=server.target)
        status, program_out, log = server.finish()
    finally:
        server.kill()
    assert "[Inferior 2 (process N) exited with code 025]" in normalized(out.splitlines()), out
    assert status == 6, log
    assert sorted(program_out.splitlines()) == ["child: 21",
                                                "parent: child exited 21, in_parent 2"], log


BOTH = r"""
set sysroot /
set detach-on-fork off
set follow-fork-mode child
break in_child
break in_parent
echo ==go==\n
{go}
info inferiors
bt
continue
info inferiors
inferior 1
continue
bt
continue
"""


def test_detach_on_fork_off_keeps_both_processes(tmp_path):
    """`detach-on-fork off`: both processes are gdb's (`info inferiors` lists two); the
    parent is held while the child runs to its breakpoint and its end; then `inferior 1`
    and `continue` run the parent to its own breakpoint and its exit."""
    native, ours, theirs = three_ways(tmp_path, BOTH)
    lines = normalized(sections(ours)["go"])
    assert "  1 process N" in lines and "* 2 process N" in lines, ours
    assert "[Inferior 2 (process N) exited with code 025]" in lines
    assert any("hit Breakpoint 2.1, in_parent (n=1)" in line for line in lines), ours
    assert "[Inferior 1 (process N) exited with code 06]" in lines
    compare(native, ours, theirs)


def test_detach_on_fork_off_after_vfork_keeps_the_parent_held(tmp_path):
    """`detach-on-fork off` after a vfork: gdb follows the child (its breakpoint, in the
    memory it borrows) while the vfork parent stays held; after the child's exit,
    `inferior 1` and `continue` let the parent out of vfork to its own breakpoint and
    its exit, line for line as with gdbserver."""
    native, ours, theirs = three_ways(tmp_path, BOTH, "v")
    lines = normalized(sections(ours)["go"])
    assert "hit Breakpoint 1, in_child (n=7)" in " ".join(lines), ours
    assert "[Inferior 2 (process N) exited with code 025]" in lines, ours
    assert "[Inferior 1 (process N) exited with code 06]" in lines, ours
    compare(native, ours, theirs)


CATCH_VFORK = r"""
set sysroot /
catch vfork
break in_parent
echo ==go==\n
{go}
continue
bt
continue
"""


def test_catch_vfork_then_vforkdone_and_the_parents_breakpoint(tmp_path):
    """`catch vfork` (stop reply `vfork:`); gdb detaches the child and resumes only the
    parent, its traps out of the shared memory, until `vforkdone`; then it re-inserts
    them: the parent's breakpoint after the vfork is hit (it was missed without the
    vforkdone), and the program exits 6."""
    native, ours, theirs = three_ways(tmp_path, CATCH_VFORK, "v")
    assert re.search(r"Catchpoint 1 \(vforked process \d+\)", ours), ours
    assert "[Detaching after vfork from child process" in ours
    assert "Breakpoint 2, in_parent (n=1)" in ours, ours
    assert program_lines(ours) == ["parent: child exited 21, in_parent 2"]
    compare(native, ours, theirs)


STEPI_AT_VFORK = r"""
set sysroot /
catch vfork
break in_parent
echo ==go==\n
{go}
stepi
x/i $pc
stepi
x/i $pc
continue
bt
continue
"""


@pytest.mark.parametrize("mode", ["v", "e"], ids=["child-exits", "child-execs"])
def test_stepi_at_a_vfork_catchpoint_steps_once_vforkdone_came(tmp_path, mode):
    """`stepi` at `catch vfork`: gdb lets the parent go (`vCont;c`, its traps out) and
    waits for `vforkdone`, then steps.  The vforkdone must be told as the parent leaves
    vfork(): a REPORT asked only when gdb lets it go was lost at VFORK_DONE (the kernel
    drops a pending interrupt there), and came at the next stop -- the SIGCHLD, often
    inside waitpid() (exec: always), so the step landed there.  The instructions gdb
    shows are native gdb's."""
    native, ours, theirs = three_ways(tmp_path, STEPI_AT_VFORK, mode)

    def steps(output: str) -> list[str]:
        return [line for line in output.splitlines() if line.startswith("=> ")]

    assert len(steps(native)) == 2 and "<__libc_vfork+" in steps(native)[0], native
    assert steps(ours) == steps(native), ours
    assert "Breakpoint 2, in_parent (n=1)" in ours, ours
    compare(native, ours, theirs)
