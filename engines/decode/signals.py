"""strace's signal lines: ``--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, ...} ---``.

``siginfo_t`` on 64-bit Linux: signo, errno, code (ints), then the union at
offset 16: kill/tkill/queue ``si_pid si_uid [si_value]``; SIGCHLD ``si_pid
si_uid si_status si_utime si_stime``; faults ``si_addr``; timers
``si_timerid si_overrun``; SIGSYS ``si_call_addr si_syscall si_arch``.
"""

from __future__ import annotations

from . import tables
from .abi import Abi
from .tables import signal_name

_FAULT_CODES = {11: tables.SEGV_CODES, 7: tables.BUS_CODES, 8: tables.FPE_CODES,
                4: tables.ILL_CODES, 5: tables.TRAP_CODES}


def si_code_name(signo: int, code: int) -> str:
    if code in tables.SI_CODES and (code <= 0 or code == 0x80):
        return tables.SI_CODES[code]
    by_signal = tables.CLD_CODES if signo == 17 else _FAULT_CODES.get(signo, {})
    return by_signal.get(code, str(code))


def siginfo(data: bytes, abi: Abi) -> str:
    """The braces strace prints for a ``siginfo_t``."""
    def i32(off: int) -> int:
        return abi.word(data, off, 4, signed=True)

    signo, err, code = i32(0), i32(4), i32(8)
    shown = [f"si_signo={signal_name(signo)}", f"si_code={si_code_name(signo, code)}"]
    if err:
        shown.append(f"si_errno={err}")
    pid, uid = i32(16), abi.word(data, 20, 4)
    if code <= 0 or code == 0x80:  # sent by a process (kill, tgkill, sigqueue) or the kernel
        if code in (0, -6, 0x80) or code == -1:
            if code == 0x80 and signo in _FAULT_CODES:
                shown.append(f"si_addr={_address(abi.word(data, 16))}")
            else:
                shown += [f"si_pid={pid}", f"si_uid={uid}"]
            if code == -1:
                value = abi.word(data, 24, 4, signed=True)
                shown.append(f"si_value={{int={value}, ptr={abi.word(data, 24):#x}}}")
        elif code == -2:  # SI_TIMER
            shown += [f"si_timerid={i32(16):#x}", f"si_overrun={i32(20)}",
                      f"si_int={i32(24)}", f"si_ptr={abi.word(data, 24):#x}"]
    elif signo == 17:  # SIGCHLD
        status = i32(24)
        status_text = signal_name(status) if code in (2, 3, 4, 5) else str(status)
        shown += [f"si_pid={pid}", f"si_uid={uid}", f"si_status={status_text}",
                  f"si_utime={_ticks(abi.word(data, 32, 8, signed=True))}",
                  f"si_stime={_ticks(abi.word(data, 40, 8, signed=True))}"]
    elif signo in _FAULT_CODES:
        shown.append(f"si_addr={_address(abi.word(data, 16))}")
    elif signo == 31:  # SIGSYS from seccomp
        shown += [f"si_call_addr={_address(abi.word(data, 16))}", f"si_syscall={i32(24)}",
                  f"si_arch={abi.word(data, 28, 4):#x}"]
    else:
        shown += [f"si_pid={pid}", f"si_uid={uid}"]
    return "{" + ", ".join(shown) + "}"


def _ticks(value: int) -> str:
    """Clock ticks (USER_HZ, 100 on Linux), with strace's seconds for a nonzero count."""
    return f"{value} /* {value / 100:.2f} s */" if value else "0"


def _address(value: int) -> str:
    return "NULL" if value == 0 else f"{value:#x}"


def signal_line(data: bytes, abi: Abi) -> str:
    """``--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=1, si_uid=0} ---``."""
    signo = abi.word(data, 0, 4, signed=True)
    return f"--- {signal_name(signo)} {siginfo(data, abi)} ---"


def death_line(status: int) -> str:
    """``+++ exited with 0 +++`` / ``+++ killed by SIGKILL (core dumped) +++``."""
    if status & 0x7F == 0:
        return f"+++ exited with {(status >> 8) & 0xFF} +++"
    core = " (core dumped)" if status & 0x80 else ""
    return f"+++ killed by {signal_name(status & 0x7F)}{core} +++"
