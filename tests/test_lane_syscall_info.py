"""SyscallInfo.from_raw: the decode the lane runs at every read stop, against the struct's layout.

``struct ptrace_syscall_info`` (include/uapi/linux/ptrace.h) packed field by
field here with the kernel's own layout -- op, 3 bytes, arch, instruction and
stack pointer, then the op's union -- and decoded from bytes and from a ctypes
buffer (kernel.get_syscall_info decodes its request's buffer in place, without
a copy).  Pure: no process (the live tests read real stops through it).
"""

from __future__ import annotations

import ctypes
import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from pydbg_utrace import kernel

U32 = st.integers(0, 2**32 - 1)
U64 = st.integers(0, 2**64 - 1)
HEAD = struct.Struct("=BBHIQQ")  # op, reserved, flags, arch, instruction_pointer, stack_pointer


def packed(op: int, arch: int, ip: int, sp: int, union: bytes, junk: int) -> bytes:
    body = HEAD.pack(op, 0, 0, arch, ip, sp) + union
    return body + bytes([junk]) * (96 - len(body))  # what an earlier request left in the buffer


def as_buffer(raw: bytes):
    return (ctypes.c_ubyte * len(raw)).from_buffer_copy(raw)


def fields(info: kernel.SyscallInfo) -> tuple:
    return tuple(getattr(info, name) for name in kernel.SyscallInfo.__slots__)


@settings(max_examples=200, derandomize=True)
@given(op=st.sampled_from([kernel.PTRACE_SYSCALL_INFO_ENTRY, kernel.PTRACE_SYSCALL_INFO_SECCOMP]),
       arch=U32, ip=U64, sp=U64, nr=U64, args=st.tuples(*[U64] * 6), junk=st.integers(0, 255))
def test_an_entry_or_seccomp_stop_gives_its_number_and_six_arguments(op, arch, ip, sp, nr, args,
                                                                      junk):
    raw = packed(op, arch, ip, sp, struct.pack("=7QI", nr, *args, 0xDEAD), junk)
    want = (op, arch, ip, sp, nr, args, 0, False)
    for source in (raw, as_buffer(raw)):
        info = kernel.SyscallInfo.from_raw(source)
        assert fields(info) == want
        assert type(info.args) is tuple and type(info.is_error) is bool


@settings(max_examples=200, derandomize=True)
@given(arch=U32, ip=U64, sp=U64, rval=st.integers(-2**63, 2**63 - 1),
       is_error=st.integers(0, 1), junk=st.integers(0, 255))
def test_an_exit_stop_gives_its_signed_result_and_whether_it_failed(arch, ip, sp, rval, is_error,
                                                                   junk):
    raw = packed(kernel.PTRACE_SYSCALL_INFO_EXIT, arch, ip, sp, struct.pack("=qB", rval, is_error),
                 junk)
    want = (kernel.PTRACE_SYSCALL_INFO_EXIT, arch, ip, sp, -1, (), rval, bool(is_error))
    for source in (raw, as_buffer(raw)):
        info = kernel.SyscallInfo.from_raw(source)
        assert fields(info) == want
        assert type(info.is_error) is bool


def test_a_stop_that_is_no_syscall_stop_has_only_the_head():
    raw = packed(kernel.PTRACE_SYSCALL_INFO_NONE, 62, 0x401000, 0x7FFC0000, b"\xff" * 56, 0xFF)
    info = kernel.SyscallInfo.from_raw(raw)
    assert fields(info) == (kernel.PTRACE_SYSCALL_INFO_NONE, 62, 0x401000, 0x7FFC0000, -1, (),
                            0, False)


def test_the_decode_equals_the_constructor_of_the_same_fields():
    raw = packed(kernel.PTRACE_SYSCALL_INFO_ENTRY, 0xC000003E, 1, 2, struct.pack("=7Q", 110,
                                                                                 *range(6)), 0)
    built = kernel.SyscallInfo(kernel.PTRACE_SYSCALL_INFO_ENTRY, 0xC000003E, 1, 2, 110,
                               tuple(range(6)))
    assert fields(kernel.SyscallInfo.from_raw(raw)) == fields(built)
    assert repr(kernel.SyscallInfo.from_raw(raw)) == repr(built)
