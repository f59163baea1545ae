"""Unit tests of engines/decode: strace's text from real bytes, no tracee.

The x86_64 structures are the bytes this host's kernel writes (the calls are
made here through ctypes); the powerpc and s390x ones are laid out by their
uapi headers (a note says which), since this host cannot make their kernel
write them.
"""

from __future__ import annotations

import ctypes
import os
import platform
import resource
import signal
import socket
import struct

import pytest
from pydbg_utrace.engines.decode import (
    BytesMemory,
    abi_for,
    death_line,
    decode_entry,
    decode_exit,
    errno_text,
    execve_from_stack,
    format_result,
    quote,
    siginfo,
    structs,
)
from pydbg_utrace.engines.trace_options import TraceOptions

X86 = abi_for("x86_64")
on_x86_64 = pytest.mark.skipif(platform.machine() != "x86_64",
                               reason="the kernel's own bytes are x86_64 ones on this host only")
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def sys_call(nr: int, *args) -> int:
    result = libc.syscall(ctypes.c_long(nr), *(ctypes.c_long(a) if isinstance(a, int) else a
                                               for a in args))
    assert result >= 0, os.strerror(ctypes.get_errno())
    return result


def line(abi, name, args, mem, rval, error=None, options=None, sp=0) -> str:
    pending = decode_entry(abi, name, args, mem, options, sp)
    return (pending.entry_text + decode_exit(pending, rval, error) + " = "
            + format_result(pending, name, rval, error))


# -- strings ---------------------------------------------------------------------------------
def test_quote_uses_short_octal_unless_a_digit_follows():
    assert quote(b"\x7fELF\x02\x01") == '"\\177ELF\\2\\1"'
    assert quote(b"\x001") == '"\\0001"'  # "\01" would read as one escape
    assert quote(b'a"b\\c\n\t\r\x0b\x0c') == '"a\\"b\\\\c\\n\\t\\r\\v\\f"'


def test_quote_in_hex_with_x_and_xx():
    assert quote(b"ab\n", hex_strings=1) == '"ab\\n"'  # white space does not force hex
    assert quote(b"ab\x01", hex_strings=1) == '"\\x61\\x62\\x01"'
    assert quote(b"ab", hex_strings=2) == '"\\x61\\x62"'


def test_a_buffer_longer_than_the_limit_is_cut_with_an_ellipsis():
    mem = BytesMemory({0x1000: b"0123456789abcdef"})
    assert line(X86, "write", (1, 0x1000, 16), mem, 16, options=TraceOptions(string_limit=4)) \
        == 'write(1, "0123"..., 16) = 16'
    assert line(X86, "write", (1, 0x1000, 4), mem, 4, options=TraceOptions(string_limit=4)) \
        == 'write(1, "0123", 4) = 4'


def test_read_shows_what_the_kernel_wrote_at_exit_and_the_address_on_failure():
    mem = BytesMemory({0x2000: b"hello\0garbage"})
    pending = decode_entry(X86, "read", (3, 0x2000, 832), mem)
    assert pending.entry_text == "read(3, "
    assert decode_exit(pending, 5, None) == '"hello", 832)'
    assert line(X86, "read", (3, 0x2000, 832), mem, -9, 9) \
        == "read(3, 0x2000, 832) = -1 EBADF (Bad file descriptor)"


def test_an_unreadable_path_is_shown_as_its_address():
    assert line(X86, "openat", (2**64 - 100, 0xDEAD0000, 0, 0), BytesMemory(), -14, 14) \
        == "openat(AT_FDCWD, 0xdead0000, O_RDONLY) = -1 EFAULT (Bad address)"


# -- numbers and flags -------------------------------------------------------------------
def test_mmap_of_the_issue_with_signed_fd_and_named_flags():
    assert line(X86, "mmap", (0, 8192, 3, 34, 0xFFFFFFFF, 0), BytesMemory(), 0x7FD2CE05F000) \
        == ("mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)"
            " = 0x7fd2ce05f000")
    assert line(X86, "mprotect", (0x7000, 4096, 0), BytesMemory(), 0) \
        == "mprotect(0x7000, 4096, PROT_NONE) = 0"


def test_openat_shows_its_mode_only_when_it_creates():
    mem = BytesMemory({0x1000: b"/tmp/x\0"})
    assert line(X86, "openat", (2**64 - 100, 0x1000, 0o1101, 0o644), mem, 3) \
        == 'openat(AT_FDCWD, "/tmp/x", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 3'
    assert line(X86, "openat", (5, 0x1000, 0o2200000, 0o644), mem, 3) \
        == 'openat(5, "/tmp/x", O_RDONLY|O_CLOEXEC|O_DIRECTORY) = 3'  # strace's order'


def test_access_at_flags_socket_and_futex():
    mem = BytesMemory({0x1000: b"/etc/ld.so.preload\0"})
    assert line(X86, "access", (0x1000, 4), mem, -2, 2) \
        == 'access("/etc/ld.so.preload", R_OK) = -1 ENOENT (No such file or directory)'
    assert line(X86, "socket", (1, 0o2004001, 0), mem, 3) \
        == "socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, 0) = 3"
    assert line(X86, "socket", (2, 2, 17), mem, 3) == "socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP) = 3"
    assert line(X86, "futex", (0x7F00, 0x189, 7, 0, 0, 0xFFFFFFFF), mem, 0) \
        == "futex(0x7f00, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 7, NULL, " \
           "FUTEX_BITSET_MATCH_ANY) = 0"
    assert line(X86, "futex", (0x7F00, 0x81, 2147483647), mem, 0) \
        == "futex(0x7f00, FUTEX_WAKE_PRIVATE, 2147483647) = 0"


def test_clone_flags_end_with_the_exit_signal():
    assert line(X86, "clone", (0x1200011, 0, 0, 0x7F10, 0), BytesMemory(), 42) \
        == ("clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, "
            "child_tidptr=0x7f10) = 42")


def test_kill_wait4_and_calls_that_never_return():
    mem = BytesMemory({0x3000: struct.pack("<i", 9)})
    assert line(X86, "kill", (7, 9), mem, 0) == "kill(7, SIGKILL) = 0"
    assert line(X86, "wait4", (7, 0x3000, 1, 0), mem, 7) \
        == "wait4(7, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}], WNOHANG, NULL) = 7"
    assert decode_entry(X86, "exit_group", (0,), mem).entry_text == "exit_group(0"


def test_results_errors_and_the_kernels_restart_codes():
    assert errno_text(2) == "-1 ENOENT (No such file or directory)"
    assert errno_text(514) == "? ERESTARTNOHAND (To be restarted if no handler)"
    assert format_result(None, "brk", 0x55D39DDDC000, None) == "0x55d39dddc000"
    assert format_result(None, "getpid", 4242, None) == "4242"
    pending = decode_entry(X86, "fcntl", (3, 1), BytesMemory())
    assert pending.entry_text == "fcntl(3, F_GETFD"
    assert format_result(pending, "fcntl", 1, None) == "0x1 (flags FD_CLOEXEC)"


def test_rt_sigaction_and_sigprocmask_sets():
    act = struct.pack("<QQQQ", 0x5607448611B9, 0x14000000, 0x7FB79DB2E050, 0)
    old = struct.pack("<QQQQ", 0, 0, 0, 0)
    mem = BytesMemory({0x1000: act, 0x2000: old, 0x3000: struct.pack("<Q", 0xFFFFFFFFFFFFFFFF),
                       0x4000: struct.pack("<Q", (1 << 31) | (1 << 32))})
    assert line(X86, "rt_sigaction", (10, 0x1000, 0x2000, 8), mem, 0) \
        == ("rt_sigaction(SIGUSR1, {sa_handler=0x5607448611b9, sa_mask=[], "
            "sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=0x7fb79db2e050}, "
            "{sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8) = 0")
    assert line(X86, "rt_sigprocmask", (0, 0x3000, 0x4000, 8), mem, 0) \
        == "rt_sigprocmask(SIG_BLOCK, ~[], [RTMIN RT_1], 8) = 0"


def test_execve_shows_argv_and_counts_envp():
    argv = struct.pack("<QQQ", 0x1100, 0x1110, 0)
    envp = struct.pack("<QQQ", 0x1100, 0x1110, 0)
    mem = BytesMemory({0x1000: b"/bin/ls\0", 0x1100: b"ls\0", 0x1110: b"-la\0",
                       0x2000: argv, 0x3000: envp})
    assert line(X86, "execve", (0x1000, 0x2000, 0x3000), mem, 0) \
        == 'execve("/bin/ls", ["ls", "-la"], 0x3000 /* 2 vars */) = 0'
    assert line(X86, "execve", (0x1000, 0x2000, 0x3000), mem, 0,
                options=TraceOptions(verbose=True)) \
        == 'execve("/bin/ls", ["ls", "-la"], ["ls", "-la"]) = 0'


def test_the_launch_execve_is_rebuilt_from_the_new_stack():
    sp = 0x7000
    stack = struct.pack("<Q", 1) + struct.pack("<QQ", 0x1100, 0)   # argc, argv[0], NULL
    stack += struct.pack("<QQ", 0x1200, 0)                          # envp[0], NULL
    stack += struct.pack("<QQQQQQ", 6, 4096, 31, 0x1000, 0, 0)       # AT_PAGESZ, AT_EXECFN
    mem = BytesMemory({0x1000: b"/bin/true\0", 0x1100: b"true\0", 0x1200: b"A=1\0", sp: stack})
    pending = execve_from_stack(X86, mem, sp)
    assert pending.entry_text == f'execve("/bin/true", ["true"], {sp + 24:#x} /* 1 var */'
    assert decode_exit(pending, 0, None) == ")"


def test_clone3_prints_its_struct_at_entry_and_parent_tid_at_exit():
    flags = 0x3D0F00
    args = struct.pack("<11Q", flags, 0, 0x7F90, 0x7F90, 0, 0x7E00, 0x7FFF80, 0x7FC0, 0, 0, 0)
    mem = BytesMemory({0x5000: args, 0x7F90: struct.pack("<i", 4321)})
    pending = decode_entry(X86, "clone3", (0x5000, 88), mem)
    assert pending.entry_text == (
        "clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|"
        "CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7f90, "
        "parent_tid=0x7f90, exit_signal=0, stack=0x7e00, stack_size=0x7fff80, tls=0x7fc0}")
    assert decode_exit(pending, 4321, None) == " => {parent_tid=[4321]}, 88)"
    assert len(pending.arguments) == 2 and pending.arguments[0].endswith(
        "tls=0x7fc0} => {parent_tid=[4321]}") and pending.arguments[1] == "88"


def test_the_arguments_one_by_one_for_json():
    mem = BytesMemory({0x2000: b"hello"})
    pending = decode_entry(X86, "read", (3, 0x2000, 832), mem)
    assert pending.arguments == ["3"]
    decode_exit(pending, 5, None)
    assert pending.arguments == ["3", '"hello"', "832"]


# -- the kernel's own bytes (x86_64) --------------------------------------------------------
@on_x86_64
def test_stat_of_a_file_and_a_device_from_the_kernels_bytes(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 1234)
    os.chmod(path, 0o640)
    device = "{st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), ...}"
    for target, expected in ((str(path), "{st_mode=S_IFREG|0640, st_size=1234, ...}"),
                             ("/dev/null", device)):
        buf = ctypes.create_string_buffer(144)
        sys_call(262, -100, target.encode(), buf, 0)  # newfstatat
        assert structs.stat(buf.raw, X86) == expected


@on_x86_64
def test_rlimit_uname_and_sockaddr_from_the_kernels_bytes():
    buf = ctypes.create_string_buffer(16)
    sys_call(302, 0, resource.RLIMIT_NOFILE, 0, buf)  # prlimit64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert structs.rlimit(buf.raw, X86) == (f"{{rlim_cur={structs.rlim_value(soft)}, "
                                             f"rlim_max={structs.rlim_value(hard)}}}")
    uts = ctypes.create_string_buffer(390)
    sys_call(63, uts)  # uname
    assert structs.utsname(uts.raw) == \
        f'{{sysname="{os.uname().sysname}", nodename="{os.uname().nodename}", ...}}'
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        name, size = ctypes.create_string_buffer(128), ctypes.c_uint(128)
        assert libc.getsockname(s.fileno(), name, ctypes.byref(size)) == 0
        assert structs.sockaddr(name.raw[:size.value], X86) == (
            f'{{sa_family=AF_INET, sin_port=htons({s.getsockname()[1]}), '
            f'sin_addr=inet_addr("127.0.0.1")}}')


@on_x86_64
def test_sigchld_siginfo_and_wait_status_of_a_killed_child():
    pid = os.fork()
    if pid == 0:
        os.kill(os.getpid(), signal.SIGKILL)
    info = ctypes.create_string_buffer(128)
    # waitid(P_PID, pid, &info, WEXITED|WNOWAIT): the kernel's SIGCHLD siginfo
    sys_call(247, 1, pid, info, 4 | 0x01000000, 0)
    _, status = os.waitpid(pid, 0)
    text = siginfo(info.raw, X86)
    assert text.startswith(f"{{si_signo=SIGCHLD, si_code=CLD_KILLED, si_pid={pid}, "
                           f"si_uid={os.getuid()}, si_status=SIGKILL, si_utime="), text
    assert structs.wait_status(status) == "[{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}]"
    assert death_line(status) == "+++ killed by SIGKILL +++"
    assert death_line(3 << 8) == "+++ exited with 3 +++"


@on_x86_64
def test_getdents64_counts_the_entries_the_kernel_wrote(tmp_path):
    for name in ("a", "b", "c"):
        (tmp_path / name).touch()
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        buf = ctypes.create_string_buffer(4096)
        n = sys_call(217, fd, buf, 4096)  # getdents64
    finally:
        os.close(fd)
    assert structs.dirent64_count(buf.raw[:n], X86) == 5  # with . and ..
    assert '"a"' in structs.dirents64(buf.raw[:n], X86)


@on_x86_64
def test_termios_of_a_fresh_terminal_and_statfs_from_the_kernels_bytes():
    controller, terminal = os.openpty()
    try:
        buf = ctypes.create_string_buffer(structs.TERMIOS_SIZE)
        sys_call(16, terminal, 0x5401, buf)  # ioctl(TCGETS)
    finally:
        os.close(terminal)
        os.close(controller)
    # a new pty's line discipline defaults (drivers/tty/tty_io.c tty_std_termios)
    assert structs.termios(buf.raw, X86) == (
        "{c_iflag=ICRNL|IXON, c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|OPOST|ONLCR, "
        "c_cflag=B38400|CS8|CREAD, c_lflag=ISIG|ICANON|ECHO|ECHOE|ECHOK|IEXTEN|ECHOCTL|ECHOKE, "
        "...}")
    assert structs.termios(buf.raw, X86, verbose=True).endswith("[17]=0, [18]=0]}")
    fs = ctypes.create_string_buffer(structs.STATFS_SIZE)
    sys_call(137, b"/proc", fs)  # statfs
    text = structs.statfs(fs.raw, X86)
    assert text.startswith("{f_type=PROC_SUPER_MAGIC, f_bsize=") and "f_flags=ST_VALID" in text


# -- the other ABIs (layouts from their uapi headers) ----------------------------------------
def test_powerpc_open_and_mmap_flags_have_their_own_values():
    ppc = abi_for("ppc64le")
    mem = BytesMemory({0x1000: b"/d\0"})
    # arch/powerpc/include/uapi/asm/fcntl.h: O_DIRECTORY 040000, O_NOFOLLOW 0100000
    assert line(ppc, "openat", (2**64 - 100, 0x1000, 0o140000, 0), mem, 3) \
        == 'openat(AT_FDCWD, "/d", O_RDONLY|O_NOFOLLOW|O_DIRECTORY) = 3'
    # MAP_NORESERVE is 0x40 there (0x4000 on x86_64)
    assert line(ppc, "mmap", (0, 4096, 1, 0x42, 0xFFFFFFFF, 0), mem, 0x7000) \
        == "mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_NORESERVE, -1, 0) = 0x7000"


def test_s390x_clone_takes_the_stack_first_and_stat_is_big_endian():
    s390 = abi_for("s390x")
    assert line(s390, "clone", (0, 0x1200011, 0, 0x7F10, 0), BytesMemory(), 42) \
        == ("clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, "
            "child_tidptr=0x7f10) = 42")
    # arch/s390/include/uapi/asm/stat.h: dev ino nlink (longs), mode uid gid pad (ints),
    # rdev size (longs) -- big-endian
    raw = struct.pack(">QQQIIIIQQ", 0, 1, 1, 0o100755, 0, 0, 0, 0, 99) + bytes(144 - 56)
    assert structs.stat(raw, s390) == "{st_mode=S_IFREG|0755, st_size=99, ...}"
    # a big-endian sigset is an array of longs: SIGCHLD is bit 16 of the first one
    assert structs.sigset(struct.pack(">Q", 1 << 16), s390) == "[CHLD]"


def test_an_unknown_arch_is_a_clear_error():
    with pytest.raises(KeyError, match="no decoding ABI for 'vax'"):
        abi_for("vax")
