"""The system-call layer: thin ctypes bindings for what the tracer needs.

One small function per request, in the manner of python-ptrace's binding:
no policy, and no state but the few buffers the tracer thread's requests
reuse (the event message, the syscall info: hence "tracer thread only").
Every failure becomes a :class:`KernelError` subclass that names the
request and the pid, and that is also the matching built-in ``OSError``
subclass (``ProcessLookupError`` for ESRCH, ``PermissionError``
for EPERM...), so callers can catch either.

Only the tracer thread may call the ptrace functions: the kernel ties a
tracee to the *thread* that attached it.
"""

from __future__ import annotations

import ctypes
import errno as _errno
import os
import signal
import struct

_libc = ctypes.CDLL(None, use_errno=True)

# -- ptrace requests (include/uapi/linux/ptrace.h) ---------------------------
PTRACE_TRACEME = 0
PTRACE_PEEKTEXT = 1
PTRACE_PEEKDATA = 2
PTRACE_PEEKUSER = 3
PTRACE_POKETEXT = 4
PTRACE_POKEDATA = 5
PTRACE_POKEUSER = 6
PTRACE_CONT = 7
PTRACE_KILL = 8
PTRACE_SINGLESTEP = 9
PTRACE_ATTACH = 16
PTRACE_DETACH = 17
PTRACE_SYSCALL = 24
PTRACE_SETOPTIONS = 0x4200
PTRACE_GETEVENTMSG = 0x4201
PTRACE_GETSIGINFO = 0x4202
PTRACE_SETSIGINFO = 0x4203
PTRACE_GETREGSET = 0x4204
PTRACE_SETREGSET = 0x4205
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
PTRACE_LISTEN = 0x4208
PTRACE_GET_SYSCALL_INFO = 0x420E

REQUEST_NAMES = {v: k for k, v in globals().items() if k.startswith("PTRACE_")}

# -- options and events -------------------------------------------------------
PTRACE_O_TRACESYSGOOD = 0x01
PTRACE_O_TRACEFORK = 0x02
PTRACE_O_TRACEVFORK = 0x04
PTRACE_O_TRACECLONE = 0x08
PTRACE_O_TRACEEXEC = 0x10
PTRACE_O_TRACEVFORKDONE = 0x20
PTRACE_O_TRACEEXIT = 0x40
PTRACE_O_TRACESECCOMP = 0x80
PTRACE_O_EXITKILL = 0x100000

PTRACE_EVENT_FORK = 1
PTRACE_EVENT_VFORK = 2
PTRACE_EVENT_CLONE = 3
PTRACE_EVENT_EXEC = 4
PTRACE_EVENT_VFORK_DONE = 5
PTRACE_EVENT_EXIT = 6
PTRACE_EVENT_SECCOMP = 7
PTRACE_EVENT_STOP = 128

PTRACE_SYSCALL_INFO_NONE = 0
PTRACE_SYSCALL_INFO_ENTRY = 1
PTRACE_SYSCALL_INFO_EXIT = 2
PTRACE_SYSCALL_INFO_SECCOMP = 3

# -- ELF note types used with GETREGSET --------------------------------------
NT_PRSTATUS = 1
NT_PRFPREG = 2
NT_S390_SYSTEM_CALL = 0x307

# -- wait flags (include/uapi/linux/wait.h) -----------------------------------
WNOHANG = os.WNOHANG
WALL = 0x40000000  # __WALL: threads and processes alike
WNOTHREAD = 0x20000000  # __WNOTHREAD: only this thread's children and tracees


# -- errors ---------------------------------------------------------------------
class KernelError(OSError):
    """A system call failed.  ``request`` and ``pid`` say which and on whom."""

    def __init__(self, err: int, request: str, pid: int | None = None):
        where = f" on pid {pid}" if pid is not None else ""
        super().__init__(err, f"{request}{where}: {os.strerror(err)}")
        self.request = request
        self.pid = pid


class NoSuchProcessError(KernelError, ProcessLookupError):
    """ESRCH: the thread does not exist, or is not stopped for us."""


class NotPermittedError(KernelError, PermissionError):
    """EPERM: not allowed (already traced, or no privilege)."""


class BusyError(KernelError):
    """EBUSY/EAGAIN: try again later."""


class InvalidRequestError(KernelError):
    """EINVAL/EIO/EFAULT: the request or its argument was refused."""


_ERROR_CLASSES = {
    _errno.ESRCH: NoSuchProcessError,
    _errno.EPERM: NotPermittedError,
    _errno.EBUSY: BusyError,
    _errno.EAGAIN: BusyError,
    _errno.EINVAL: InvalidRequestError,
    _errno.EIO: InvalidRequestError,
    _errno.EFAULT: InvalidRequestError,
}


def error(err: int, request: str, pid: int | None = None) -> KernelError:
    """The typed exception for ``err`` raised by ``request`` on ``pid``."""
    return _ERROR_CLASSES.get(err, KernelError)(err, request, pid)


# -- ptrace -------------------------------------------------------------------
_ptrace = _libc.ptrace
_ptrace.argtypes = (ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p)
_ptrace.restype = ctypes.c_long


def ptrace(request: int, pid: int, addr: int = 0, data: int = 0) -> int:
    """Raw ptrace(2); raises a typed error naming the request and pid."""
    result = _ptrace(request, pid, addr, data)
    if result == -1:
        err = ctypes.get_errno()
        if err:
            raise error(err, REQUEST_NAMES.get(request, str(request)), pid)
    return result


def seize(pid: int, options: int) -> None:
    ptrace(PTRACE_SEIZE, pid, 0, options)


def set_options(pid: int, options: int) -> None:
    ptrace(PTRACE_SETOPTIONS, pid, 0, options)


def interrupt(pid: int) -> None:
    ptrace(PTRACE_INTERRUPT, pid)


def listen(pid: int) -> None:
    ptrace(PTRACE_LISTEN, pid)


def cont(pid: int, sig: int = 0) -> None:
    ptrace(PTRACE_CONT, pid, 0, sig)


def cont_syscall(pid: int, sig: int = 0) -> None:
    ptrace(PTRACE_SYSCALL, pid, 0, sig)


def singlestep(pid: int, sig: int = 0) -> None:
    ptrace(PTRACE_SINGLESTEP, pid, 0, sig)


def detach(pid: int, sig: int = 0) -> None:
    ptrace(PTRACE_DETACH, pid, 0, sig)


_ulong = ctypes.c_ulong()
_ulong_addr = ctypes.addressof(_ulong)


def get_event_msg(pid: int) -> int:
    ptrace(PTRACE_GETEVENTMSG, pid, 0, _ulong_addr)
    return _ulong.value


def peek_user(pid: int, offset: int) -> int:
    ctypes.set_errno(0)
    value = _ptrace(PTRACE_PEEKUSER, pid, offset, 0)
    err = ctypes.get_errno()
    if value == -1 and err:
        raise error(err, "PTRACE_PEEKUSER", pid)
    return value & 0xFFFFFFFFFFFFFFFF


def poke_user(pid: int, offset: int, value: int) -> None:
    ptrace(PTRACE_POKEUSER, pid, offset, value)


def peek_data(pid: int, addr: int) -> int:
    """One word of the tracee's memory (works on read-only text too)."""
    ctypes.set_errno(0)
    value = _ptrace(PTRACE_PEEKDATA, pid, addr, 0)
    err = ctypes.get_errno()
    if value == -1 and err:
        raise error(err, "PTRACE_PEEKDATA", pid)
    return value & 0xFFFFFFFFFFFFFFFF


def poke_data(pid: int, addr: int, word: int) -> None:
    """Write one word, even into read-only text (the kernel breaks COW)."""
    ptrace(PTRACE_POKEDATA, pid, addr, word)


# -- siginfo ------------------------------------------------------------------
SIGINFO_SIZE = 128
SI_USER = 0  # kill()
SI_TKILL = -6  # tkill() / tgkill()


def sent_by_kernel(code: int) -> bool:
    """Did the kernel raise this signal (a trap, a fault), not a process?

    ``si_code > 0`` is the kernel's own (SI_KERNEL, TRAP_BRKPT, TRAP_TRACE,
    ...); a process's kill/tgkill/sigqueue gives ``<= 0`` (SI_USER,
    SI_TKILL, SI_QUEUE): siginfo(2).
    """
    return code > 0


class Siginfo:
    """A ``siginfo_t`` as raw bytes with the common fields named.

    The first three ints (signo, errno, code) sit at the same offsets on every
    architecture we support; the union starts at offset 16 on 64-bit.
    """

    __slots__ = ("raw",)

    def __init__(self, raw: bytes | bytearray):
        self.raw = bytearray(raw)

    def _int(self, offset: int) -> int:
        return struct.unpack_from("=i", self.raw, offset)[0]

    def _set_int(self, offset: int, value: int) -> None:
        struct.pack_into("=i", self.raw, offset, value)

    @property
    def signo(self) -> int:
        return self._int(0)

    @signo.setter
    def signo(self, value: int) -> None:
        self._set_int(0, value)

    @classmethod
    def fresh(cls, signo: int = 0, code: int = SI_TKILL) -> Siginfo:
        """A blank siginfo as ``tgkill`` from this process would fill it (for an
        artificial signal: an engine sets ``signo`` and whatever else it likes)."""
        info = cls(bytes(SIGINFO_SIZE))
        info.signo, info.code = signo, code
        info.pid, info.uid = os.getpid(), os.getuid()
        return info

    @property
    def errno(self) -> int:
        return self._int(4)

    @property
    def code(self) -> int:
        return self._int(8)

    @code.setter
    def code(self, value: int) -> None:
        self._set_int(8, value)

    @property
    def pid(self) -> int:
        return self._int(16)

    @pid.setter
    def pid(self, value: int) -> None:
        self._set_int(16, value)

    @property
    def uid(self) -> int:
        return struct.unpack_from("=I", self.raw, 20)[0]

    @uid.setter
    def uid(self, value: int) -> None:
        struct.pack_into("=I", self.raw, 20, value)

    @property
    def addr(self) -> int:
        return struct.unpack_from("=Q", self.raw, 16)[0]

    def __repr__(self) -> str:
        return f"Siginfo(signo={self.signo}, code={self.code}, pid={self.pid})"


def get_siginfo(pid: int) -> Siginfo:
    buf = ctypes.create_string_buffer(SIGINFO_SIZE)
    ptrace(PTRACE_GETSIGINFO, pid, 0, ctypes.addressof(buf))
    return Siginfo(buf.raw)


def set_siginfo(pid: int, info: Siginfo) -> None:
    buf = ctypes.create_string_buffer(bytes(info.raw), SIGINFO_SIZE)
    ptrace(PTRACE_SETSIGINFO, pid, 0, ctypes.addressof(buf))


# -- register sets ------------------------------------------------------------
class _Iovec(ctypes.Structure):
    _fields_ = (("base", ctypes.c_void_p), ("len", ctypes.c_size_t))


def get_regset(pid: int, note_type: int, size: int) -> bytes:
    """The regset ``note_type``; at most ``size`` bytes (the kernel may give fewer)."""
    buf = ctypes.create_string_buffer(size)
    iov = _Iovec(ctypes.addressof(buf), size)
    ptrace(PTRACE_GETREGSET, pid, note_type, ctypes.addressof(iov))
    return buf.raw[: iov.len]


def set_regset(pid: int, note_type: int, data: bytes) -> None:
    buf = ctypes.create_string_buffer(bytes(data), len(data))
    iov = _Iovec(ctypes.addressof(buf), len(data))
    ptrace(PTRACE_SETREGSET, pid, note_type, ctypes.addressof(iov))


# -- PTRACE_GET_SYSCALL_INFO (Linux 5.3) --------------------------------------
class SyscallInfo:
    """What the kernel says about a syscall stop, decoded for the tracee's arch.

    ``op`` is PTRACE_SYSCALL_INFO_ENTRY or _EXIT; entry fills ``nr`` and
    ``args``, exit fills ``rval`` and ``is_error`` (``rval`` is then -errno).
    A plain slotted class: it is built at every syscall stop the general way
    (the fast lane builds one only when an engine reads it).
    """

    __slots__ = ("op", "arch", "instruction_pointer", "stack_pointer", "nr", "args", "rval",
                 "is_error")

    def __init__(self, op: int, arch: int, instruction_pointer: int, stack_pointer: int,
                 nr: int = -1, args: tuple[int, ...] = (), rval: int = 0,
                 is_error: bool = False):
        self.op = op
        self.arch = arch
        self.instruction_pointer = instruction_pointer
        self.stack_pointer = stack_pointer
        self.nr = nr
        self.args = args
        self.rval = rval
        self.is_error = is_error

    @classmethod
    def from_raw(cls, raw) -> SyscallInfo:
        """The info in ``raw`` (GET_SYSCALL_INFO's bytes, or any buffer holding them).

        One unpack per field group straight into the slots, without
        ``__init__``'s frame: the logger decodes one at every stop.
        """
        info = _new(cls)
        op = raw[0]
        if op == PTRACE_SYSCALL_INFO_EXIT:
            (info.op, info.arch, info.instruction_pointer, info.stack_pointer, info.rval,
             info.is_error) = _SYSCALL_INFO_EXIT(raw)
            info.nr = -1
            info.args = ()
            return info
        if op == PTRACE_SYSCALL_INFO_ENTRY or op == PTRACE_SYSCALL_INFO_SECCOMP:
            info.op, info.arch, info.instruction_pointer, info.stack_pointer, info.nr = \
                _SYSCALL_INFO_ENTRY(raw)
            info.args = _SYSCALL_INFO_ARGS(raw, 32)
        else:
            info.op, info.arch, info.instruction_pointer, info.stack_pointer = \
                _SYSCALL_INFO_HEAD(raw)
            info.nr = -1
            info.args = ()
        info.rval = 0
        info.is_error = False
        return info

    # The old name, from when the bytes were decoded on first read: that lazy
    # decode (an AttributeError caught per field) cost ~40 us when read and saved
    # ~2 when not; the fast lane now fetches only what is read.
    undecoded = from_raw

    def __repr__(self) -> str:
        if self.op == PTRACE_SYSCALL_INFO_EXIT:
            return f"SyscallInfo(exit, rval={self.rval}, is_error={self.is_error})"
        return f"SyscallInfo(op={self.op}, nr={self.nr}, args={self.args})"


_new = object.__new__
_from_raw = SyscallInfo.from_raw  # (bound once: no classmethod binding per stop)
_SYSCALL_INFO_SIZE = 96  # sizeof(struct ptrace_syscall_info) with room to spare
# struct ptrace_syscall_info: op, 3 bytes, arch, instruction and stack pointer, then
# entry and seccomp: nr, args[6] (seccomp: and ret_data); exit: rval, is_error.
_SYSCALL_INFO_HEAD = struct.Struct("=B3xIQQ").unpack_from
_SYSCALL_INFO_ENTRY = struct.Struct("=B3xIQQQ").unpack_from  # the head and nr
_SYSCALL_INFO_ARGS = struct.Struct("=6Q").unpack_from  # at 32
_SYSCALL_INFO_EXIT = struct.Struct("=B3xIQQq?").unpack_from  # the head, rval, is_error
_syscall_info_buf = (ctypes.c_ubyte * _SYSCALL_INFO_SIZE)()
_syscall_info_arg = ctypes.c_void_p(ctypes.addressof(_syscall_info_buf))

# The hot path's own ptrace: a separate function object with no argtypes, so
# ctypes converts nothing per call.  The request and the pid go as C ints
# (what ptrace's prototype has); the two pointer-sized arguments are ready-made
# ctypes objects, so that no register half is left to chance on any ABI.
# Loaded through PyDLL, which keeps the GIL across the call: these requests
# (PTRACE_SYSCALL, PTRACE_GET_SYSCALL_INFO on a stopped thread) return at
# once, and dropping and taking the GIL again cost ~0.1-0.2 us per call,
# one or two calls per stop.  (Waiting, which blocks, keeps os.waitpid.)
_ptrace_plain = ctypes.PyDLL(None, use_errno=True).ptrace
_ptrace_plain.restype = ctypes.c_long
_NULL = ctypes.c_void_p(0)
_SYSCALL_INFO_SIZE_ARG = ctypes.c_ulong(_SYSCALL_INFO_SIZE)


def fetch_syscall_info(pid: int) -> bytes:
    """GET_SYSCALL_INFO's raw bytes for the current syscall stop of ``pid`` (tracer thread)."""
    if _ptrace_plain(PTRACE_GET_SYSCALL_INFO, pid, _SYSCALL_INFO_SIZE_ARG,
                     _syscall_info_arg) == -1:
        raise error(ctypes.get_errno(), "PTRACE_GET_SYSCALL_INFO", pid)
    return bytes(_syscall_info_buf)


def get_syscall_info(pid: int) -> SyscallInfo:
    """Decode the current syscall stop of ``pid`` (tracer thread only: shared buffer).

    Decoded from the buffer itself (no copy of the bytes first): one request
    per stop of a logger, the fast lane's only one.
    """
    if _ptrace_plain(PTRACE_GET_SYSCALL_INFO, pid, _SYSCALL_INFO_SIZE_ARG,
                     _syscall_info_arg) == -1:
        raise error(ctypes.get_errno(), "PTRACE_GET_SYSCALL_INFO", pid)
    return _from_raw(_syscall_info_buf)


def resume_syscall(pid: int) -> None:
    """PTRACE_SYSCALL with no signal, the fast lane's resume (see ``_ptrace_plain``)."""
    if _ptrace_plain(PTRACE_SYSCALL, pid, _NULL, _NULL) == -1:
        raise error(ctypes.get_errno(), "PTRACE_SYSCALL", pid)


#: ``resume_syscall``'s request itself, for the one caller that cannot afford
#: a Python frame per stop (the fast lane): ``ptrace_plain(PTRACE_SYSCALL,
#: pid, NULL, NULL)`` returns -1 on failure, and :func:`failed` is its error.
ptrace_plain = _ptrace_plain
NULL = _NULL


def failed(request: str, pid: int) -> KernelError:
    """The error of the ``ptrace_plain`` request that just returned -1 on this thread."""
    return error(ctypes.get_errno(), request, pid)


# -- waiting --------------------------------------------------------------------
def wait_tracees(nohang: bool = False) -> tuple[int, int]:
    """Wait for any event of *this thread's* children and tracees.

    ``__WNOTHREAD`` keeps us from reaping the host program's own children
    (a ``subprocess.run`` beside the debugger); ``__WALL`` includes threads.
    Returns ``(pid, status)``; ``(0, 0)`` with ``nohang`` and nothing ready.
    """
    return _waitpid(-1, _WAIT_NOHANG if nohang else _WAIT)  # (once per stop: kept short)


def wait_tracee(pid: int, nohang: bool = False) -> tuple[int, int]:
    """Wait for one tracee (see :func:`wait_tracees`)."""
    return _waitpid(pid, _WAIT_NOHANG if nohang else _WAIT)


_waitpid = os.waitpid
_WAIT = WALL | WNOTHREAD
_WAIT_NOHANG = _WAIT | WNOHANG


def event_of(status: int) -> int:
    """The PTRACE_EVENT_* in a stop status (0 for none)."""
    return status >> 16


# -- signals to threads -------------------------------------------------------
_tgkill = _libc.tgkill
_tgkill.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_int)


def tgkill(tgid: int, tid: int, sig: int) -> None:
    if _tgkill(tgid, tid, sig) == -1:
        raise error(ctypes.get_errno(), "tgkill", tid)


# -- a clean start for a new program -------------------------------------------
_signal = _libc.signal
_signal.argtypes = (ctypes.c_int, ctypes.c_void_p)
_signal.restype = ctypes.c_void_p
#: What CPython itself sets to SIG_IGN at start-up (``subprocess``'s ``restore_signals``).
PYTHONS_IGNORED = (signal.SIGPIPE, signal.SIGXFSZ)


def reset_signals() -> None:
    """In a child about to ``execve``: Python's own ignored signals back to SIG_DFL, no mask.

    ``execve`` resets caught signals to SIG_DFL but keeps ignored ones and
    the mask, so without this a program would inherit the SIGPIPE and SIGXFSZ
    that CPython ignores for itself, and whatever the tracer thread blocks.
    A signal ignored by whoever started *us* (``nohup``'s SIGHUP, a
    background job's SIGINT and SIGQUIT) stays ignored, as under strace, gdb
    and ``subprocess``: the program runs as it would have run untraced.
    """
    for sig in PYTHONS_IGNORED:
        _signal(sig, None)  # NULL is SIG_DFL
    signal.pthread_sigmask(signal.SIG_SETMASK, ())


# -- memory ---------------------------------------------------------------------
_process_vm_readv = _libc.process_vm_readv
_process_vm_readv.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_ulong,
                              ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong)
_process_vm_readv.restype = ctypes.c_ssize_t


def read_memory(pid: int, addr: int, size: int) -> bytes:
    """Read ``size`` bytes at ``addr``; may return fewer at the end of a mapping."""
    buf = ctypes.create_string_buffer(size)
    local = _Iovec(ctypes.addressof(buf), size)
    remote = _Iovec(addr, size)
    n = _process_vm_readv(pid, ctypes.addressof(local), 1, ctypes.addressof(remote), 1, 0)
    if n < 0:
        raise error(ctypes.get_errno(), "process_vm_readv", pid)
    return buf.raw[:n]


# -- kcmp (is this the same address space?) ---------------------------------------
KCMP_VM = 1
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long


def kcmp(pid1: int, pid2: int, kind: int, number: int) -> bool:
    """True if the two tasks share the resource ``kind`` (``number``: kcmp's syscall nr)."""
    result = _syscall(ctypes.c_long(number), ctypes.c_long(pid1), ctypes.c_long(pid2),
                      ctypes.c_long(kind), ctypes.c_long(0), ctypes.c_long(0))
    if result < 0:
        raise error(ctypes.get_errno(), "kcmp", pid2)
    return result == 0
