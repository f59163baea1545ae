"""Unit tests of the message, readiness, wait and ioctl decoders, from bytes.

sendmsg/recvmsg (struct msghdr, cmsghdr), sendmmsg/recvmmsg, select/pselect6 (fd
sets), poll/ppoll results, epoll (struct epoll_event), waitid/wait4 (siginfo,
rusage) and ioctl, on each ABI: x86_64's bytes are partly the host kernel's own
(made through ctypes), the powerpc and s390x ones are laid out from their uapi
headers -- an fd set is an array of longs (so a big-endian one is not in fd
order), ``struct epoll_event`` is packed on x86_64 only, powerpc's ioctl numbers
have 13 size bits and 3 direction bits.  The expected text is strace 6.1's (the
same calls are compared with strace live in tests/test_decode_vs_strace_live.py).
The sizes, offsets, ioctl numbers and flag values the decoders use are checked
against each target's own C headers (static assertions compiled by the host's and
Debian's cross compilers, where installed).
"""

from __future__ import annotations

import ctypes
import os
import platform
import struct

import pytest
from pydbg_utrace.arch.lookup import by_name as arch_by_name
from pydbg_utrace.engines import decode
from pydbg_utrace.engines.decode import calls, structs
from pydbg_utrace.engines.trace_options import TraceOptions
from target_headers import assert_compiles

X86, PPC, PPC_BE, S390 = (decode.abi_for(n) for n in ("x86_64", "ppc64le", "ppc64", "s390x"))
ABIS = pytest.mark.parametrize("abi", [X86, PPC, S390], ids=["x86_64", "ppc64le", "s390x"])
on_x86_64 = pytest.mark.skipif(platform.machine() != "x86_64",
                               reason="the kernel's own bytes are x86_64 ones on this host only")
MSG, IOV, BUF, CTL, NAME = 0x10000, 0x11000, 0x12000, 0x13000, 0x14000


def line(abi, name, args, mem, rval=0, error=None, after: dict | None = None,
         options: TraceOptions | None = None) -> str:
    pending = decode.decode_entry(abi, name, args, mem, options)
    tail = decode.decode_exit(pending, rval, error, decode.BytesMemory(after) if after else mem)
    return pending.entry_text + tail + " = " + decode.format_result(pending, name, rval, error)


def word(abi, value: int, size: int = 8) -> bytes:
    return (value & ((1 << 8 * size) - 1)).to_bytes(size, abi.byteorder)


def msghdr(abi, name=0, namelen=0, iov=0, iovlen=0, control=0, controllen=0, flags=0) -> bytes:
    """struct msghdr (include/linux/socket.h's user_msghdr) on a 64-bit ABI: 56 bytes."""
    return (word(abi, name) + word(abi, namelen, 4) + bytes(4) + word(abi, iov)
            + word(abi, iovlen) + word(abi, control) + word(abi, controllen)
            + word(abi, flags, 4) + bytes(4))


def iovecs(abi, *pairs: tuple[int, int]) -> bytes:
    return b"".join(word(abi, base) + word(abi, size) for base, size in pairs)


def cmsg(abi, level: int, kind: int, data: bytes) -> bytes:
    """struct cmsghdr: a size_t length, level, type, the data padded to a long."""
    raw = word(abi, 16 + len(data)) + word(abi, level, 4) + word(abi, kind, 4) + data
    return raw + bytes(-len(raw) % 8)


def ints(abi, *values: int) -> bytes:
    return b"".join(word(abi, v, 4) for v in values)


# -- sendmsg / recvmsg ------------------------------------------------------------------------
@ABIS
def test_sendmsg_shows_its_iovecs_and_the_fds_it_passes(abi):
    control = cmsg(abi, 1, 1, ints(abi, 5, 6))  # SOL_SOCKET, SCM_RIGHTS
    mem = decode.BytesMemory({
        MSG: msghdr(abi, iov=IOV, iovlen=2, control=CTL, controllen=len(control)),
        IOV: iovecs(abi, (BUF, 5), (BUF + 5, 5)), BUF: b"helloworld", CTL: control})
    assert line(abi, "sendmsg", (3, MSG, 0x4000), mem, 10) == (
        'sendmsg(3, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="hello", iov_len=5}, '
        '{iov_base="world", iov_len=5}], msg_iovlen=2, msg_control=[{cmsg_len=24, '
        'cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[5, 6]}], msg_controllen=24, '
        'msg_flags=0}, MSG_NOSIGNAL) = 10')


@ABIS
def test_recvmsg_shows_at_exit_the_bytes_received_and_the_changed_name_length(abi):
    before = {MSG: msghdr(abi, name=NAME, namelen=110, iov=IOV, iovlen=1),
              IOV: iovecs(abi, (BUF, 16)), BUF: bytes(16), NAME: bytes(110)}
    creds = cmsg(abi, 1, 2, ints(abi, 4242, 0, 0))  # SCM_CREDENTIALS: pid uid gid
    after = {**before, MSG: msghdr(abi, name=NAME, namelen=0, iov=IOV, iovlen=1, control=CTL,
                                   controllen=len(creds) - 4, flags=0),
             BUF: b"cred" + bytes(12), CTL: creds}
    pending = decode.decode_entry(abi, "recvmsg", (8, MSG, 0), decode.BytesMemory(before))
    assert pending.entry_text == "recvmsg(8, "
    assert decode.decode_exit(pending, 4, None, decode.BytesMemory(after)) == (
        '{msg_name=0x14000, msg_namelen=110 => 0, msg_iov=[{iov_base="cred", iov_len=16}], '
        'msg_iovlen=1, msg_control=[{cmsg_len=28, cmsg_level=SOL_SOCKET, '
        'cmsg_type=SCM_CREDENTIALS, cmsg_data={pid=4242, uid=0, gid=0}}], msg_controllen=28, '
        'msg_flags=0}, 0)')
    assert line(abi, "recvmsg", (3, MSG, 0x40), decode.BytesMemory(before), -11, 11) == (
        "recvmsg(3, {msg_namelen=110}, MSG_DONTWAIT) = -1 EAGAIN (Resource temporarily "
        "unavailable)")


def test_msghdr_with_a_name_an_unknown_level_and_a_cut_control():
    name = struct.pack("<H", 1) + b"/run/x.sock\0"  # AF_UNIX
    control = cmsg(X86, 1, 1, ints(X86, 7)) + cmsg(X86, 0x99, 0x32, b"\1\2\3\4")
    mem = decode.BytesMemory({  # 8 bytes past the two cmsgs: less than a header
        MSG: msghdr(X86, name=NAME, namelen=len(name), iov=IOV, iovlen=0, control=CTL,
                    controllen=len(control) + 8, flags=0x20),
        IOV: bytes(16), NAME: name, CTL: control + bytes(8)})
    assert line(X86, "sendmsg", (3, MSG, 0), mem, 0) == (
        'sendmsg(3, {msg_name={sa_family=AF_UNIX, sun_path="/run/x.sock"}, msg_namelen=14, '
        "msg_iov=[], msg_iovlen=0, msg_control=[{cmsg_len=20, cmsg_level=SOL_SOCKET, "
        "cmsg_type=SCM_RIGHTS, cmsg_data=[7]}, {cmsg_len=20, cmsg_level=0x99 /* SOL_??? */, "
        "cmsg_type=0x32}, ... /* 0x13030 */], msg_controllen=56, msg_flags=MSG_TRUNC}, 0) = 0")
    assert line(X86, "sendmsg", (3, 1, 0), mem, -14, 14) \
        == "sendmsg(3, 0x1, 0) = -1 EFAULT (Bad address)"


def test_a_received_timestamp_and_a_cut_one():
    stamp = cmsg(X86, 1, 29, struct.pack("<qq", 1700000000, 5))  # SO_TIMESTAMP_OLD
    short = cmsg(X86, 1, 35, b"\1\2\3\4")  # SO_TIMESTAMPNS_OLD, 4 bytes of 16
    three = cmsg(X86, 1, 37, struct.pack("<6q", 1, 2, 0, 0, 0, 0))  # SO_TIMESTAMPING_OLD
    control = stamp + short + three
    mem = decode.BytesMemory({MSG: msghdr(X86, iov=IOV, iovlen=0, control=CTL,
                                          controllen=len(control)), IOV: bytes(16),
                              CTL: control})
    assert line(X86, "sendmsg", (3, MSG, 0), mem, 0) == (
        "sendmsg(3, {msg_name=NULL, msg_namelen=0, msg_iov=[], msg_iovlen=0, msg_control=["
        "{cmsg_len=32, cmsg_level=SOL_SOCKET, cmsg_type=SO_TIMESTAMP_OLD, "
        "cmsg_data={tv_sec=1700000000, tv_usec=5}}, {cmsg_len=20, cmsg_level=SOL_SOCKET, "
        "cmsg_type=SO_TIMESTAMPNS_OLD, cmsg_data=???}, {cmsg_len=64, cmsg_level=SOL_SOCKET, "
        "cmsg_type=SO_TIMESTAMPING_OLD, cmsg_data=[{tv_sec=1, tv_nsec=2}, {tv_sec=0, "
        "tv_nsec=0}, {tv_sec=0, tv_nsec=0}]}], msg_controllen=120, msg_flags=0}, 0) = 0")


def test_iovec_contents_and_scm_rights_are_cut_at_the_string_limit():
    control = cmsg(X86, 1, 1, ints(X86, 3, 4, 5))
    mem = decode.BytesMemory({
        MSG: msghdr(X86, iov=IOV, iovlen=3, control=CTL, controllen=len(control)),
        IOV: iovecs(X86, (BUF, 5), (BUF, 5), (BUF, 5)), BUF: b"hello", CTL: control})
    assert line(X86, "sendmsg", (3, MSG, 0), mem, 15, options=TraceOptions(string_limit=2)) == (
        'sendmsg(3, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="he"..., iov_len=5}, '
        '{iov_base="he"..., iov_len=5}, ...], msg_iovlen=3, msg_control=[{cmsg_len=28, '
        "cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[3, 4, ...]}], "
        "msg_controllen=32, msg_flags=0}, 0) = 15")


@ABIS
def test_recvfrom_shows_the_senders_address_and_its_length(abi):
    family = (2).to_bytes(2, abi.byteorder)  # sa_family is host-endian, the port network
    sin = family + struct.pack("!H4s", 53, bytes([127, 0, 0, 53])) + bytes(8)
    before = {BUF: bytes(16), NAME: bytes(28), 0x15000: word(abi, 28, 4)}
    after = {BUF: b"answer" + bytes(10), NAME: sin + bytes(12), 0x15000: word(abi, 16, 4)}
    assert line(abi, "recvfrom", (3, BUF, 16, 0, NAME, 0x15000), decode.BytesMemory(before),
                6, after=after) == (
        'recvfrom(3, "answer", 16, 0, {sa_family=AF_INET, sin_port=htons(53), '
        'sin_addr=inet_addr("127.0.0.53")}, [28 => 16]) = 6')
    assert line(abi, "recvfrom", (3, BUF, 16, 0x40, NAME, 0x15000), decode.BytesMemory(before),
                -11, 11) == ("recvfrom(3, 0x12000, 16, MSG_DONTWAIT, 0x14000, [28]) = -1 EAGAIN "
                             "(Resource temporarily unavailable)")
    assert line(abi, "recvfrom", (3, BUF, 16, 0, 0, 0), decode.BytesMemory(before), 6,
                after=after) == 'recvfrom(3, "answer", 16, 0, NULL, NULL) = 6'


def test_shutdown_send_and_recv():
    mem = decode.BytesMemory({BUF: b"data"})
    assert line(X86, "shutdown", (3, 1), mem, 0) == "shutdown(3, SHUT_WR) = 0"
    assert line(X86, "send", (3, BUF, 4, 0x4000), mem, 4) \
        == 'send(3, "data", 4, MSG_NOSIGNAL) = 4'  # (socketcall's SYS_SEND carries it)
    assert line(X86, "recv", (3, BUF, 16, 0), mem, 2) == 'recv(3, "da", 16, 0) = 2'


@ABIS
def test_sendmmsg_and_recvmmsg_show_each_message_and_its_length(abi):
    def mmsg(iov: int, msg_len: int) -> bytes:
        return msghdr(abi, iov=iov, iovlen=1) + word(abi, msg_len, 4) + bytes(4)
    mem = decode.BytesMemory({MSG: mmsg(IOV, 0) + mmsg(IOV + 16, 0),
                              IOV: iovecs(abi, (BUF, 5), (BUF + 5, 5)), BUF: b"helloworld"})
    sent = decode.BytesMemory({**mem.regions, MSG: mmsg(IOV, 5) + mmsg(IOV + 16, 5)})
    one = "{{msg_hdr={{msg_name=NULL, msg_namelen=0, msg_iov=[{{iov_base={}, iov_len={}}}], " \
          "msg_iovlen=1, msg_controllen=0, msg_flags=0}}, msg_len={}}}"
    assert line(abi, "sendmmsg", (3, MSG, 2, 0), mem, 2, after=sent.regions) == (
        f'sendmmsg(3, [{one.format(chr(34) + "hello" + chr(34), 5, 5)}, '
        f'{one.format(chr(34) + "world" + chr(34), 5, 5)}], 2, 0) = 2')
    received = {**mem.regions, MSG: mmsg(IOV, 3) + mmsg(IOV + 16, 0)}
    assert line(abi, "recvmmsg", (4, MSG, 2, 0x40, 0), mem, 1, after=received) == (
        f'recvmmsg(4, [{one.format(chr(34) + "hel" + chr(34), 5, 3)}], 2, MSG_DONTWAIT, '
        "NULL) = 1")
    assert line(abi, "recvmmsg", (4, MSG, 2, 0x40, 0), mem, -11, 11) == (
        "recvmmsg(4, 0x10000, 2, MSG_DONTWAIT, NULL) = -1 EAGAIN (Resource temporarily "
        "unavailable)")


# -- select / pselect6 -----------------------------------------------------------------------
def fd_set(abi, *fds: int, longs: int = 2) -> bytes:
    values = [0] * longs
    for fd in fds:
        values[fd // 64] |= 1 << fd % 64
    return b"".join(word(abi, v) for v in values)


@ABIS
def test_select_shows_the_sets_at_entry_and_the_ready_fds_and_time_left_at_exit(abi):
    rd, wr, tv = 0x1000, 0x2000, 0x3000
    mem = decode.BytesMemory({rd: fd_set(abi, 3, 70), wr: fd_set(abi, 4), tv: word(abi, 5)
                              + word(abi, 0)})
    after = {rd: fd_set(abi, 70), wr: fd_set(abi, 4), tv: word(abi, 4) + word(abi, 999)}
    assert line(abi, "select", (71, rd, wr, 0, tv), mem, 2, after=after) == (
        "select(71, [3 70], [4], NULL, {tv_sec=5, tv_usec=0}) = 2 "
        "(in [70], out [4], left {tv_sec=4, tv_usec=999})")
    assert line(abi, "select", (71, rd, 0, 0, tv), mem, 0) \
        == "select(71, [3 70], NULL, NULL, {tv_sec=5, tv_usec=0}) = 0 (Timeout)"
    # fds at or past nfds are not the call's: the kernel reads only nfds bits
    assert line(abi, "select", (4, rd, 0, 0, 0), mem, 1) \
        == "select(4, [3], NULL, NULL, NULL) = 1 (in [3])"


def test_a_big_endian_fd_set_is_an_array_of_longs():
    # fd 3 is bit 3 of the first long: its last byte on s390x, its first on x86_64
    assert structs.fd_set_members(bytes(7) + b"\x08", S390, 64) == [3]
    assert structs.fd_set_members(b"\x08" + bytes(7), X86, 64) == [3]
    assert structs.fd_set_size(5, S390) == 8 and structs.fd_set_size(65, X86) == 16


@ABIS
def test_pselect6_shows_its_sigmask_and_sigsetsize(abi):
    rd, ts, sig, mask = 0x1000, 0x2000, 0x3000, 0x4000
    mem = decode.BytesMemory({rd: fd_set(abi, 5), ts: bytes(16), sig: word(abi, mask)
                              + word(abi, 8), mask: word(abi, 1 << 9)})
    assert line(abi, "pselect6", (6, rd, 0, 0, ts, sig), mem, 1) == (
        "pselect6(6, [5], NULL, NULL, {tv_sec=0, tv_nsec=0}, {sigmask=[USR1], sigsetsize=8}) "
        "= 1 (in [5], left {tv_sec=0, tv_nsec=0})")
    null_mask = decode.BytesMemory({rd: fd_set(abi, 5), sig: word(abi, 0) + word(abi, 8)})
    assert line(abi, "pselect6", (6, rd, 0, 0, 0, sig), null_mask, 1) \
        == "pselect6(6, [5], NULL, NULL, NULL, {sigmask=NULL, sigsetsize=8}) = 1 (in [5])"


# -- poll / ppoll --------------------------------------------------------------------------------
def pollfd(abi, fd: int, events: int, revents: int = 0) -> bytes:
    return word(abi, fd, 4) + word(abi, events, 2) + word(abi, revents, 2)


@ABIS
def test_poll_results_timeout_and_ppolls_time_left(abi):
    fds, ts = 0x1000, 0x2000
    mem = decode.BytesMemory({fds: pollfd(abi, 5, 1) + pollfd(abi, 3, 5), ts: bytes(16)})
    after = {fds: pollfd(abi, 5, 1, 1) + pollfd(abi, 3, 5, 4), ts: bytes(16)}
    assert line(abi, "ppoll", (fds, 2, ts, 0, 8), mem, 2, after=after) == (
        "ppoll([{fd=5, events=POLLIN}, {fd=3, events=POLLIN|POLLOUT}], 2, {tv_sec=0, "
        "tv_nsec=0}, NULL, 8) = 2 ([{fd=5, revents=POLLIN}, {fd=3, revents=POLLOUT}], "
        "left {tv_sec=0, tv_nsec=0})")
    assert line(abi, "poll", (fds, 2, 0), mem, 0) \
        == "poll([{fd=5, events=POLLIN}, {fd=3, events=POLLIN|POLLOUT}], 2, 0) = 0 (Timeout)"
    assert line(abi, "poll", (fds, 2, 0), mem, 2, after=after, options=TraceOptions(
        string_limit=1)) == "poll([{fd=5, events=POLLIN}, ...], 2, 0) = 2 ([{fd=5, " \
                            "revents=POLLIN}, ...])"  # -s 1: one element of each array


# -- epoll -------------------------------------------------------------------------------
def test_epoll_event_is_packed_on_x86_64_only_and_shows_its_union_both_ways():
    packed = struct.pack("<IQ", 0x80000001, 0x1122334455667788)
    assert structs.epoll_event(packed, X86) \
        == "{events=EPOLLIN|EPOLLET, data={u32=1432778632, u64=1234605616436508552}}"
    aligned_le = struct.pack("<IIQ", 0x80000001, 0, 0x1122334455667788)
    assert structs.epoll_event(aligned_le, PPC) == structs.epoll_event(packed, X86)
    # big-endian: u32 is the union's first four bytes, the u64's high half
    aligned_be = struct.pack(">IIQ", 4, 0, 0x1122334455667788)
    assert structs.epoll_event(aligned_be, S390) \
        == "{events=EPOLLOUT, data={u32=287454020, u64=1234605616436508552}}"
    assert [structs.epoll_event_size(a) for a in (X86, PPC, PPC_BE, S390)] == [12, 16, 16, 16]


@ABIS
def test_epoll_ctl_wait_and_pwait(abi):
    size = structs.epoll_event_size(abi)
    ev = word(abi, 1, 4) + bytes(size - 12) + word(abi, 6)
    mem = decode.BytesMemory({0x1000: ev, 0x2000: word(abi, 1 << 9)})
    u32 = 6 if abi.byteorder == "little" else 0  # big-endian: the u64's high half
    text = f"{{events=EPOLLIN, data={{u32={u32}, u64=6}}}}"
    assert line(abi, "epoll_ctl", (7, 1, 6, 0x1000), mem, 0) \
        == f"epoll_ctl(7, EPOLL_CTL_ADD, 6, {text}) = 0"
    assert line(abi, "epoll_ctl", (7, 2, 6, 0), mem, 0) \
        == "epoll_ctl(7, EPOLL_CTL_DEL, 6, NULL) = 0"
    assert line(abi, "epoll_ctl", (7, 9, 6, 0x1000), mem, -22, 22).startswith(
        "epoll_ctl(7, 0x9 /* EPOLL_CTL_??? */, 6, ")
    assert line(abi, "epoll_wait", (7, 0x1000, 4, 0xFFFFFFFF), mem, 1) \
        == f"epoll_wait(7, [{text}], 4, -1) = 1"
    assert line(abi, "epoll_pwait", (7, 0x1000, 4, 0, 0x2000, 8), mem, 0) \
        == "epoll_pwait(7, [], 4, 0, [USR1], 8) = 0"
    assert line(abi, "epoll_wait", (2**32 - 1, 0x1000, 4, 0), mem, -9, 9) \
        == "epoll_wait(-1, 0x1000, 4, 0) = -1 EBADF (Bad file descriptor)"


@on_x86_64
def test_epoll_wait_from_the_kernels_own_bytes():
    libc = ctypes.CDLL(None, use_errno=True)
    ep = libc.epoll_create1(0o2000000)
    read_end, write_end = os.pipe()
    try:
        ev = struct.pack("<IQ", 4, 0xABCDEF0123)  # EPOLLOUT, data.u64
        assert libc.epoll_ctl(ep, 1, write_end, ctypes.c_char_p(ev)) == 0
        out = ctypes.create_string_buffer(24)
        assert libc.epoll_wait(ep, out, 2, 0) == 1
    finally:
        for fd in (ep, read_end, write_end):
            os.close(fd)
    assert structs.epoll_event(out.raw[:12], X86) \
        == "{events=EPOLLOUT, data={u32=3454992675, u64=737894400291}}"


def test_netlink_sockets_and_addresses():
    nl = struct.pack("<HHII", 16, 0, 4242, 0x10)  # sockaddr_nl: family pad pid groups
    mem = decode.BytesMemory({0x1000: nl})
    assert line(X86, "bind", (3, 0x1000, 12), mem, 0) \
        == "bind(3, {sa_family=AF_NETLINK, nl_pid=4242, nl_groups=00000010}, 12) = 0"
    assert line(X86, "socket", (16, 0o2000003, 0), mem, 3) \
        == "socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_ROUTE) = 3"
    assert line(X86, "socket", (16, 3, 99), mem, 3) \
        == "socket(AF_NETLINK, SOCK_RAW, 0x63 /* NETLINK_??? */) = 3"


# -- ioctl -------------------------------------------------------------------------------
def test_an_ioctl_strace_has_no_name_for_is_shown_by_its_fields_on_each_abi():
    # _IOR('x', 1, int), _IOW('x', 2, long), _IO('x', 3), _IOWR(0xfe, 4, struct timeval)
    x86 = {0x80047801: "_IOC(_IOC_READ, 0x78, 0x1, 0x4)",
           0x40087802: "_IOC(_IOC_WRITE, 0x78, 0x2, 0x8)", 0x7803: "_IOC(_IOC_NONE, 0x78, 0x3, 0)",
           0xC010FE04: "_IOC(_IOC_READ|_IOC_WRITE, 0xfe, 0x4, 0x10)"}
    # arch/powerpc/include/uapi/asm/ioctl.h: _IOC_NONE 1, _IOC_READ 2, _IOC_WRITE 4 (<< 29)
    ppc = {0x40047801: x86[0x80047801], 0x80087802: x86[0x40087802], 0x20007803: x86[0x7803],
           0xC010FE04: x86[0xC010FE04]}
    for abi, codes in ((X86, x86), (S390, x86), (PPC, ppc)):
        for code, text in codes.items():
            assert structs.ioctl_code(code, abi) == text, (abi.name, hex(code))
    mem = decode.BytesMemory()
    assert line(X86, "ioctl", (5, 0x7803, 0), mem, -25, 25) \
        == "ioctl(5, _IOC(_IOC_NONE, 0x78, 0x3, 0), 0) = -1 ENOTTY (Inappropriate ioctl for device)"


@ABIS
def test_the_terminal_ioctls_strace_decodes(abi):
    numbers = {"FIONREAD": 0x541B, "FIOCLEX": 0x5451, "TIOCSPGRP": 0x5410, "TCFLSH": 0x540B,
               "TIOCSWINSZ": 0x5414, "TIOCGPGRP": 0x540F}
    if abi is PPC:  # arch/powerpc/include/uapi/asm/ioctls.h
        numbers.update(FIONREAD=0x4004667F, FIOCLEX=0x20006601, TIOCSPGRP=0x80047476,
                       TCFLSH=0x2000741F, TIOCSWINSZ=0x80087467, TIOCGPGRP=0x40047477)
    mem = decode.BytesMemory({0x1000: word(abi, 7, 4), 0x2000: struct.pack(
        "<HHHH" if abi.byteorder == "little" else ">HHHH", 24, 80, 0, 0)})
    assert line(abi, "ioctl", (3, numbers["FIONREAD"], 0x1000), mem, 0) \
        == "ioctl(3, FIONREAD, [7]) = 0"
    assert line(abi, "ioctl", (3, numbers["FIOCLEX"], 0), mem, 0) == "ioctl(3, FIOCLEX) = 0"
    assert line(abi, "ioctl", (3, numbers["TIOCSPGRP"], 0x1000), mem, 0) \
        == "ioctl(3, TIOCSPGRP, [7]) = 0"
    assert line(abi, "ioctl", (3, numbers["TCFLSH"], 0), mem, 0) == "ioctl(3, TCFLSH, TCIFLUSH) = 0"
    assert line(abi, "ioctl", (3, numbers["TIOCSWINSZ"], 0x2000), mem, 0) \
        == "ioctl(3, TIOCSWINSZ, {ws_row=24, ws_col=80, ws_xpixel=0, ws_ypixel=0}) = 0"
    assert line(abi, "ioctl", (3, numbers["TIOCGPGRP"], 0x1000), mem, -25, 25) \
        == "ioctl(3, TIOCGPGRP, 0x1000) = -1 ENOTTY (Inappropriate ioctl for device)"


def test_requests_two_headers_number_alike_and_a_raw_terminal():
    # soundcard.h's _IO('T', 4) is the plain 0x5404 of TCSETSF on x86_64 (not on powerpc)
    raw = struct.pack("<IIII", 0, 4, 0o277, 0o5060) + bytes(20)  # cfmakeraw's flags
    mem = decode.BytesMemory({0x1000: raw})
    assert line(X86, "ioctl", (8, 0x5404, 0x1000), mem, 0) == (
        "ioctl(8, SNDCTL_TMR_CONTINUE or TCSETSF, {c_iflag=, c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|"
        "ONLCR, c_cflag=B38400|CS8|CREAD, c_lflag=ECHOE|ECHOK|ECHOCTL|ECHOKE, ...}) = 0")
    assert line(PPC, "ioctl", (8, 0x802C7416, 0x1000), mem, 0).startswith("ioctl(8, TCSETSF, ")
    assert line(PPC, "ioctl", (8, 0x20005404, 0), mem, -25, 25).startswith(
        "ioctl(8, SNDCTL_TMR_CONTINUE, 0) = -1 ENOTTY")


def test_signalfd4_shows_its_mask_and_flags():
    mem = decode.BytesMemory({0x1000: struct.pack("<Q", 1 << 9)})
    assert line(X86, "signalfd4", (2**32 - 1, 0x1000, 8, 0o2004000), mem, 7) \
        == "signalfd4(-1, [USR1], 8, SFD_CLOEXEC|SFD_NONBLOCK) = 7"


def test_eventfd_timerfd_and_inotify_descriptors():
    mem = decode.BytesMemory({0x1000: struct.pack("<4q", 0, 0, 100, 0), 0x2000: bytes(32)})
    assert line(X86, "eventfd2", (0, 0o2004000), mem, 7) \
        == "eventfd2(0, EFD_CLOEXEC|EFD_NONBLOCK) = 7"
    assert line(X86, "timerfd_create", (1, 0o2000000), mem, 7) \
        == "timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC) = 7"
    assert line(X86, "timerfd_settime", (7, 1, 0x1000, 0x2000), mem, 0) == (
        "timerfd_settime(7, TFD_TIMER_ABSTIME, {it_interval={tv_sec=0, tv_nsec=0}, "
        "it_value={tv_sec=100, tv_nsec=0}}, {it_interval={tv_sec=0, tv_nsec=0}, "
        "it_value={tv_sec=0, tv_nsec=0}}) = 0")
    assert line(X86, "setitimer", (0, 0x1000, 0), mem, 0) == (
        "setitimer(ITIMER_REAL, {it_interval={tv_sec=0, tv_usec=0}, it_value={tv_sec=100, "
        "tv_usec=0}}, NULL) = 0")
    assert line(X86, "inotify_init1", (0o2004000,), mem, 7) \
        == "inotify_init1(IN_NONBLOCK|IN_CLOEXEC) = 7"
    # x86_64's 283 by the kernel's name (python-ptrace's table has the old "timerfd")
    assert arch_by_name("x86_64").syscall_name(283) == "timerfd_create"


def test_capget_pipe2_ipv6_options_and_protection_keys():
    head = struct.pack("<Ii", 0x20080522, 0)
    caps = struct.pack("<6I", 0x21, 0x21, 0, 0x1, 0x1, 0)  # CHOWN KILL; MAC_OVERRIDE (32)
    mem = decode.BytesMemory({0x1000: head, 0x2000: caps, 0x3000: struct.pack("<i", 0)})
    assert line(X86, "capget", (0x1000, 0x2000), mem, 0) == (
        "capget({version=_LINUX_CAPABILITY_VERSION_3, pid=0}, {effective=1<<CAP_CHOWN|"
        "1<<CAP_KILL|1<<CAP_MAC_OVERRIDE, permitted=1<<CAP_CHOWN|1<<CAP_KILL|"
        "1<<CAP_MAC_OVERRIDE, inheritable=0}) = 0")
    assert line(X86, "capget", (0x1000, 0x2000), mem, -1, 1) \
        == "capget({version=_LINUX_CAPABILITY_VERSION_3, pid=0}, 0x2000) = -1 EPERM " \
           "(Operation not permitted)"
    assert line(X86, "pipe2", (0x3000, 0o2004000), mem, 0, after={0x3000: ints(X86, 3, 4)}) \
        == "pipe2([3, 4], O_NONBLOCK|O_CLOEXEC) = 0"  # strace's open-flag order
    assert line(PPC, "pipe2", (0x3000, 0o400000), mem, 0, after={0x3000: ints(PPC, 3, 4)}) \
        == "pipe2([3, 4], O_DIRECT) = 0"  # powerpc's own O_DIRECT
    assert line(X86, "setsockopt", (5, 41, 26, 0x3000, 4), mem, 0) \
        == "setsockopt(5, SOL_IPV6, IPV6_V6ONLY, [0], 4) = 0"
    assert line(X86, "pkey_alloc", (0, 1), mem, 1) == "pkey_alloc(0, PKEY_DISABLE_ACCESS) = 1"


@ABIS
def test_socket_options_that_are_structures(abi):
    cred, size, linger = 0x1000, 0x2000, 0x3000
    mem = decode.BytesMemory({cred: ints(abi, 4242, 0, 0), size: word(abi, 12, 4),
                              linger: ints(abi, 1, 0)})
    peercred = 21 if abi is PPC else 17  # arch/powerpc/include/uapi/asm/socket.h moves it
    assert line(abi, "getsockopt", (7, 1, peercred, cred, size), mem, 0) \
        == "getsockopt(7, SOL_SOCKET, SO_PEERCRED, {pid=4242, uid=0, gid=0}, [12]) = 0"
    assert line(abi, "setsockopt", (3, 1, 13, linger, 8), mem, 0) \
        == "setsockopt(3, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=0}, 8) = 0"
    short = decode.BytesMemory({**mem.regions, size: word(abi, 4, 4)})
    assert line(abi, "getsockopt", (7, 1, peercred, cred, size), short, 0) \
        == "getsockopt(7, SOL_SOCKET, SO_PEERCRED, {pid=4242}, [4]) = 0"  # what fits


@ABIS
def test_the_interface_requests_name_the_interface_and_show_what_the_kernel_filled(abi):
    name = b"lo".ljust(16, b"\0")
    before = {0x1000: name + bytes(24)}
    index = {0x1000: name + word(abi, 1, 4) + bytes(20)}
    assert line(abi, "ioctl", (7, 0x8933, 0x1000), decode.BytesMemory(before), 0,
                after=index) == 'ioctl(7, SIOCGIFINDEX, {ifr_name="lo", ifr_ifindex=1}) = 0'
    assert line(abi, "ioctl", (7, 0x8933, 0x1000), decode.BytesMemory(before), -19, 19) \
        == 'ioctl(7, SIOCGIFINDEX, {ifr_name="lo"}) = -1 ENODEV (No such device)'
    flags_ = {0x1000: name + word(abi, 0x49, 2) + bytes(22)}
    assert line(abi, "ioctl", (7, 0x8913, 0x1000), decode.BytesMemory(before), 0,
                after=flags_).endswith("ifr_flags=IFF_UP|IFF_LOOPBACK|IFF_RUNNING}) = 0")
    hw = {0x1000: name + word(abi, 1, 2) + bytes([2, 0x42, 0xAC, 0x11, 0, 2]) + bytes(16)}
    assert line(abi, "ioctl", (7, 0x8927, 0x1000), decode.BytesMemory(before), 0,
                after=hw).endswith(
        "ifr_hwaddr={sa_family=ARPHRD_ETHER, sa_data=02:42:ac:11:00:02}}) = 0")
    assert line(abi, "ioctl", (7, 0x8933, 0x9000), decode.BytesMemory(before), -14, 14) \
        == "ioctl(7, SIOCGIFINDEX, 0x9000) = -1 EFAULT (Bad address)"


# -- waitid / wait4 ------------------------------------------------------------------------
def sigchld(abi, pid: int, status: int) -> bytes:
    """siginfo_t of a child's exit: signo errno code, then si_pid si_uid si_status at 16."""
    head = ints(abi, 17, 0, 1) + bytes(4) + ints(abi, pid, 0, status) + bytes(4)
    return head + word(abi, 0) + word(abi, 0) + bytes(128 - 48)


@ABIS
def test_waitid_shows_the_siginfo_the_kernel_wrote(abi):
    before = decode.BytesMemory({0x1000: bytes(128)})
    after = {0x1000: sigchld(abi, 4242, 3)}
    assert line(abi, "waitid", (1, 4242, 0x1000, 4, 0), before, 0, after=after) == (
        "waitid(P_PID, 4242, {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=4242, si_uid=0, "
        "si_status=3, si_utime=0, si_stime=0}, WEXITED, NULL) = 0")
    assert line(abi, "waitid", (0, 0, 0x1000, 5, 0), before, 0) \
        == "waitid(P_ALL, 0, {}, WNOHANG|WEXITED, NULL) = 0"  # WNOHANG, nobody ready
    assert line(abi, "waitid", (0, 0, 0x1000, 4, 0), before, -10, 10) \
        == "waitid(P_ALL, 0, 0x1000, WEXITED, NULL) = -1 ECHILD (No child processes)"


@ABIS
def test_wait4_shows_the_childs_rusage_and_nothing_when_none_was_ready(abi):
    usage = word(abi, 1) + word(abi, 5) + word(abi, 0) + word(abi, 7) + b"".join(
        word(abi, k) for k in range(14))
    mem = decode.BytesMemory({0x1000: word(abi, 0, 4), 0x2000: usage})
    assert line(abi, "wait4", (9, 0x1000, 0, 0x2000), mem, 9) == (
        "wait4(9, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, {ru_utime={tv_sec=1, "
        "tv_usec=5}, ru_stime={tv_sec=0, tv_usec=7}, ...}) = 9")
    assert line(abi, "wait4", (9, 0x1000, 0, 0x2000), mem, 9,
                options=TraceOptions(verbose=True)).endswith(
        "ru_stime={tv_sec=0, tv_usec=7}, ru_maxrss=0, ru_ixrss=1, ru_idrss=2, ru_isrss=3, "
        "ru_minflt=4, ru_majflt=5, ru_nswap=6, ru_inblock=7, ru_oublock=8, ru_msgsnd=9, "
        "ru_msgrcv=10, ru_nsignals=11, ru_nvcsw=12, ru_nivcsw=13}) = 9")
    assert line(abi, "wait4", (-1, 0x1000, 1, 0x2000), mem, 0) \
        == "wait4(-1, 0x1000, WNOHANG, 0x2000) = 0"


@on_x86_64
def test_rusage_from_the_kernels_own_bytes():
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(structs.RUSAGE_SIZE)
    assert libc.getrusage(0, buf) == 0  # RUSAGE_SELF: the same struct wait4 fills
    utime, maxrss = struct.unpack_from("<qq", buf.raw, 0), struct.unpack_from("<q", buf.raw, 32)
    text = structs.rusage(buf.raw, X86, verbose=True)
    assert text.startswith(f"{{ru_utime={{tv_sec={utime[0]}, tv_usec={utime[1]}}}, ru_stime=")
    assert f"ru_maxrss={maxrss[0]}," in text and text.count("=") == 20


# -- the layouts against each arch's own C headers -------------------------------------------


def layout_checks(abi) -> str:
    """C static assertions that the target's headers agree with what the decoders assume."""
    ppc = abi.name.startswith("ppc")
    checks = {
        "sizeof(struct msghdr)": calls.MSGHDR_SIZE,
        "offsetof(struct msghdr, msg_namelen)": 8, "offsetof(struct msghdr, msg_iov)": 16,
        "offsetof(struct msghdr, msg_iovlen)": 24, "offsetof(struct msghdr, msg_control)": 32,
        "offsetof(struct msghdr, msg_controllen)": 40, "offsetof(struct msghdr, msg_flags)": 48,
        "sizeof(struct mmsghdr)": calls.MMSGHDR_SIZE,
        "offsetof(struct mmsghdr, msg_len)": calls.MSGHDR_SIZE,
        "sizeof(struct cmsghdr)": calls.CMSG_HEADER, "offsetof(struct cmsghdr, cmsg_level)": 8,
        "offsetof(struct cmsghdr, cmsg_type)": 12, "CMSG_ALIGN(1)": abi.word_size,
        "sizeof(struct ucred)": 12, "sizeof(struct iovec)": 16,
        "sizeof(struct epoll_event)": structs.epoll_event_size(abi),
        "offsetof(struct epoll_event, data)": 4 if abi.epoll_packed else 8,
        "sizeof(struct rusage)": structs.RUSAGE_SIZE, "offsetof(struct rusage, ru_maxrss)": 32,
        "sizeof(__fd_mask)": abi.word_size, "sizeof(siginfo_t)": 128,
        "sizeof(struct pollfd)": 8, "sizeof(struct winsize)": 8,
        "_IOR('x', 1, int)": 0x40047801 if ppc else 0x80047801,
        "_IOW('x', 2, long)": 0x80087802 if ppc else 0x40087802,
        "_IO('x', 3)": 0x20007803 if ppc else 0x7803,
        "FIONREAD": 0x4004667F if ppc else 0x541B,
        "FIOCLEX": 0x20006601 if ppc else 0x5451, "TIOCSPGRP": 0x80047476 if ppc else 0x5410,
        "TCFLSH": 0x2000741F if ppc else 0x540B, "TIOCOUTQ": 0x40047473 if ppc else 0x5411,
        "TIOCSPTLCK": 0x40045431 if not ppc else 0x80045431,
    }
    if not ppc:  # powerpc's TCSETSF is _IOW('t', 22, struct termios): the kernel's 44-byte
        checks["TCSETSF"] = 0x5404  # termios, not glibc's 60-byte one these headers would use
    head = "".join(f"#include <{h}>\n" for h in (
        "stddef.h", "sys/socket.h", "sys/uio.h", "sys/epoll.h", "sys/resource.h",
        "sys/select.h", "signal.h", "poll.h", "sys/ioctl.h", "termios.h", "sys/wait.h",
        "sys/eventfd.h", "sys/timerfd.h", "sys/signalfd.h", "sys/inotify.h", "netinet/in.h",
        "linux/netlink.h", "linux/capability.h", "linux/sockios.h"))
    head += "#if __has_include(<linux/soundcard.h>)\n#include <linux/soundcard.h>\n#endif\n"
    # Every request the decoders name, where the target's headers define it (their sizes
    # aside: termios2 and serial_iso7816 are the kernel's, not in these headers; powerpc's
    # termios requests are sized by the kernel's struct termios, see above).
    names = {name: code for code, name in calls.ioctl_table(abi.name).items()
             if not name.endswith("2") and "ISO7816" not in name
             and not (ppc and name in ("TCGETS", "TCSETS", "TCSETSW", "TCSETSF"))}
    if not ppc:
        names.update({name: code for code, name in calls.IOCTL_ALSO.items()})
    for table in (decode.tables.MSG_FLAGS, structs.EPOLL_EVENTS, structs.POLL_EVENTS,
                  decode.tables.WAIT_OPTIONS, calls.EVENTFD_FLAGS, calls.TIMERFD_FLAGS,
                  calls.SIGNALFD_FLAGS, calls.INOTIFY_FLAGS):  # the flags, by name
        names.update({name: bits for bits, name in table})
    for table in (calls.SCM_TYPES, calls.EPOLL_CTLS, calls.IP_CMSG_TYPES,
                  decode.tables.SOCKET_LEVELS, decode.tables.NETLINK_PROTOCOLS,
                  decode.tables.IP_OPTIONS, decode.tables.IPV6_OPTIONS, calls.CAP_VERSIONS,
                  abi.socket_options):
        names.update({name: value for value, name in table.items()})
    names.update({name: bit for bit, name in enumerate(decode.tables.CAPABILITIES)})
    named = "".join(f'#ifdef {name}\n_Static_assert({name} == {code:#x}u, "{name}");\n#endif\n'
                    for name, code in names.items())
    return "#define _GNU_SOURCE\n" + head + named + "".join(
        f'_Static_assert(({expr}) == {value:#x}u, "{expr} is not {value:#x}");\n'
        for expr, value in checks.items())


@pytest.mark.parametrize("abi", [X86, PPC, S390], ids=["x86_64", "ppc64le", "s390x"])
def test_the_layouts_agree_with_the_targets_own_headers(abi, tmp_path):
    assert_compiles(abi.name, layout_checks(abi), tmp_path / "layout.c")
