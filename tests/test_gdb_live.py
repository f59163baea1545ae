"""Stock gdb through ``pydbg-utrace gdbserver`` against gdb run natively, value by value.

The same gdb script runs twice on the same binary: natively (`run`) and
through our server over stdio (`target remote | pydbg-utrace gdbserver - --
PROG`, then `continue`).  Randomization is off in both, the environment is
the same, so every register, stack byte, disassembly line, backtrace,
library address, watchpoint value and catchpoint must agree.
"""

from __future__ import annotations

import re
import subprocess

import pytest
from gdbclient import (
    Server,
    registers,
    require_gdb,
    run_gdb,
    sections,
    server_command,
    without_pids,
)

pytestmark = pytest.mark.live

# What native gdb 13 shows for `info registers` on x86_64, but the AVX-512 mask
# registers k0-k7 (their XSAVE regset is not served); fs_base and gs_base are
# in gdb's "system" group, asked for by name.
GENERAL = ("rax rbx rcx rdx rsi rdi rbp rsp r8 r9 r10 r11 r12 r13 r14 r15 rip eflags "
           "cs ss ds es fs gs fs_base gs_base").split()

SCRIPT = r"""
break compute
break write
{run}
echo ==regs==\n
info registers
info registers fs_base gs_base
echo ==fpu==\n
info registers fctrl fstat ftag fop mxcsr
p $xmm0.uint128
p $st0
echo ==sp==\n
x/16xb $sp
echo ==str==\n
x/s greeting
echo ==dis==\n
disassemble compute
echo ==bt==\n
bt
echo ==stepi==\n
stepi
info registers rip
echo ==nexti==\n
nexti
info registers rip
echo ==finish==\n
finish
echo ==libs==\n
info sharedlibrary
delete
echo ==watch==\n
watch counter
continue
continue
delete
echo ==catch==\n
catch syscall write
handle SIGUSR1 nostop noprint pass
continue
continue
delete
echo ==end==\n
continue
"""


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """(native sections, remote sections) of SCRIPT on gdb_target."""
    from conftest import build_tracee

    require_gdb()
    binary = build_tracee("gdb_target")
    cwd = str(tmp_path_factory.mktemp("gdb"))
    native = run_gdb(binary, SCRIPT.format(run="run"), cwd=cwd)
    remote = run_gdb(binary, SCRIPT.format(run="continue"), cwd=cwd,
                     target="| " + server_command("-", "--", binary))
    return sections(native), sections(remote)


def _section(both, name):
    native, remote = both
    assert name in native, f"native gdb output has no {name} part: {native}"
    assert name in remote, f"remote gdb output has no {name} part: {remote}"
    return native[name], remote[name]


def test_breakpoint_in_program_and_every_general_register(both):
    native, remote = _section(both, "regs")
    ours, theirs = registers(remote), registers(native)
    assert theirs["rip"] == ours["rip"]
    shown = [name for name in theirs if not re.fullmatch(r"k[0-7]", name)]
    assert shown == GENERAL, f"native gdb shows other registers: {shown}"
    for name in GENERAL:
        assert name in ours, f"{name} missing from our `info registers`: {remote}"
        assert ours[name] == theirs[name], f"{name}: ours {ours[name]}, native {theirs[name]}"
    hit = [line for line in both[1]["_start"] if line.startswith("Breakpoint 1, ")]
    assert hit == [line for line in both[0]["_start"] if line.startswith("Breakpoint 1, ")]
    assert hit and "compute (x=0)" in hit[0]


@pytest.mark.parametrize("name", ["fpu", "sp", "str", "dis", "bt", "stepi", "nexti"])
def test_same_answer(both, name):
    native, remote = _section(both, name)
    assert remote == native
    assert remote, f"empty {name} part"


def test_finish_returns_the_value(both):
    native, remote = _section(both, "finish")
    value = [line for line in remote if line.startswith("Value returned")]
    assert value == [line for line in native if line.startswith("Value returned")]
    assert value == ["Value returned is $3 = 1"]  # $1, $2: the fpu part


def test_shared_libraries_at_the_same_addresses(both):
    native, remote = _section(both, "libs")
    rows = [line.split() for line in remote if line.startswith("0x")]
    assert rows == [line.split() for line in native if line.startswith("0x")]
    assert any(row[-1].endswith("/libc.so.6") and row[2] == "Yes" for row in rows), remote


def test_hardware_watchpoint_values(both):
    native, remote = _section(both, "watch")
    assert remote == native
    assert "Hardware watchpoint 3: counter" in remote
    assert ["Old value = 0", "New value = 3"] == [x for x in remote if "value =" in x][:2]


def test_catch_syscall_write_entry_and_return(both):
    native, remote = _section(both, "catch")
    hit = re.compile(r"Catchpoint 4 \((call to|returned from) ")
    caught = [line for line in remote if hit.match(line)]
    assert caught == [line for line in native if hit.match(line)]
    assert [c.split(")")[0] for c in caught] == [
        "Catchpoint 4 (call to syscall write", "Catchpoint 4 (returned from syscall write"]


def test_signal_passed_without_stopping_and_exit_code(both):
    native, remote = _section(both, "end")
    text = "\n".join(remote)
    assert "SIGUSR1" not in text
    assert "usr1=1" in text and "total=12 counter=9" in text
    assert without_pids("\n".join(native)).count("exited with code 03") == 1
    assert without_pids(text).count("[Inferior 1 (process N) exited with code 03]") == 1


THREADS = r"""
break all_started
{run}
echo ==threads==\n
info threads
echo ==thread2==\n
thread 2
bt
echo ==end==\n
delete
continue
"""


def _frames(lines):
    """`info threads` rows without the thread ids (native: LWPs, ours: pid.tid), blanks
    folded: gdb pads the Target Id column to its widest row, which an LWP of one more
    digit widens (seen once: the same rows, other spacing)."""
    return sorted(" ".join(re.sub(r"^[* ]+\d+\s+Thread \S+( \(LWP \d+\))?\s+", "",
                                  line).split())
                  for line in lines if re.match(r"^[* ]+\d+\s+Thread ", line))


def test_threads_and_thread_switch(tmp_path):
    from conftest import build_tracee

    require_gdb()
    binary = build_tracee("gdb_threads")
    native = sections(run_gdb(binary, THREADS.format(run="run"), cwd=str(tmp_path)))
    remote = sections(run_gdb(binary, THREADS.format(run="continue"), cwd=str(tmp_path),
                              target="| " + server_command("-", "--", binary)))
    ours = _frames(remote["threads"])
    assert len(ours) == 4, remote["threads"]
    assert ours == _frames(native["threads"])
    assert any("all_started ()" in frame for frame in ours)
    assert [x for x in remote["thread2"] if x.startswith("#")] == \
        [x for x in native["thread2"] if x.startswith("#")]
    assert any("worker (" in x for x in remote["thread2"]), remote["thread2"]
    assert "worker_sum=6" in "\n".join(remote["end"])
    assert "exited normally" in "\n".join(remote["end"])


def test_detach_lets_the_program_finish_with_its_exit_code(tmp_path):
    from conftest import build_tracee

    require_gdb()
    binary = build_tracee("gdb_target")
    server = Server("--", binary)
    try:
        out = run_gdb(binary, "break compute\ncontinue\ndetach\n", target=server.target,
                      cwd=str(tmp_path))
        status, stdout, stderr = server.finish()
    finally:
        server.kill()
    assert "Breakpoint 1, compute (x=0)" in out
    assert re.search(r"\[Inferior 1 \(process \d+\) detached\]", out), out
    assert status == 3, stderr
    assert "total=12 counter=9 usr1=1" in stdout


HITS = r"""
break target
{run}
set $n = 1
while $n < 200
  continue
  set $n = $n + 1
end
echo ==hits==\n
info breakpoints
echo ==end==\n
continue
"""


def test_breakpoint_hit_by_four_threads_200_times(tmp_path):
    """All-stop with threads racing to one breakpoint: gdb hears every hit, as natively."""
    from conftest import build_tracee

    require_gdb()
    binary = build_tracee("bpthreads")
    commands = tmp_path / "input"
    commands.write_text("threads 4 50\n")
    native = sections(run_gdb(binary, HITS.format(run=f"run < {commands}"), cwd=str(tmp_path)))
    server = Server("--", binary, stdin=subprocess.PIPE)
    try:
        server.feed("threads 4 50\n")
        remote = sections(run_gdb(binary, HITS.format(run="continue"), target=server.target,
                                  cwd=str(tmp_path)))
        status, stdout, stderr = server.finish()
    finally:
        server.kill()
    count = [line.strip() for line in remote["hits"] if "already hit" in line]
    assert count == ["breakpoint already hit 200 times"], remote
    assert count == [line.strip() for line in native["hits"] if "already hit" in line]
    assert status == 0 and "total 200" in stdout, stderr
    assert "exited normally" in "\n".join(remote["end"])


SIGSTOP_SCRIPT = r"""
{run}
echo ==first==\n
info registers rip
continue
echo ==group==\n
info registers rip
continue
echo ==end==\n
"""


def test_stop_signal_passed_on_is_a_group_stop_gdb_hears_of(tmp_path):
    """`continue` after SIGSTOP passes it on: the group stop is told as SIGSTOP, then runs on.

    (Before, nothing told gdb of the group stop: it waited for a stop reply for ever.)
    """
    from conftest import build_tracee

    require_gdb()
    binary = build_tracee("gdb_sigstop")
    native = run_gdb(binary, SIGSTOP_SCRIPT.format(run="run"), cwd=str(tmp_path))
    remote = run_gdb(binary, SIGSTOP_SCRIPT.format(run="continue"), cwd=str(tmp_path),
                     target="| " + server_command("-", "--", binary))
    stops = [line for line in remote.splitlines() if "received signal SIGSTOP" in line]
    assert stops == [line for line in native.splitlines() if "received signal SIGSTOP" in line]
    assert len(stops) == 2, remote
    ours, theirs = sections(remote), sections(native)
    for part in ("first", "group"):
        assert registers(ours[part])["rip"] == registers(theirs[part])["rip"], remote
    assert "went on after SIGSTOP" in remote
    assert without_pids(remote).count("[Inferior 1 (process N) exited with code 05]") == 1
    assert "exited with code 05" in native


SWITCH = r"""
break all_started
{run}
thread 2
bt 1
break pthread_join
continue
echo ==main==\n
info registers rip
bt 1
echo ==end==\n
delete
continue
"""


def test_registers_after_a_stop_are_the_stopped_threads_after_a_thread_switch(tmp_path):
    """gdb takes the stop reply's thread for our Hg thread (it sends no Hg for it).

    Before, `g` after `thread 2` + `continue` answered thread 2's registers for the
    main thread's breakpoint hit.
    """
    from conftest import build_tracee

    require_gdb()
    binary = build_tracee("gdb_threads")
    native = sections(run_gdb(binary, SWITCH.format(run="run"), cwd=str(tmp_path)))
    remote = sections(run_gdb(binary, SWITCH.format(run="continue"), cwd=str(tmp_path),
                              target="| " + server_command("-", "--", binary)))
    assert registers(remote["main"])["rip"] == registers(native["main"])["rip"], remote
    frame = [x for x in remote["main"] if x.startswith("#0")]
    assert frame == [x for x in native["main"] if x.startswith("#0")]
    assert frame and "pthread_join" in frame[0], remote["main"]
    assert "worker_sum=6" in "\n".join(remote["end"])


def test_kill_in_a_group_stop_kills_at_once(tmp_path):
    """gdb's `kill` while the program sits in a group stop.

    Before (core): the exit stop SIGKILL causes was resumed with PTRACE_LISTEN, which
    the kernel refuses there (EIO): a traceback in the tracer, the thread never let
    die, gdb's vKill unanswered for the server's 30 s bound.
    """
    from conftest import build_tracee

    require_gdb()
    binary = build_tracee("gdb_sigstop")
    server = Server("--", binary)
    try:
        out = run_gdb(binary, "continue\ncontinue\nkill\n", target=server.target,
                      cwd=str(tmp_path), timeout=25)
        status, _, stderr = server.finish(timeout=25)
    finally:
        server.kill()
    assert out.count("received signal SIGSTOP") == 2, out
    assert re.search(r"\[Inferior 1 \(process \d+\) killed\]", out), out
    assert "Ignoring packet error" not in out
    assert "Traceback" not in stderr, stderr
    assert status == 128 + 9


HARDWARE = r"""
break main
{run}
delete
hbreak compute
continue
echo ==hbreak==\n
info registers rip
continue
info registers rip
delete
echo ==rwatch==\n
rwatch counter
continue
continue
delete
echo ==awatch==\n
awatch counter
continue
continue
continue
delete
echo ==end==\n
continue
"""


def test_hbreak_rwatch_awatch_as_natively(tmp_path):
    """Z1 on an x86 debug register (execute), Z4 for `awatch`, and `rwatch`.

    x86 has no read-only watch: Z3 gets the empty reply, and gdb emulates the read
    watchpoint with an access one (Z4), exactly as it does natively.
    """
    from conftest import build_tracee

    require_gdb()
    binary = build_tracee("gdb_target")
    native = sections(run_gdb(binary, HARDWARE.format(run="run"), cwd=str(tmp_path)))
    remote = sections(run_gdb(binary, HARDWARE.format(run="continue"), cwd=str(tmp_path),
                              target="| " + server_command("-", "--", binary)))
    def gdbs(lines):  # the program's own output comes through another pipe, elsewhere
        return [line for line in lines if line and "hello from gdb_target" not in line]

    for part in ("hbreak", "rwatch", "awatch"):
        assert part in remote, remote
        assert gdbs(remote[part]) == gdbs(native[part]), part
    hbreak = "\n".join(remote["hbreak"])
    assert "Breakpoint 2, compute (x=1)" in hbreak and "<compute+7>" in hbreak
    assert [x for x in remote["rwatch"] if x.startswith("Value = ")] == ["Value = 0", "Value = 3"]
    assert "Hardware access (read/write) watchpoint 4: counter" in remote["awatch"]
    assert ["Old value = 3", "New value = 9"] == [x for x in remote["awatch"] if "value =" in x]
    assert without_pids("\n".join(remote["end"])).count(
        "[Inferior 1 (process N) exited with code 03]") == 1


LIBC = r"""
handle SIGUSR1 nostop noprint pass
break write
{run}
echo ==libc==\n
info registers rip rsp rdi rdx
bt
x/4i $pc
info sharedlibrary write
echo ==end==\n
delete
continue
"""


def test_breakpoint_in_libc_reached_with_continue(tmp_path):
    """`break write` (in libc, found through qXfer:libraries-svr4) and run to it."""
    from conftest import build_tracee

    require_gdb()
    binary = build_tracee("gdb_target")
    native_out = run_gdb(binary, LIBC.format(run="run"), cwd=str(tmp_path))
    remote_out = run_gdb(binary, LIBC.format(run="continue"), cwd=str(tmp_path),
                         target="| " + server_command("-", "--", binary))
    native, remote = sections(native_out), sections(remote_out)

    def hit(text):
        return [line for line in text.splitlines() if line.startswith("Breakpoint 1, ")]

    assert hit(remote_out) == hit(native_out)
    assert hit(remote_out) and "write (fd=1" in hit(remote_out)[0], remote_out
    assert remote["libc"] == native["libc"]
    assert any(line.startswith("#1 ") and "in main () at" in line for line in remote["libc"])
    assert without_pids("\n".join(remote["end"])).count(
        "[Inferior 1 (process N) exited with code 03]") == 1


EXEC = r"""
break stage
{run}
echo ==one==\n
bt
continue
echo ==two==\n
bt
info registers rip
echo ==end==\n
continue
"""


def test_exec_is_followed_and_breakpoints_hit_in_the_new_program(tmp_path):
    """`exec-events`: gdb hears of the exec (stop reply `exec:`), reloads, re-inserts.

    Before, gdb was never told: its breakpoint in the new image was missed and the
    program ran to its end.
    """
    from conftest import build_tracee

    require_gdb()
    binary = build_tracee("gdb_exec")
    native_out = run_gdb(binary, EXEC.format(run="run"), cwd=str(tmp_path))
    remote_out = run_gdb(binary, EXEC.format(run="continue"), cwd=str(tmp_path),
                         target="| " + server_command("-", "--", binary))
    native, remote = sections(native_out), sections(remote_out)
    assert f"is executing new program: {binary}" in remote_out
    assert "Breakpoint 1, stage (n=2)" in remote_out, remote_out
    for part in ("one", "two"):
        frames = [line for line in remote[part] if line.startswith(("#", "rip"))]
        assert frames == [line for line in native[part] if line.startswith(("#", "rip"))]
        assert frames, remote[part]
    assert "after exec: stage=20" in remote_out
    assert without_pids("\n".join(remote["end"])).count(
        "[Inferior 1 (process N) exited with code 04]") == 1


def test_group_stop_with_a_second_thread_is_told_once_and_left(tmp_path):
    """The threaded case (the stop reply that never came in the ppc64le guest's fork-mt).

    Native gdb also reports the sleeping thread's part in the group stop as a stop of
    its own; all-stop tells gdb once.  Either way the program then runs to its end.
    """
    from conftest import build_tracee

    require_gdb()
    binary = build_tracee("gdb_sigstop")
    remote = run_gdb(binary, "continue\ninfo threads\ncontinue\ninfo threads\ncontinue\n",
                     cwd=str(tmp_path),
                     target="| " + server_command("-", "--", binary, "thread"))
    assert remote.count('Thread 1 "gdb_sigstop" received signal SIGSTOP') == 2, remote
    assert "went on after SIGSTOP" in remote
    assert without_pids(remote).count("[Inferior 1 (process N) exited with code 05]") == 1


RERUN = r"""
break compute
run
delete
handle SIGUSR1 nostop noprint pass
continue
break compute
run
echo ==again==\n
info registers rip
bt
echo ==end==\n
kill
"""


def test_extended_remote_runs_the_program_again(tmp_path):
    """`target extended-remote`: `run` kills and reruns (vKill, vRun), and runs after the exit."""
    from conftest import build_tracee

    require_gdb()
    binary = build_tracee("gdb_target")
    native_out = run_gdb(binary, RERUN, cwd=str(tmp_path))
    path = tmp_path / "connect.gdb"
    path.write_text(f"target extended-remote | {server_command('-', '--', binary)}\n" + RERUN)
    remote_out = run_gdb(binary, f"source {path}\n", cwd=str(tmp_path))
    for out in (native_out, remote_out):
        assert "Breakpoint 1, compute (x=0)" in out and "Breakpoint 2, compute (x=0)" in out, out
        assert without_pids(out).count("[Inferior 1 (process N) exited with code 03]") == 1, out
    native, remote = sections(native_out), sections(remote_out)
    assert registers(remote["again"])["rip"] == registers(native["again"])["rip"]
    assert [x for x in remote["again"] if x.startswith("#")] == \
        [x for x in native["again"] if x.startswith("#")]
    assert re.search(r"\[Inferior 1 \(process \d+\) killed\]", remote_out), remote_out
