"""-P PATH, -e read=/write= and -E parsed (no processes), and their pure parts: strace's
path rules (engines/path_trace.py) and its hex dump (engines/io_dump.py).

The error texts are strace 6.1's, seen by running it (``strace -e read=x true``).
"""

from __future__ import annotations

import pytest
from pydbg_utrace.engines.io_dump import dump, hex_lines
from pydbg_utrace.engines.path_trace import PathFilter, path_set

from pydbg_utrace.strace_options import UsageError, parse


def request(*argv):
    return parse([*argv, "prog"], "x86_64")


def error(*argv):
    with pytest.raises(UsageError) as caught:
        parse([*argv, "prog"], "x86_64")
    return str(caught.value)


# -- parsing --------------------------------------------------------------------------
def test_paths_repeat_and_resolve(tmp_path):
    link = tmp_path / "pw"
    link.symlink_to("/etc/passwd")
    got = request("-P", "/nonexist", "--trace-path", str(link))
    assert got.options.paths == frozenset({"/nonexist", str(link), "/etc/passwd"})
    assert got.warnings == (f'Requested path "{link}" resolved into "/etc/passwd"',)
    assert request().options.paths is None


@pytest.mark.parametrize("text, inside, outside", [
    ("read=3", {3}, {0, 4}),
    ("read=3,,5", {3, 5}, {4}),
    ("read=+3", {3}, {4}),
    ("read=all", {0, 3, 1000}, set()),
    ("read=!3", {0, 4}, {3}),
    ("read=!none", {0, 9}, set()),
])
def test_descriptor_sets(text, inside, outside):
    fds = request("-e", text).options.read_fds
    assert all(fd in fds for fd in inside)
    assert not any(fd in fds for fd in outside)


@pytest.mark.parametrize("text", ["read=none", "read=!all"])
def test_empty_descriptor_sets_dump_nothing(text):
    assert request("-e", text).options.read_fds is None


def test_write_and_long_spellings():
    got = request("--write=1", "--read=0").options
    assert 1 in got.write_fds and 2 not in got.write_fds and 0 in got.read_fds


@pytest.mark.parametrize("text, message", [  # strace 6.1's words, value for value
    ("read=,", "invalid descriptor ','"),
    ("read=", "invalid descriptor ''"),
    ("read=!", "invalid descriptor '!'"),
    ("read=-1", "invalid descriptor '-1'"),
    ("read=1-3", "invalid descriptor '1-3'"),
    ("read=3 ", "invalid descriptor '3 '"),
    ("read=all,3", "invalid descriptor 'all'"),
    ("read=2147483648", "invalid descriptor '2147483648'"),
    ("write=x", "invalid descriptor 'x'"),
])
def test_bad_descriptor_sets(text, message):
    assert error("-e", text) == message


def test_missing_arguments():
    for letter in "PE":
        with pytest.raises(UsageError) as caught:
            parse([f"-{letter}"], "x86_64")
        assert str(caught.value) == f"option requires an argument -- '{letter}'"


def test_environment_changes_in_order():
    got = request("-E", "A=1", "-E", "HOME", "--env=B=x=y", "-E", "A=2")
    assert got.env == (("A", "1"), ("HOME", None), ("B", "x=y"), ("A", "2"))
    assert got.environment({"HOME": "/root", "PATH": "/bin"}) == {
        "PATH": "/bin", "A": "2", "B": "x=y"}
    assert request().environment({"A": "1"}) is None  # no -E: ours as it is


# -- strace's path rules -----------------------------------------------------------------
class FakeMemory:
    def __init__(self, strings: dict[int, bytes], words: dict[int, bytes] | None = None):
        self.strings, self.words = strings, words or {}

    def read_string(self, address, limit):
        if address not in self.strings:
            raise OSError("unmapped")
        return self.strings[address], True

    def read(self, address, size):
        return self.words[address][:size]


LINKS = {3: "/etc/passwd", 4: "/tmp/other"}
PASSWD = 0x1000
OTHER = 0x2000
MEMORY = FakeMemory({PASSWD: b"/etc/passwd", OTHER: b"/etc/group"})
FDCWD = 2**64 - 100


@pytest.mark.parametrize("name, args, matched", [
    ("openat", (FDCWD, PASSWD, 0), True),        # fd, path
    ("openat", (FDCWD, OTHER, 0), False),        # AT_FDCWD is no fd, even if cwd matched
    ("open", (PASSWD, 0), True),                 # %file: the first argument is a path
    ("read", (3, 0, 10), True),                  # %desc: the first argument is an fd
    ("read", (4, 0, 10), False),
    ("close", (3,), True),
    ("mmap", (0, 4096, 1, 2, 3, 0), True),       # the fd is the fifth
    ("mmap", (0, 4096, 1, 2, 2**64 - 1, 0), False),
    ("dup2", (4, 3), True),                      # fd, fd
    ("renameat", (FDCWD, OTHER, FDCWD, PASSWD), True),
    ("symlinkat", (OTHER, FDCWD, PASSWD), True),  # x, fd, path: the target is not a path
    ("symlinkat", (PASSWD, FDCWD, OTHER), False),
    ("getpid", (), False),                       # not in %file/%desc/%network
    ("pipe2", (0, 0), False),                    # in %desc, but nothing to test
    ("execve", (PASSWD, 0, 0), True),
])
def test_which_calls_access_a_path(name, args, matched):
    paths = PathFilter({"/etc/passwd"}, "x86_64")
    assert paths.matches(name, args, MEMORY, LINKS.get) is matched


def test_poll_and_select_look_at_each_fd():
    pollfds = (4).to_bytes(4, "little", signed=True) + bytes(4) + \
        (3).to_bytes(4, "little") + bytes(4)
    fdset = (1 << 3).to_bytes(8, "little")
    memory = FakeMemory({}, {0x10: pollfds, 0x18: pollfds[8:], 0x40: fdset})
    paths = PathFilter({"/etc/passwd"}, "x86_64")
    assert paths.matches("poll", (0x10, 2, 0), memory, LINKS.get)
    assert not paths.matches("poll", (0x10, 1, 0), memory, LINKS.get)
    assert paths.matches("select", (4, 0x40, 0, 0, 0), memory, LINKS.get)
    assert not paths.matches("select", (3, 0x40, 0, 0, 0), memory, LINKS.get)  # bit 3 >= nfds


def test_big_endian_sets_and_arrays():  # ppc64 and s390x: the fd_set's longs, pollfd's int
    fdset = (1 << 3).to_bytes(8, "big")
    pollfd = (3).to_bytes(4, "big") + bytes(4)
    memory = FakeMemory({}, {0x40: fdset, 0x10: pollfd})
    paths = PathFilter({"/etc/passwd"}, "s390x")
    assert paths.matches("select", (4, 0x40, 0, 0, 0), memory, LINKS.get, 8, "big")
    assert paths.matches("poll", (0x10, 1, 0), memory, LINKS.get, 8, "big")
    assert not paths.matches("poll", (0x10, 1, 0), memory, LINKS.get, 8, "little")


def test_a_missing_path_is_kept_as_given():  # (strace's realpath() fails: no note)
    assert path_set(["/no/such", "/no/such"]) == (frozenset({"/no/such"}), [])


# -- strace's hex dump -----------------------------------------------------------------
def test_hex_lines_as_strace_prints_them():  # lines copied from strace 6.1's output
    assert hex_lines(b"vm\n") == (
        " | 00000  76 6d 0a                                          vm.              |\n")
    assert hex_lines(b"12345678901234567") == (
        " | 00000  31 32 33 34 35 36 37 38  39 30 31 32 33 34 35 36  1234567890123456 |\n"
        " | 00010  37                                                7                |\n")
    assert hex_lines(b"\x7fELF\x02\x01\x01\x03" + bytes(8)) == (
        " | 00000  7f 45 4c 46 02 01 01 03  00 00 00 00 00 00 00 00  .ELF............ |\n")
    assert hex_lines(b"") == ""


def test_what_is_dumped():
    memory = FakeMemory({}, {0x100: b"hello world", 0x200: (
        (0x100).to_bytes(8, "little") + (5).to_bytes(8, "little")
        + (0x106).to_bytes(8, "little") + (0).to_bytes(8, "little")
        + (0x106).to_bytes(8, "little") + (5).to_bytes(8, "little")), 0x210: (
        (0x106).to_bytes(8, "little") + (0).to_bytes(8, "little")), 0x106: b"world"})
    reads, writes = {3}, {1}
    assert dump("read", (3, 0x100, 100), 5, reads, writes, memory) == hex_lines(b"hello")
    assert dump("read", (4, 0x100, 100), 5, reads, writes, memory) == ""
    assert dump("write", (1, 0x100, 11), 2, reads, writes, memory) == hex_lines(b"hello world")
    assert dump("write", (3, 0x100, 11), 11, reads, writes, memory) == ""  # 3 is read= only
    # writev: every buffer up to the first empty one, each under its number
    assert dump("writev", (1, 0x200, 3), 5, reads, writes, memory) == (
        " * 5 bytes in buffer 0\n" + hex_lines(b"hello"))
    assert dump("readv", (3, 0x200, 1), 3, reads, writes, memory) == (
        " * 3 bytes in buffer 0\n" + hex_lines(b"hel"))
    assert dump("getpid", (1,), 0, reads, writes, memory) == ""


def test_detach_on_execve():
    assert request("-b", "execve").options.detach_on_execve
    assert request("--detach-on=execve").options.detach_on_execve
    assert not request().options.detach_on_execve
    assert error("-b", "exec") == "Syscall 'exec' for -b isn't supported"  # strace 6.1's words
    assert error("--detach-on=fork") == "Syscall 'fork' for -b isn't supported"
