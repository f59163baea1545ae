"""The x86_64 arch module against the real kernel, with raw ptrace.

A small C tracee (compiled here with ``cc -O0 -Wl,-z,now`` into
tests/_build/) is forked, waits on a pipe, and execs; we ``PTRACE_SEIZE`` it
through :mod:`pydbg_utrace.kernel` and drive it directly, so what is tested
is the arch module's reading of real registers and the kernel's reaction to
what it writes.  ppc64 and s390x get the same proofs under qemu (later issue).
"""

from __future__ import annotations

import errno
import os
import platform
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from pydbg_utrace.arch import for_pid, host

from pydbg_utrace import kernel

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(platform.machine() != "x86_64", reason="live arch tests run on x86_64"),
    pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler (cc) for the tracee"),
]

BUILD = Path(__file__).resolve().parent / "_build" / "arch_live"

TRACEE_C = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* int3 marks the start; then a loop of exactly known instructions:
   mov $5,%ecx (5 bytes) ; xor %eax,%eax (2) ;
   1: inc %eax (2) ; dec %ecx (2) ; jnz 1b (2) ; nop (1)            */
static long counted_loop(void) {
    long n;
    __asm__ volatile("int3\n\t"
                     "mov $5, %%ecx\n\t"
                     "xor %%eax, %%eax\n"
                     "1:\tinc %%eax\n\t"
                     "dec %%ecx\n\t"
                     "jnz 1b\n\t"
                     "nop\n\t"
                     : "=a"(n) : : "ecx", "cc");
    return n;
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    if (!strcmp(argv[1], "regs")) {
        long out;
        __asm__ volatile("mov $7, %%rax\n\tint3\n\tmov %%rax, %0" : "=r"(out) : : "rax");
        printf("rax=%ld\n", out);
    } else if (!strcmp(argv[1], "loop")) {
        printf("iterations=%ld\n", counted_loop());
    } else if (!strcmp(argv[1], "getppid")) {
        for (int i = 0; i < 2; i++) {
            errno = 0;
            long r = syscall(SYS_getppid);
            printf("getppid=%ld errno=%d\n", r, errno);
        }
    } else {
        return 2;
    }
    return 0;
}
"""

SEIZE_OPTIONS = (kernel.PTRACE_O_TRACESYSGOOD | kernel.PTRACE_O_TRACEEXEC
                 | kernel.PTRACE_O_EXITKILL)


@pytest.fixture(scope="module")
def tracee_path() -> Path:
    BUILD.mkdir(parents=True, exist_ok=True)
    source = BUILD / "arch_tracee.c"
    binary = BUILD / "arch_tracee"
    source.write_text(TRACEE_C)
    subprocess.run(["cc", "-O0", "-Wl,-z,now", "-o", str(binary), str(source)], check=True)
    return binary


class Tracee:
    """One seized child, stopped after its exec; output collected from a pipe."""

    def __init__(self, path: Path, mode: str):
        go_r, go_w = os.pipe()
        out_r, out_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: wait until seized, then exec
            try:
                os.close(go_w)
                os.close(out_r)
                os.dup2(out_w, 1)
                os.read(go_r, 1)
                os.execv(str(path), [str(path), mode])
            finally:
                os._exit(127)
        os.close(go_r)
        os.close(out_w)
        self.pid, self.out = pid, out_r
        self.exit_status: int | None = None
        kernel.seize(pid, SEIZE_OPTIONS)
        os.write(go_w, b"g")
        os.close(go_w)
        status = self.wait()
        assert os.WIFSTOPPED(status) and kernel.event_of(status) == kernel.PTRACE_EVENT_EXEC
        self.arch = for_pid(pid)

    def wait(self) -> int:
        _, status = kernel.wait_tracee(self.pid)
        if os.WIFEXITED(status) or os.WIFSIGNALED(status):
            self.exit_status = status
        return status

    def registers(self):
        raw = kernel.get_regset(self.pid, kernel.NT_PRSTATUS, self.arch.regset_size)
        return self.arch.registers(
            raw, lambda note, size: kernel.get_regset(self.pid, note, size))

    def write_registers(self, regs) -> None:
        assert regs.changed
        kernel.set_regset(self.pid, kernel.NT_PRSTATUS, bytes(regs.raw))

    def cont_to_trap(self) -> None:
        kernel.cont(self.pid)
        status = self.wait()
        assert os.WIFSTOPPED(status) and os.WSTOPSIG(status) == signal.SIGTRAP, status

    def finish(self) -> str:
        """Let it run to exit; its standard output."""
        while self.exit_status is None:
            kernel.cont(self.pid)
            self.wait()
        chunks = []
        while chunk := os.read(self.out, 4096):
            chunks.append(chunk)
        return b"".join(chunks).decode()

    def close(self) -> None:
        if self.exit_status is None:
            os.kill(self.pid, signal.SIGKILL)
            while self.exit_status is None:
                self.wait()
        os.close(self.out)


@pytest.fixture
def spawn(tracee_path):
    started: list[Tracee] = []

    def start(mode: str) -> Tracee:
        t = Tracee(tracee_path, mode)
        started.append(t)
        return t
    yield start
    for t in started:
        t.close()


def test_tracee_arch_is_chosen_from_its_elf(spawn):
    t = spawn("regs")
    assert t.arch is host() and t.arch.name == "x86_64"


def test_read_and_write_registers_of_a_stopped_tracee(spawn):
    t = spawn("regs")
    t.cont_to_trap()  # the int3 right after "mov $7, %rax"
    regs = t.registers()
    assert regs["rax"] == 7
    # the same values through the old PEEKUSER path (struct user starts with the regs)
    assert regs.pc == kernel.peek_user(t.pid, t.arch.fields["rip"].offset)
    assert regs.sp == kernel.peek_user(t.pid, t.arch.fields["rsp"].offset)
    assert regs["orig_rax"] == 2**64 - 1  # not in a syscall
    assert not regs.changed
    regs["rax"] = 0x1234
    t.write_registers(regs)
    assert t.registers()["rax"] == 0x1234
    assert t.finish() == "rax=4660\n"
    assert os.WEXITSTATUS(t.exit_status) == 0


def test_abort_syscall_and_choose_what_the_tracee_sees(spawn):
    t = spawn("getppid")
    arch = t.arch
    getppid = arch.syscall_number_of("getppid")
    aborted = 0
    pending_abort = False
    checked_exits = 0
    while True:
        kernel.cont_syscall(t.pid)
        status = t.wait()
        if t.exit_status is not None:
            break
        assert os.WSTOPSIG(status) == signal.SIGTRAP | 0x80, status
        info = kernel.get_syscall_info(t.pid)
        regs = t.registers()
        if info.op == kernel.PTRACE_SYSCALL_INFO_ENTRY:
            # our decoding agrees with the kernel's at every entry
            assert arch.syscall_number(regs) == info.nr
            assert arch.syscall_args(regs) == info.args
            if info.nr == getppid:
                arch.abort_syscall(regs)
                t.write_registers(regs)
                pending_abort = True
        elif info.op == kernel.PTRACE_SYSCALL_INFO_EXIT:
            value, err = arch.syscall_result(regs)
            assert value == info.rval and (err is not None) == info.is_error
            checked_exits += 1
            if pending_abort:
                assert (value, err) == (-errno.ENOSYS, errno.ENOSYS)  # the kernel skipped it
                if aborted == 0:
                    arch.set_syscall_result(regs, errno=errno.EXDEV)
                else:
                    arch.set_syscall_result(regs, 4242)
                t.write_registers(regs)
                aborted += 1
                pending_abort = False
    assert aborted == 2 and checked_exits > 10
    assert t.finish() == f"getppid=-1 errno={errno.EXDEV}\ngetppid=4242 errno=0\n"


LOOP_LAYOUT = {"mov": 0, "xor": 5, "inc": 7, "dec": 9, "jne": 11, "nop": 13}


def test_single_step_a_known_loop_counts_exactly(spawn):
    t = spawn("loop")
    t.cont_to_trap()
    start = t.registers().pc  # just after the int3: at the mov
    code = kernel.read_memory(t.pid, start, 14)
    insns = t.arch.disassemble(code, start)
    assert [(i.mnemonic, i.address - start) for i in insns] == list(LOOP_LAYOUT.items())
    L = LOOP_LAYOUT
    expected = [L["xor"], L["inc"]]
    for i in range(5):
        expected += [L["dec"], L["jne"], L["inc"] if i < 4 else L["nop"]]
    seen = []
    while len(seen) < 100:
        kernel.singlestep(t.pid)
        status = t.wait()
        assert os.WIFSTOPPED(status) and os.WSTOPSIG(status) == signal.SIGTRAP
        seen.append(t.registers().pc - start)
        if seen[-1] == L["nop"]:
            break
    assert seen == expected and len(seen) == 17
    assert t.finish() == "iterations=5\n"


def test_breakpoint_pc_adjust(spawn):
    t = spawn("loop")
    arch = t.arch
    t.cont_to_trap()
    bp = t.registers().pc + LOOP_LAYOUT["inc"]
    original = kernel.peek_data(t.pid, bp)
    data = original.to_bytes(8, arch.byteorder)
    patched = arch.breakpoint_instruction + data[len(arch.breakpoint_instruction):]
    kernel.poke_data(t.pid, bp, int.from_bytes(patched, arch.byteorder))
    assert kernel.read_memory(t.pid, bp, 1) == arch.breakpoint_instruction

    t.cont_to_trap()
    regs = t.registers()
    assert regs.pc == bp + arch.breakpoint_pc_offset == bp + 1
    # put the instruction back and resume AT the breakpoint, as a debugger must
    kernel.poke_data(t.pid, bp, original)
    regs.pc -= arch.breakpoint_pc_offset
    t.write_registers(regs)
    assert t.finish() == "iterations=5\n"  # inc ran 5 times: nothing skipped or garbled
    assert os.WIFEXITED(t.exit_status) and os.WEXITSTATUS(t.exit_status) == 0


def test_blockstep_request_is_known_to_the_kernel(spawn):
    """PTRACE_SINGLEBLOCK (33) is accepted; the stop is at most one block away.

    Real hardware stops at the taken branch's target (+7); under hypervisors that
    ignore DEBUGCTL.BTF the kernel's block step degrades to a single step (+5),
    which is what these VMs show.
    """
    t = spawn("loop")
    t.cont_to_trap()
    start = t.registers().pc
    kernel.ptrace(t.arch.blockstep_request, t.pid)
    status = t.wait()
    assert os.WIFSTOPPED(status) and os.WSTOPSIG(status) == signal.SIGTRAP
    assert t.registers().pc - start in (LOOP_LAYOUT["xor"], LOOP_LAYOUT["inc"])
    assert t.finish() == "iterations=5\n"
