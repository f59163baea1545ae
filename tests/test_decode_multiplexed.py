"""socketcall, ipc, s390x's old mmap, the arch's sigreturn frames and ioctl numbers, as strace
prints them.

The expected lines are the ones strace 6.1 printed in the ppc64le and s390x guests
(tests/test_cross_trace_vs_strace_live.py, tests/cross/abi_calls.c); the raw
registers and memory are those calls' own, rebuilt by hand.
"""

from __future__ import annotations

import pytest
from pydbg_utrace.engines import decode
from pydbg_utrace.engines.decode.multiplexed import subcall_name
from pydbg_utrace.engines.trace_options import TraceOptions

from pydbg_utrace import arch
from pydbg_utrace.strace_options import traced_numbers

PPC, S390 = decode.abi_for("ppc64le"), decode.abi_for("s390x")
STACK = 0x3FFF0000


def words(abi, *values: int) -> bytes:
    return b"".join(v.to_bytes(abi.word_size, abi.byteorder) for v in values)


def line(abi, name, args, mem, rval=0, error=None, sp=0, after: dict | None = None) -> str:
    pending = decode.decode_entry(abi, name, args, mem, sp=sp)
    tail = decode.decode_exit(pending, rval, error, decode.BytesMemory(after) if after else mem)
    return pending.entry_text + tail + " = " + decode.format_result(pending, pending.name,
                                                                    rval, error)


@pytest.mark.parametrize("abi", [PPC, S390], ids=["ppc64le", "s390x"])
def test_socketcall_is_printed_as_the_call_it_carries(abi):
    mem = decode.BytesMemory({STACK: words(abi, 1, 2, 0)})
    assert line(abi, "socketcall", (1, STACK), mem, rval=3) == "socket(AF_UNIX, SOCK_DGRAM, 0) = 3"
    pair = words(abi, 1, 2, 0, STACK + 0x100)
    out = (3).to_bytes(4, abi.byteorder) + (4).to_bytes(4, abi.byteorder)
    after = {STACK: pair, STACK + 0x100: out}
    assert line(abi, "socketcall", (8, STACK), decode.BytesMemory({STACK: pair}),
                after=after) == "socketpair(AF_UNIX, SOCK_DGRAM, 0, [3, 4]) = 0"


def test_socketcall_connect_failing_reads_its_sockaddr():
    path = b"/nonexistent.sock"
    sun = (1).to_bytes(2, "big") + path + b"\0" * (108 - len(path))
    mem = decode.BytesMemory({STACK: words(S390, 3, STACK + 0x100, 110), STACK + 0x100: sun})
    assert line(S390, "socketcall", (3, STACK), mem, rval=-2, error=2) == (
        'connect(3, {sa_family=AF_UNIX, sun_path="/nonexistent.sock"}, 110) = '
        "-1 ENOENT (No such file or directory)")


def test_ipc_is_printed_as_the_sysv_call_it_carries():
    none = decode.BytesMemory({})
    assert line(PPC, "ipc", (23, 0, 4096, 0o1600, 0, 0), none) == \
        "shmget(IPC_PRIVATE, 4096, IPC_CREAT|0600) = 0"
    assert line(PPC, "ipc", (22, 0, 0, 0, 0x7FFFA1500000, 0), none) == \
        "shmdt(0x7fffa1500000) = 0"
    assert line(PPC, "ipc", (24, 0, 0x100, 0, 0, 0), none) == \
        "shmctl(0, IPC_64|IPC_RMID, NULL) = 0"
    assert line(PPC, "ipc", (2, 0, 1, 0o1600, 0, 0), none) == \
        "semget(IPC_PRIVATE, 1, IPC_CREAT|0600) = 0"
    union = decode.BytesMemory({STACK: words(PPC, 0)})
    assert line(PPC, "ipc", (3, 0, 0, 0, STACK, 0), union) == "semctl(0, 0, IPC_RMID, [NULL]) = 0"


def test_ipc_shmat_shows_the_address_the_kernel_wrote_as_its_result():
    # ipc(SHMAT, shmid, shmflg, &raddr, shmaddr): returns 0, the address is in raddr
    result = decode.BytesMemory({STACK: words(PPC, 0x7FFFA1500000)})
    assert line(PPC, "ipc", (21, 0, 0, STACK, 0, 0), result, after={STACK: words(
        PPC, 0x7FFFA1500000)}) == "shmat(0, NULL, 0) = 0x7fffa1500000"


def test_s390x_mmap_takes_its_arguments_from_memory():
    block = words(S390, 0, 8192, 3, 0x22, (1 << 64) - 1, 0)
    mem = decode.BytesMemory({STACK: block})
    assert line(S390, "mmap", (STACK, 8192, 3, 0x22, 0, 0x100095C), mem, rval=0x3FFBE2F9000) == (
        "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x3ffbe2f9000")
    # ppc64le's mmap is an ordinary six-register call
    assert line(PPC, "mmap", (0, 8192, 3, 0x22, (1 << 64) - 1, 0), decode.BytesMemory({}),
                rval=0x7FFFA1500000).startswith("mmap(NULL, 8192, PROT_READ|PROT_WRITE, ")


@pytest.mark.parametrize(("abi", "name", "offset"), [
    (PPC, "rt_sigreturn", 168), (S390, "sigreturn", 160), (S390, "rt_sigreturn", 680)])
def test_sigreturn_shows_the_mask_of_the_frame(abi, name, offset):
    mem = decode.BytesMemory({STACK + offset: (1 << 9).to_bytes(8, abi.byteorder)})
    assert line(abi, name, (), mem, sp=STACK) == f"{name}({{mask=[USR1]}}) = 0"


def test_prctl_get_name_is_read_at_exit():
    name = b"echo\0"
    assert line(PPC, "prctl", (16, STACK, 0, 0, 0), decode.BytesMemory({}),
                after={STACK: name}) == 'prctl(PR_GET_NAME, "echo") = 0'


def test_summary_counts_carried_calls_by_their_own_names():
    assert subcall_name("socketcall", (3, STACK)) == "connect"
    assert subcall_name("ipc", (0x10015, 0)) == "shmat"  # the version in the high half
    assert subcall_name("ipc", (99, 0)) == "ipc"
    assert subcall_name("read", (3, 0)) == "read"


def test_a_seccomp_filter_on_a_carried_call_lets_its_carrier_through():
    s390x, x86_64 = arch.by_name("s390x"), arch.by_name("x86_64")
    numbers = traced_numbers(TraceOptions(trace=frozenset({"connect"})), s390x)
    assert numbers == {s390x.syscall_number_of("connect"), s390x.syscall_number_of("socketcall")}
    numbers = traced_numbers(TraceOptions(trace=frozenset({"shmat", "read"})), s390x)
    assert s390x.syscall_number_of("ipc") in numbers
    assert traced_numbers(TraceOptions(trace=frozenset({"connect"})), x86_64) == {
        x86_64.syscall_number_of("connect")}


def test_powerpc_names_its_own_terminal_ioctl_numbers():
    assert line(PPC, "ioctl", (1, 0x402C7413, STACK), decode.BytesMemory({}), rval=-25,
                error=25) == ("ioctl(1, TCGETS, 0x3fff0000) = -1 ENOTTY "
                              "(Inappropriate ioctl for device)")
    size = (24).to_bytes(2, "little") + (80).to_bytes(2, "little") + bytes(4)
    assert line(PPC, "ioctl", (1, 0x40087468, STACK), decode.BytesMemory({}),
                after={STACK: size}) == ("ioctl(1, TIOCGWINSZ, {ws_row=24, ws_col=80, "
                                         "ws_xpixel=0, ws_ypixel=0}) = 0")
