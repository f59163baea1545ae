"""One gdb connection: requests in, replies out, through a :class:`GdbEngine`.

The session runs on the connection's own Python thread.  Everything it
waits for arrives in one queue (:attr:`GdbSession.inbox`): bytes the
server's reader thread received, and wake-ups from the engine's callbacks
(a stop may be ready).  So the session never polls, never blocks the tracer
thread, and handles gdb's Ctrl-C while the program runs.  It alone touches
the framer and writes to the connection.
"""

from __future__ import annotations

import errno
import logging
import os
import queue
from collections.abc import Callable
from typing import TYPE_CHECKING

from pydbg_utrace import NotSupportedError, Resume, UtraceError, kernel

from . import libraries, replies, requests, signals, targetdesc
from .engine import GdbEngine, Plan, Stop
from .packets import MAX_PACKET, Framer, Interrupt, Packet, ProtocolError
from .requests import BreakpointType, ResumeKind, ThreadId

if TYPE_CHECKING:
    from pydbg_utrace import Process

log = logging.getLogger("pydbg_utrace.gdb")

WAKE = object()  # an engine callback: a stop may be ready
CLOSED = object()  # the peer closed the connection

PACKET_SIZE = 0x4000  # what we tell gdb in qSupported (bytes of payload per packet)
FEATURES = {
    "PacketSize": PACKET_SIZE, "QStartNoAckMode": True, "multiprocess": True,
    "swbreak": True, "hwbreak": True, "qXfer:features:read": True, "qXfer:auxv:read": True,
    "qXfer:exec-file:read": True, "qXfer:libraries-svr4:read": True,
    "qXfer:threads:read": True, "QPassSignals": True, "QCatchSyscalls": True,
    "vContSupported": True,
}
#: Z1-Z4 on the debug registers (watchpoints.py).  No read-only watch (Z3): x86 has
#: none, so gdb gets the empty reply and emulates `rwatch` with an access watch, as
#: natively and with gdbserver.
WATCH_ACCESS = {BreakpointType.HARDWARE: "x", BreakpointType.WRITE_WATCH: "w",
                BreakpointType.ACCESS_WATCH: "rw"}


class Done(Exception):
    """The session is over (gdb detached, killed, or closed the connection)."""


class GdbSession:
    """Serves one gdb connection on ``process``."""

    def __init__(self, process: Process, send: Callable[[bytes], None], *, launched: bool,
                 label: str = "gdb", others: Callable[[], int] = lambda: 0,
                 launcher: Callable[[list[str]], Process] | None = None):
        self.process = process
        self.pid = process.pid
        self.send_bytes = send
        self.launched = launched
        self.others = others  # how many other gdb sessions share the process
        # `target extended-remote`: runs a program again (argv; [] = the first one's),
        # held before its first instruction.  None: not offered (-p PID).
        self.launcher = launcher
        self.extended = False
        self.inbox: queue.Queue = queue.Queue()
        self.framer = Framer()
        self.engine = GdbEngine(process, notify=lambda: self.inbox.put(WAKE), label=label)
        self.running = False  # gdb waits for a stop reply
        self.last: Stop | None = None
        self.g_thread = 0  # Hg: registers and memory (0: the last stop's thread)
        self.c_thread = -1  # Hc
        self.breakpoints: dict[int, object] = {}
        self.watchpoints: dict[tuple[int, int, int], object] = {}
        self.exited = False
        self.execs = 0  # the engine's exec count when our breakpoint tables were last valid

    # -- the loop ----------------------------------------------------------------------
    def start(self) -> None:
        """Attach to the process and hold it (gdb's first question is why it is stopped)."""
        self.engine.attach_all()
        self.engine.state_initial(self.pid)
        self.last = self.engine.wait_stop()  # every thread held: gdb finds it stopped
        self.running = False

    def run(self) -> None:
        """Serve until gdb detaches, kills or disconnects; then let go of the process."""
        try:
            while True:
                item = self.inbox.get()
                if item is CLOSED:
                    break
                if item is WAKE:
                    self._report_stop_if_ready()
                    continue
                self._received(item)
        except Done:
            pass
        except OSError as exc:  # the connection broke under us
            log.info("gdb connection %s: %s", self.engine.name, exc)
        finally:
            self._let_go()

    def _received(self, data: bytes) -> None:
        try:
            events = self.framer.feed(data)
        except ProtocolError as exc:
            self._send_raw(self.framer.outgoing())
            self._reply(replies.error(str(exc)))
            raise Done from None  # framing is lost: a clean close
        self._send_raw(self.framer.outgoing())
        for event in events:
            if isinstance(event, Interrupt):
                if self.running and not self.exited:
                    self.engine.interrupt()
            elif isinstance(event, Packet):
                self._packet(event.payload)

    def _packet(self, payload: bytes) -> None:
        try:
            request = requests.parse(payload)
        except ProtocolError as exc:
            self._reply(replies.error(str(exc)))
            return
        handler = HANDLERS.get(type(request))
        if handler is None:
            self._reply(replies.empty())
            return
        try:
            answer = handler(self, request)
        except Done:
            raise
        except ProtocolError as exc:
            answer = replies.error(str(exc))
        except (UtraceError, OSError, ValueError, KeyError, RuntimeError) as exc:
            answer = replies.error(_describe(exc))
        if answer is not None:
            self._reply(answer)

    def _reply(self, payload: bytes) -> None:
        self._send_raw(self.framer.frame(payload))

    def _send_raw(self, data: bytes) -> None:
        if data:
            self.send_bytes(data)

    # -- stops ---------------------------------------------------------------------------
    def _report_stop_if_ready(self) -> None:
        if not self.running:
            return
        stop = self.engine.take_stop()
        if stop is not None:
            self._tell(stop)

    def _tell(self, stop: Stop) -> None:
        self.running = False
        self.last = stop
        # gdb takes a stop reply's thread for our general thread (remote.c
        # record_currthread), as gdbserver makes it: it sends no Hg for it.
        self.g_thread = 0
        if self.engine.execs != self.execs:
            # The program exec'd: its traps went with the old address space.
            self.execs = self.engine.execs
            self.breakpoints.clear()
            self.watchpoints.clear()
        self._reply(self._stop_reply(stop))

    def _stop_reply(self, stop: Stop) -> bytes:
        if stop.exited:
            self.exited = True
            status = stop.status or 0
            if os.WIFSIGNALED(status):
                return replies.killed(signals.to_gdb(os.WTERMSIG(status)), self.pid)
            return replies.exited(os.WEXITSTATUS(status), self.pid)
        reason: dict = {}
        if stop.reason in ("swbreak", "hwbreak"):
            reason[stop.reason] = True
        elif stop.reason in ("watch", "rwatch", "awatch"):
            reason[stop.reason] = stop.value
        elif stop.reason in ("syscall_entry", "syscall_return"):
            reason[stop.reason] = stop.value
        elif stop.reason == "exec":
            reason["exec_path"] = stop.value
        return replies.stop_reply(signals.to_gdb(stop.signo), self._id(stop.tid), **reason)

    def _id(self, tid: int) -> ThreadId:
        return ThreadId(self.pid, tid)

    # -- thread selection ----------------------------------------------------------------
    def _current_tid(self) -> int:
        if self.last is not None and not self.last.exited:
            return self.last.tid
        tids = self.engine.tids()
        return tids[0] if tids else self.pid

    def _g_tid(self) -> int:
        return self.g_thread if self.g_thread > 0 else self._current_tid()

    def _att(self, tid: int | None = None):
        tid = self._g_tid() if tid is None else tid
        att = self.engine.attachment(tid)
        if att is None:
            raise ValueError(f"no thread {tid} in process {self.pid}")
        return att

    # -- handlers (each returns the reply payload, or None for no reply) -------------
    def query_supported(self, request: requests.QuerySupported) -> bytes:
        features = dict(FEATURES)
        if request.features.get("exec-events") is True:  # only to a gdb that knows them
            features["exec-events"] = self.engine.exec_events = True
        return replies.supported(features)

    def start_no_ack(self, request: requests.StartNoAckMode) -> None:
        self._reply(replies.ok())
        self.framer.start_no_ack()

    def halt_reason(self, request: requests.QueryHaltReason) -> bytes | None:
        if self.running:
            self._tell(self.engine.wait_stop())
            return None
        assert self.last is not None
        return self._stop_reply(self.last)

    def read_registers(self, request: requests.ReadRegisters) -> bytes:
        att = self._att()
        with att.examine() as regs:
            return targetdesc.registers_to_g(att.thread.arch, regs)

    def write_registers(self, request: requests.WriteRegisters) -> bytes:
        att = self._att()
        with att.examine() as regs:
            targetdesc.apply_G(att.thread.arch, regs, request.data)
        return replies.ok()

    def read_register(self, request: requests.ReadRegister) -> bytes:
        att = self._att()
        with att.examine() as regs:
            return targetdesc.read_register(att.thread.arch, regs, request.number)

    def write_register(self, request: requests.WriteRegister) -> bytes:
        att = self._att()
        with att.examine() as regs:
            targetdesc.write_register(att.thread.arch, regs, request.number, request.value)
        return replies.ok()

    def read_memory(self, request: requests.ReadMemory) -> bytes:
        # gdb reads `m` errors only as "Exx" (a text error would be taken for hex data).
        length = min(request.length, PACKET_SIZE // 2)
        try:
            data = self.process.memory.read(request.address, length)
        except (OSError, ValueError, OverflowError) as exc:
            return replies.error(getattr(exc, "errno", None) or 1)
        if not data and length:
            return replies.error(errno.EIO)
        return replies.hex_bytes(data)

    def write_memory(self, request: requests.WriteMemory) -> bytes:
        if request.data:
            self.process.memory.write(request.address, request.data)
        return replies.ok()

    def resume_actions(self, request: requests.QueryResumeActions) -> bytes:
        return b"vCont;c;C;s;S;t"

    def resume(self, request: requests.Resume) -> None:
        plans: dict[int, Plan] = {}
        for tid in self.engine.tids():
            for action in request.actions:
                if action.thread.matches(self.pid, tid):
                    plan = _plan(action.kind, action.signal)
                    if plan is not None:
                        plans[tid] = plan
                    break
        self._go(plans)

    def cont(self, request: requests.Continue) -> None:
        self._legacy_resume(ResumeKind.CONTINUE, request.signal, request.address)

    def step(self, request: requests.Step) -> None:
        self._legacy_resume(ResumeKind.STEP, request.signal, request.address)

    def _legacy_resume(self, kind: ResumeKind, signal: int | None, address: int | None) -> None:
        tid = self.c_thread if self.c_thread > 0 else self._current_tid()
        if address is not None:
            with self._att(tid).examine() as regs:
                regs.pc = address
        plans = {}
        if kind == ResumeKind.CONTINUE:
            plans = {t: Plan() for t in self.engine.tids()}
        plans[tid] = _plan(kind, signal)
        self._go(plans)

    def _go(self, plans: dict[int, Plan]) -> None:
        if self.exited:
            raise ValueError("the process has exited")
        self.running = True
        if not self.engine.resume(plans, stale=self._stale):
            self._report_stop_if_ready()  # a stop that was waiting: told at once

    def _stale(self, stop: Stop) -> bool:
        """A breakpoint hit held back while another stop was told: is its breakpoint gone?"""
        return stop.reason == "swbreak" and stop.value not in self.breakpoints

    def set_thread(self, request: requests.SetThread) -> bytes:
        tid = request.thread.tid
        if tid > 0 and tid not in self.engine.tids():
            raise ValueError(f"no thread {tid}")
        if request.operation == "g":
            self.g_thread = tid
        else:
            self.c_thread = tid
        return replies.ok()

    def thread_list_start(self, request: requests.ThreadListStart) -> bytes:
        return replies.thread_list([self._id(tid) for tid in self.engine.tids()])

    def thread_list_next(self, request: requests.ThreadListNext) -> bytes:
        return replies.thread_list([])

    def current_thread(self, request: requests.QueryCurrentThread) -> bytes:
        return replies.current_thread(self._id(self._current_tid()))

    def thread_alive(self, request: requests.ThreadAlive) -> bytes:
        tid = request.thread.tid
        if tid in self.engine.tids() or (tid in (0, -1) and self.engine.tids()):
            return replies.ok()
        return replies.error(f"thread {tid} is gone")

    def attached(self, request: requests.QueryAttached) -> bytes:
        return b"0" if self.launched else b"1"

    def insert_breakpoint(self, request: requests.InsertBreakpoint) -> bytes:
        att = self._att(self._current_tid())
        if request.type == BreakpointType.SOFTWARE:
            if request.address not in self.breakpoints:
                self.breakpoints[request.address] = att.insert_breakpoint(request.address)
            return replies.ok()
        access = WATCH_ACCESS.get(request.type)
        if access is None:
            return replies.empty()  # read-only watches: not on x86
        key = (request.type, request.address, request.kind)
        if key not in self.watchpoints:
            try:
                self.watchpoints[key] = att.insert_watchpoint(request.address, request.kind,
                                                              access)
            except NotSupportedError:
                return replies.empty()
        return replies.ok()

    def remove_breakpoint(self, request: requests.RemoveBreakpoint) -> bytes:
        att = self._att(self._current_tid())
        if request.type == BreakpointType.SOFTWARE:
            bp = self.breakpoints.pop(request.address, None)
            if bp is None:
                return replies.error(f"no breakpoint of ours at {request.address:#x}")
            att.remove_breakpoint(bp)
            return replies.ok()
        if request.type not in WATCH_ACCESS:
            return replies.empty()
        wp = self.watchpoints.pop((request.type, request.address, request.kind), None)
        if wp is None:
            return replies.error(f"no watchpoint of ours at {request.address:#x}")
        att.remove_watchpoint(wp)
        return replies.ok()

    def xfer_read(self, request: requests.XferRead) -> bytes:
        data = self._xfer_object(request.object, request.annex)
        if data is None:
            return replies.empty()
        return replies.xfer_chunk(data, request.offset, min(request.length, PACKET_SIZE - 8))

    def _xfer_object(self, name: str, annex: str) -> bytes | None:
        if name == "features":
            document = targetdesc.features_document(self.process.arch, annex)
            if document is None:
                raise ValueError(f"no target description document {annex!r}")
            return document
        if name == "auxv":
            with open(f"/proc/{self.pid}/auxv", "rb") as auxv:
                return auxv.read()
        if name == "exec-file":
            return os.readlink(f"/proc/{self.pid}/exe").encode()
        if name == "threads":
            return libraries.threads_xml(self.pid, self.engine.tids())
        if name == "libraries-svr4":
            return libraries.svr4_xml(self.process)
        return None

    def pass_signals(self, request: requests.PassSignals) -> bytes:
        self.engine.pass_signals = frozenset(
            host for host in map(signals.from_gdb, request.signals) if host)
        return replies.ok()

    def catch_syscalls(self, request: requests.CatchSyscalls) -> bytes:
        self.engine.catch_syscalls = request.numbers if request.enabled else None
        self.engine.set_events_everywhere()
        return replies.ok()

    def detach(self, request: requests.Detach) -> None:
        self._reply(replies.ok())
        raise Done

    def kill(self, request: requests.Kill | requests.KillProcess) -> None:
        why = self._why_not_kill()
        if why is None:
            self.process.kill()
            self.process.wait(30)  # SIGKILL: its death comes, the core never hangs on it
            if isinstance(request, requests.KillProcess):
                self._reply(replies.ok())
            if self.extended:  # the connection stays, for gdb's next `run`
                self.engine.detach()
                self.exited, self.running = True, False
                return
            raise Done
        # gdb reads an `O` packet only while the program runs, so the reason goes
        # into vKill's error (gdb shows it) and our own stderr; `k` has no reply.
        message = f"not killing process {self.pid}: {why}; detached instead"
        log.warning("%s: %s", self.engine.name, message)
        if isinstance(request, requests.KillProcess):
            self._reply(replies.error(message))
        raise Done

    def _why_not_kill(self) -> str | None:
        if not self.launched:
            return "it was attached to, not launched"
        if self.others():
            return "another gdb is connected to it"
        if self.engine.others_attached():
            return "other engines trace it"
        return None

    # -- the end ------------------------------------------------------------------------
    # -- extended-remote: run again in the same session --------------------------------
    def extended_mode(self, request: requests.ExtendedMode) -> bytes:
        if self.launcher is None:
            return replies.empty()  # attached to a process: there is nothing to run again
        self.extended = True
        return replies.ok()

    def run_program(self, request: requests.Run) -> bytes:
        if not self.extended:
            return replies.empty()
        if not self.exited:
            raise ValueError(f"process {self.pid} is still running: kill it first")
        argv = [request.program.decode(errors="surrogateescape"),
                *(a.decode(errors="surrogateescape") for a in request.arguments)]
        process = self.launcher(argv if request.program else [])
        self._serve_process(process)
        process.start()  # held by this engine before its first instruction
        assert self.last is not None
        return self._stop_reply(self.last)

    def _serve_process(self, process: Process) -> None:
        """A new program for this connection: a new engine on it, held as at the start."""
        self.process, self.pid, self.launched = process, process.pid, True
        self.engine = GdbEngine(process, notify=lambda: self.inbox.put(WAKE),
                                label=self.engine.name)
        self.breakpoints.clear()
        self.watchpoints.clear()
        self.exited, self.execs, self.g_thread, self.c_thread = False, 0, 0, -1
        self.start()

    def _let_go(self) -> None:
        """Our breakpoints and watchpoints out, our holds released: the others go on."""
        atts = self.engine.attachments()
        att = atts[0] if atts else None
        if att is not None:
            for bp in self.breakpoints.values():
                _quietly(att.remove_breakpoint, bp)
            for wp in self.watchpoints.values():
                _quietly(att.remove_watchpoint, wp)
        self.breakpoints.clear()
        self.watchpoints.clear()
        self.engine.detach()


def _plan(kind: ResumeKind, signal: int | None) -> Plan | None:
    signo = signals.from_gdb(signal) if signal else 0
    if kind == ResumeKind.STOP:
        return None
    if kind in (ResumeKind.STEP, ResumeKind.RANGE_STEP):
        return Plan(Resume.SINGLESTEP, signo or 0)
    return Plan(Resume.RESUME, signo or 0)


def _quietly(fn: Callable, *args: object) -> None:
    try:
        fn(*args)
    except (UtraceError, OSError, ValueError):
        pass


def _describe(exc: BaseException) -> str:
    if isinstance(exc, kernel.KernelError) and exc.strerror:
        return f"{exc.strerror} (process {exc.pid})" if getattr(exc, "pid", None) else \
            exc.strerror
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


HANDLERS: dict[type, Callable] = {
    requests.QuerySupported: GdbSession.query_supported,
    requests.StartNoAckMode: GdbSession.start_no_ack,
    requests.QueryHaltReason: GdbSession.halt_reason,
    requests.ReadRegisters: GdbSession.read_registers,
    requests.WriteRegisters: GdbSession.write_registers,
    requests.ReadRegister: GdbSession.read_register,
    requests.WriteRegister: GdbSession.write_register,
    requests.ReadMemory: GdbSession.read_memory,
    requests.WriteMemory: GdbSession.write_memory,
    requests.QueryResumeActions: GdbSession.resume_actions,
    requests.Resume: GdbSession.resume,
    requests.Continue: GdbSession.cont,
    requests.Step: GdbSession.step,
    requests.SetThread: GdbSession.set_thread,
    requests.ThreadListStart: GdbSession.thread_list_start,
    requests.ThreadListNext: GdbSession.thread_list_next,
    requests.QueryCurrentThread: GdbSession.current_thread,
    requests.ThreadAlive: GdbSession.thread_alive,
    requests.QueryAttached: GdbSession.attached,
    requests.InsertBreakpoint: GdbSession.insert_breakpoint,
    requests.RemoveBreakpoint: GdbSession.remove_breakpoint,
    requests.XferRead: GdbSession.xfer_read,
    requests.PassSignals: GdbSession.pass_signals,
    requests.CatchSyscalls: GdbSession.catch_syscalls,
    requests.Detach: GdbSession.detach,
    requests.ExtendedMode: GdbSession.extended_mode,
    requests.Run: GdbSession.run_program,
    requests.Kill: GdbSession.kill,
    requests.KillProcess: GdbSession.kill,
}

__all__ = ["CLOSED", "MAX_PACKET", "GdbSession"]
