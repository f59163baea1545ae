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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydbg_utrace import NotSupportedError, Resume, UtraceError, kernel

from . import libraries, replies, requests, signals, targetdesc
from .engine import GdbEngine, Plan, Stop
from .inferior import Inferior
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
    "qXfer:threads:read": True, "qXfer:siginfo:read": True, "qXfer:siginfo:write": True,
    "QPassSignals": True,
    "QCatchSyscalls": True, "QThreadEvents": True,
    "vContSupported": True,
    # For extended-remote's `run` (vRun).  Not QStartupWithShell: we run the program
    # itself, as gdbserver --no-startup-with-shell does (no globbing, no $VARS).
    "QEnvironmentHexEncoded": True, "QEnvironmentUnset": True, "QEnvironmentReset": True,
    "QSetWorkingDir": True, "QDisableRandomization": True,
}
#: Z1-Z4 on the debug registers (watchpoints.py).  No read-only watch (Z3): x86 has
#: none, so gdb gets the empty reply and emulates `rwatch` with an access watch, as
#: natively and with gdbserver.
WATCH_ACCESS = {BreakpointType.HARDWARE: "x", BreakpointType.WRITE_WATCH: "w",
                BreakpointType.ACCESS_WATCH: "rw"}


@dataclass
class RunSettings:
    """What gdb asked for its next `run` (vRun): environment, directory, randomization."""

    environment: dict[str, str] | None = None  # None: the server's own
    cwd: str | None = None  # None: the server's
    disable_randomization: bool | None = None  # None: the server's default

    def set(self, name: bytes, value: bytes) -> None:
        env = self.environment if self.environment is not None else dict(os.environ)
        env[os.fsdecode(name)] = os.fsdecode(value)
        self.environment = env

    def unset(self, name: bytes) -> None:
        env = self.environment if self.environment is not None else dict(os.environ)
        env.pop(os.fsdecode(name), None)
        self.environment = env


Launcher = Callable[[list[str], RunSettings], "Process"]
Attacher = Callable[[int], "Process"]


class Done(Exception):
    """The session is over (gdb detached, killed, or closed the connection)."""


class GdbSession:
    """Serves one gdb connection on ``process`` (and, with fork events, its children)."""

    def __init__(self, process: Process | None, send: Callable[[bytes], None], *,
                 call: Callable[..., Any], launched: bool, label: str = "gdb",
                 others: Callable[[], int] = lambda: 0,
                 launcher: Launcher | None = None, attacher: Attacher | None = None):
        self.send_bytes = send
        self.call = call  # Tracer.call: the engines read the core's tables through it
        self.label = label
        self.others = others  # how many other gdb sessions share the server's process
        # `target extended-remote`: `run` launches (argv, [] = the server's program),
        # held before its first instruction; `attach` attaches.  None: not offered.
        self.launcher = launcher
        self.attacher = attacher
        self.run_settings = RunSettings()
        self.extended = False
        self.inbox: queue.Queue = queue.Queue()
        self.framer = Framer()
        self.exec_events = self.fork_events = self.vfork_events = False  # what gdb knows
        self.thread_events = False  # QThreadEvents:1
        # The server's process (None: --multi, nothing yet), shared with other gdbs.
        self.first = self._new_inferior(process, launched) if process is not None else None
        self.first_shared = True
        self.inferiors: dict[int, Inferior] = {}
        if self.first is not None:
            self.inferiors[self.first.pid] = self.first
        self.running = False  # gdb waits for a stop reply
        self.last: Stop | None = None
        self.last_pid = process.pid if process is not None else 0  # of the last stop told
        self.g_thread = (0, 0)  # Hg: (pid, tid) for registers and memory (0: the last stop's)
        self.c_thread = -1  # Hc

    def _new_inferior(self, process: Process, launched: bool) -> Inferior:
        engine = GdbEngine(process, self.call, notify=lambda: self.inbox.put(WAKE),
                           label=self.label)
        self._tell_engine(engine)
        return Inferior(engine, launched)

    def _tell_engine(self, engine: GdbEngine) -> None:
        engine.exec_events, engine.fork_events = self.exec_events, self.fork_events
        engine.vfork_events, engine.thread_events = self.vfork_events, self.thread_events

    # -- the inferior gdb means --------------------------------------------------------
    @property
    def engine(self) -> GdbEngine:
        """The engine of the process gdb's Hg selects (the first one's by default)."""
        return self._g_inferior().engine

    @property
    def process(self) -> Process:
        return self._g_inferior().process

    @property
    def pid(self) -> int:
        return self._g_inferior().pid

    @property
    def exited(self) -> bool:
        """Has gdb been told of the end of every process of this connection?"""
        return all(inf.exited for inf in self.inferiors.values())

    def _g_inferior(self) -> Inferior:
        pid = self.g_thread[0] or self.last_pid
        inferior = self.inferiors.get(pid)
        if inferior is None:
            if not self.inferiors:
                raise ValueError("no process: `run` or `attach` one first")
            inferior = next(iter(self.inferiors.values()))
        return inferior

    def _inferior_of(self, tid: int) -> Inferior | None:
        for inferior in self.inferiors.values():
            if tid in inferior.engine.tids():
                return inferior
        return None

    def _live(self) -> list[Inferior]:
        return [inf for inf in self.inferiors.values() if not inf.exited]

    # -- the loop ----------------------------------------------------------------------
    def start(self) -> None:
        """Attach to the process and hold it (gdb's first question is why it is stopped)."""
        if self.first is None:
            return  # --multi: gdb's `run` or `attach` brings one
        engine = self.first.engine
        engine.attach_all()
        engine.state_initial(self.first.pid)
        self.last = engine.wait_stop()  # every thread held: gdb finds it stopped
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
            log.info("gdb connection %s: %s", self.label, exc)
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
                    self._interrupt()
            elif isinstance(event, Packet):
                self._packet(event.payload)

    def _interrupt(self) -> None:
        """gdb's Ctrl-C: SIGINT in a process gdb let go; the others are halted with it."""
        live = self._live()
        running = [inf for inf in live if inf.engine.running()] or live
        running[0].engine.interrupt()

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
        """Tell gdb a stop once every process of the connection is held (all-stop)."""
        if not self.running:
            return
        ready = next((inf for inf in self._live() if inf.engine.has_stop()), None)
        if ready is None:
            return
        stop = ready.engine.peek_stop()
        if stop is not None and stop.reason in ("fork", "vfork"):
            self._add_fork_child(ready, stop)
        waiting = False
        for inferior in self._live():
            if inferior is not ready and not inferior.engine.halted():
                inferior.engine.halt()  # its holds wake us again
                waiting = True
        if not waiting:
            self._tell(ready, ready.engine.take_stop())

    def _add_fork_child(self, parent: Inferior, stop: Stop) -> None:
        engine = stop.value
        assert isinstance(engine, GdbEngine)
        if engine.pid in self.inferiors:
            return
        if stop.reason == "vfork":
            self.inferiors[engine.pid] = parent.vfork_child(engine)
        else:
            self.inferiors[engine.pid] = parent.fork_child(engine)

    def _tell(self, inferior: Inferior, stop: Stop) -> None:
        self.running = False
        self.last = stop
        self.last_pid = inferior.pid
        # gdb takes a stop reply's thread for our general thread (remote.c
        # record_currthread), as gdbserver makes it: it sends no Hg for it.
        self.g_thread = (0, 0)
        if stop.reason in ("fork", "vfork"):
            self._add_fork_child(inferior, stop)
        inferior.forget_traps_if_exec()
        if stop.exited:
            inferior.give_back()  # a vfork child's end: the memory is the parent's
        self._reply(self._stop_reply(inferior, stop))
        if stop.exited and len(self.inferiors) > 1:
            del self.inferiors[inferior.pid]  # gdb mourns it; the others go on

    def _stop_reply(self, inferior: Inferior, stop: Stop) -> bytes:
        if stop.exited:
            inferior.exited = True
            status = stop.status or 0
            if os.WIFSIGNALED(status):
                return replies.killed(signals.to_gdb(os.WTERMSIG(status)), inferior.pid)
            return replies.exited(os.WEXITSTATUS(status), inferior.pid)
        reason: dict = {}
        if stop.reason in ("swbreak", "hwbreak"):
            reason[stop.reason] = True
        elif stop.reason in ("watch", "rwatch", "awatch"):
            reason[stop.reason] = stop.value
        elif stop.reason in ("syscall_entry", "syscall_return"):
            reason[stop.reason] = stop.value
        elif stop.reason == "exec":
            reason["exec_path"] = stop.value
        elif stop.reason in ("fork", "vfork"):
            assert isinstance(stop.value, GdbEngine)
            reason[stop.reason] = ThreadId(stop.value.pid, stop.value.pid)
        elif stop.reason in ("vforkdone", "create"):
            reason[stop.reason] = True
        return replies.stop_reply(signals.to_gdb(stop.signo), ThreadId(inferior.pid, stop.tid),
                                  **reason)

    # -- thread selection ----------------------------------------------------------------
    def _current_tid(self) -> int:
        if self.last is not None and not self.last.exited and self._inferior_of(self.last.tid):
            return self.last.tid
        tids = self._g_inferior().engine.tids()
        return tids[0] if tids else self.pid

    def _g_tid(self) -> int:
        pid, tid = self.g_thread
        if tid > 0:
            return tid
        if pid and pid != self.last_pid:
            tids = self._g_inferior().engine.tids()
            return tids[0] if tids else pid
        return self._current_tid()

    def _att(self, tid: int | None = None):
        tid = self._g_tid() if tid is None else tid
        inferior = self._inferior_of(tid)
        att = inferior.engine.attachment(tid) if inferior is not None else None
        if att is None:
            raise ValueError(f"no thread {tid} in process {self.pid}")
        return att

    def _any_att(self, inferior: Inferior):
        """An attachment in ``inferior`` for process-wide requests (breakpoints)."""
        tid = self._g_tid()
        att = inferior.engine.attachment(tid)
        if att is None:
            atts = inferior.engine.attachments()
            if not atts:
                raise ValueError(f"process {inferior.pid} has no thread left")
            att = atts[0]
        return att

    # -- handlers (each returns the reply payload, or None for no reply) -------------
    def query_supported(self, request: requests.QuerySupported) -> bytes:
        features = dict(FEATURES)
        # Events only to a gdb that knows them (an old gdb would not understand the
        # stop replies); they hold for the processes of this connection from now on.
        if request.features.get("exec-events") is True:
            features["exec-events"] = self.exec_events = True
        if request.features.get("fork-events") is True:
            features["fork-events"] = self.fork_events = True
        if request.features.get("vfork-events") is True:
            features["vfork-events"] = self.vfork_events = True
        for inferior in self.inferiors.values():
            self._tell_engine(inferior.engine)
        return replies.supported(features)

    def start_no_ack(self, request: requests.StartNoAckMode) -> None:
        self._reply(replies.ok())
        self.framer.start_no_ack()

    def halt_reason(self, request: requests.QueryHaltReason) -> bytes | None:
        if not self.inferiors:
            return replies.exited(0)  # nothing runs (gdbserver --multi says so too)
        if self.running:
            inferior = self._g_inferior()
            self._tell(inferior, inferior.engine.wait_stop())
            return None
        assert self.last is not None
        return self._stop_reply(self._g_inferior() if self.last.exited else
                                self._inferior_of(self.last.tid) or self._g_inferior(),
                                self.last)

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
        plans: dict[Inferior, dict[int, Plan]] = {}
        for inferior in self._live():
            for tid in inferior.engine.tids():
                for action in request.actions:
                    if action.thread.matches(inferior.pid, tid):
                        plan = _plan(action.kind, action.signal)
                        if plan is not None:
                            plans.setdefault(inferior, {})[tid] = plan
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
        inferior = self._inferior_of(tid) or self._g_inferior()
        plans: dict[int, Plan] = {}
        if kind == ResumeKind.CONTINUE:
            plans = {t: Plan() for t in inferior.engine.tids()}
        plan = _plan(kind, signal)
        assert plan is not None
        plans[tid] = plan
        self._go({inferior: plans})

    def _go(self, plans: dict[Inferior, dict[int, Plan]]) -> None:
        if self.exited:
            raise ValueError("the process has exited")
        self._with_siginfo(plans)
        self.running = True
        for inferior, its_plans in plans.items():
            if not inferior.engine.resume(its_plans, stale=lambda stop, i=inferior:
                                          _stale(i, stop)):
                break  # a stop that was waiting: told at once (the others are halted)
        self._report_stop_if_ready()

    def _with_siginfo(self, plans: dict[Inferior, dict[int, Plan]]) -> None:
        """The signal gdb passes on at the stop it was told goes with that stop's
        siginfo (as gdb may have written it): the kernel's rule for a ptrace restart
        with the stop's own signal.  Another signal gets a fresh one."""
        stop = self.last
        if stop is None or stop.exited or stop.siginfo is None:
            return
        for its_plans in plans.values():
            plan = its_plans.get(stop.tid)
            if plan is not None and plan.signo and plan.signo == stop.signo:
                its_plans[stop.tid] = Plan(plan.action, plan.signo, stop.siginfo)

    def set_thread(self, request: requests.SetThread) -> bytes:
        pid, tid = request.thread.pid or 0, request.thread.tid
        if pid > 0 and pid not in self.inferiors:
            raise ValueError(f"no process {pid}")
        if tid > 0:
            inferior = self._inferior_of(tid)
            if inferior is None or (pid > 0 and inferior.pid != pid):
                raise ValueError(f"no thread {tid}")
            pid = inferior.pid
        if request.operation == "g":
            self.g_thread = (max(pid, 0), max(tid, 0) if tid > 0 else 0)
        else:
            self.c_thread = tid
        return replies.ok()

    def _thread_ids(self) -> list[ThreadId]:
        return [ThreadId(inf.pid, tid) for inf in self._live() for tid in inf.engine.tids()]

    def thread_list_start(self, request: requests.ThreadListStart) -> bytes:
        return replies.thread_list(self._thread_ids())

    def thread_list_next(self, request: requests.ThreadListNext) -> bytes:
        return replies.thread_list([])

    def current_thread(self, request: requests.QueryCurrentThread) -> bytes:
        tid = self._current_tid()
        inferior = self._inferior_of(tid) or self._g_inferior()
        return replies.current_thread(ThreadId(inferior.pid, tid))

    def thread_alive(self, request: requests.ThreadAlive) -> bytes:
        tid = request.thread.tid
        if self._inferior_of(tid) is not None or (tid in (0, -1) and self._thread_ids()):
            return replies.ok()
        return replies.error(f"thread {tid} is gone")

    def attached(self, request: requests.QueryAttached) -> bytes:
        inferior = self.inferiors.get(request.pid) if request.pid else self._g_inferior()
        if inferior is None:
            return replies.error(f"no process {request.pid}")
        return b"0" if inferior.launched else b"1"

    def insert_breakpoint(self, request: requests.InsertBreakpoint) -> bytes:
        # The process is Hg's: gdb selects a fork child so to take its copies out.
        inferior = self._g_inferior()
        if request.type == BreakpointType.SOFTWARE:
            inferior.insert_breakpoint(request.address)
            return replies.ok()
        access = WATCH_ACCESS.get(request.type)
        if access is None:
            return replies.empty()  # read-only watches: not on x86
        key = (request.type, request.address, request.kind)
        if key not in inferior.watchpoints:
            att = self._any_att(inferior)
            try:
                inferior.watchpoints[key] = att.insert_watchpoint(request.address, request.kind,
                                                                  access)
            except NotSupportedError:
                return replies.empty()
        return replies.ok()

    def remove_breakpoint(self, request: requests.RemoveBreakpoint) -> bytes:
        inferior = self._g_inferior()
        if request.type == BreakpointType.SOFTWARE:
            if request.address not in inferior.breakpoints:
                return replies.error(f"no breakpoint of ours at {request.address:#x}")
            inferior.remove_breakpoint(request.address)
            return replies.ok()
        if request.type not in WATCH_ACCESS:
            return replies.empty()
        wp = inferior.watchpoints.pop((request.type, request.address, request.kind), None)
        if wp is None:
            return replies.error(f"no watchpoint of ours at {request.address:#x}")
        self._any_att(inferior).remove_watchpoint(wp)
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
            pid = requests.hex_number(annex.encode(), "pid") if annex else self.pid
            return os.readlink(f"/proc/{pid}/exe").encode()
        if name == "threads":
            return libraries.threads_xml((inf.pid, tid) for inf in self._live()
                                         for tid in inf.engine.tids())
        if name == "libraries-svr4":
            return libraries.svr4_xml(self.process)
        if name == "siginfo":
            return self._siginfo()
        return None

    def _siginfo_stop(self) -> Stop:
        """The last stop, if it has a siginfo and its thread is Hg's (gdb's `$_siginfo`)."""
        stop = self.last
        if stop is None or stop.exited or stop.tid != self._g_tid() or stop.siginfo is None:
            raise ValueError("no signal information for this thread's stop")
        return stop

    def _siginfo(self) -> bytes:
        return self._siginfo_stop().siginfo or b""

    def xfer_write(self, request: requests.XferWrite) -> bytes:
        """`qXfer:siginfo:write` (gdb's `set $_siginfo...`): the stop's siginfo changes,
        and the signal is delivered with it if gdb passes it on (`continue`)."""
        if request.object != "siginfo":
            return replies.empty()
        stop = self._siginfo_stop()
        info = bytearray(stop.siginfo or b"")
        if request.offset > len(info):
            raise ValueError(f"offset {request.offset:#x} is past the siginfo's end")
        data = request.data[:len(info) - request.offset]
        info[request.offset:request.offset + len(data)] = data
        stop.siginfo = bytes(info)
        return b"%x" % len(data)

    def pass_signals(self, request: requests.PassSignals) -> bytes:
        passed = frozenset(host for host in map(signals.from_gdb, request.signals) if host)
        for inferior in self.inferiors.values():
            inferior.engine.pass_signals = passed
        return replies.ok()

    def set_thread_events(self, request: requests.ThreadEvents) -> bytes:
        """`QThreadEvents:1`: a new thread's birth is a stop (`create:`), as gdbserver's."""
        self.thread_events = request.enabled
        for inferior in self.inferiors.values():
            inferior.engine.thread_events = request.enabled
        return replies.ok()

    def catch_syscalls(self, request: requests.CatchSyscalls) -> bytes:
        for inferior in self.inferiors.values():
            inferior.engine.catch_syscalls = request.numbers if request.enabled else None
            inferior.engine.set_events_everywhere()
        return replies.ok()

    def detach(self, request: requests.Detach) -> bytes | None:
        """`D` lets go of everything; `D;pid` of that process (gdb's fork handling).

        The connection ends, except in extended mode (gdb may `run` or `attach` next).
        """
        if request.pid is not None and len(self.inferiors) > 1:
            inferior = self.inferiors.pop(request.pid, None)
            if inferior is None:
                raise ValueError(f"no process {request.pid}")
            self._forget(inferior)
            return replies.ok()
        if not self.extended:
            self._reply(replies.ok())
            raise Done
        for inferior in list(self.inferiors.values()):
            self._forget(inferior)
        self.inferiors.clear()
        self.running = False
        return replies.ok()

    def _forget(self, inferior: Inferior) -> None:
        inferior.let_go()
        self.inferiors.pop(inferior.pid, None)
        if self.g_thread[0] == inferior.pid:
            self.g_thread = (0, 0)
        if self.last_pid == inferior.pid and self.inferiors:
            self.last_pid = next(iter(self.inferiors))

    def kill(self, request: requests.Kill | requests.KillProcess) -> bytes | None:
        inferior = self.inferiors.get(request.pid) if isinstance(
            request, requests.KillProcess) else None
        if inferior is not None and len(self.inferiors) > 1:
            return self._kill_one(inferior)  # gdb's `kill inferiors N`, one of several
        live = self._live()
        why = next((why for why in map(self._why_not_kill, live) if why), None)
        if why is None:
            for inferior in live:
                inferior.process.kill()
                inferior.process.wait(30)  # SIGKILL: its death comes, never a hang
            if isinstance(request, requests.KillProcess):
                self._reply(replies.ok())
            if self.extended:  # the connection stays, for gdb's next `run`
                for inferior in self.inferiors.values():
                    inferior.engine.detach()
                    inferior.exited = True
                self.running = False
                return None
            raise Done
        # gdb reads an `O` packet only while the program runs, so the reason goes
        # into vKill's error (gdb shows it) and our own stderr; `k` has no reply.
        message = f"not killing process {self.pid}: {why}; detached instead"
        log.warning("%s: %s", self.label, message)
        if isinstance(request, requests.KillProcess):
            self._reply(replies.error(message))
        raise Done

    def _kill_one(self, inferior: Inferior) -> bytes:
        why = self._why_not_kill(inferior)
        del self.inferiors[inferior.pid]
        if why is not None:
            inferior.let_go()
            log.warning("%s: not killing process %d: %s; detached instead",
                        self.label, inferior.pid, why)
            return replies.error(f"not killing process {inferior.pid}: {why}; detached instead")
        inferior.process.kill()
        inferior.process.wait(30)
        inferior.engine.detach()
        return replies.ok()

    def _why_not_kill(self, inferior: Inferior) -> str | None:
        if not inferior.launched:
            return "it was attached to, not launched"
        if inferior is self.first and self.first_shared and self.others():
            return "another gdb is connected to it"
        if inferior.engine.others_attached():
            return "other engines trace it"
        return None

    # -- extended-remote: run and attach in the same session ----------------------------
    def extended_mode(self, request: requests.ExtendedMode) -> bytes:
        self.extended = True
        return replies.ok()

    def run_program(self, request: requests.Run) -> bytes:
        if not self.extended:
            return replies.empty()
        if self.launcher is None:
            raise ValueError("this server does not run programs (it was started with -p PID)")
        self._check_idle()
        argv = [request.program.decode(errors="surrogateescape"),
                *(a.decode(errors="surrogateescape") for a in request.arguments)]
        process = self.launcher(argv if request.program else [], self.run_settings)
        self._serve_process(process, launched=True)
        process.start()  # held by this engine before its first instruction
        assert self.last is not None and self.first is not None
        return self._stop_reply(self.first, self.last)

    def attach_process(self, request: requests.Attach) -> bytes:
        """`vAttach;pid` (gdb's `attach PID` in extended mode): a new engine, all held."""
        if not self.extended:
            return replies.empty()
        if self.attacher is None:
            raise ValueError("this server does not attach to processes")
        self._check_idle()
        process = self.attacher(request.pid)
        self._serve_process(process, launched=False)
        assert self.last is not None and self.first is not None
        return self._stop_reply(self.first, self.last)

    def _check_idle(self) -> None:
        if not self.exited:
            raise ValueError(f"process {self.pid} is still being debugged: kill or detach it "
                             "first")

    def _serve_process(self, process: Process, launched: bool) -> None:
        """A new process for this connection: a new engine on it, held as at the start."""
        self.first = self._new_inferior(process, launched)
        self.first_shared = False  # this connection's own, whatever other gdbs debug
        self.inferiors = {self.first.pid: self.first}
        self.last_pid, self.g_thread, self.c_thread = self.first.pid, (0, 0), -1
        self.start()

    def set_environment(self, request: requests.EnvironmentSet) -> bytes:
        self.run_settings.set(request.name, request.value)
        return replies.ok()

    def unset_environment(self, request: requests.EnvironmentUnset) -> bytes:
        self.run_settings.unset(request.name)
        return replies.ok()

    def reset_environment(self, request: requests.EnvironmentReset) -> bytes:
        self.run_settings.environment = None
        return replies.ok()

    def set_working_dir(self, request: requests.SetWorkingDir) -> bytes:
        self.run_settings.cwd = os.fsdecode(request.directory) or None
        return replies.ok()

    def disable_randomization(self, request: requests.DisableRandomization) -> bytes:
        self.run_settings.disable_randomization = request.enabled
        return replies.ok()

    # -- the end ------------------------------------------------------------------------
    def _let_go(self) -> None:
        """Our breakpoints and watchpoints out, our holds released: the others go on."""
        for inferior in self.inferiors.values():
            inferior.let_go()


def _stale(inferior: Inferior, stop: Stop) -> bool:
    """A breakpoint hit held back while another stop was told: is its breakpoint gone?"""
    return stop.reason == "swbreak" and stop.value not in inferior.breakpoints


def _plan(kind: ResumeKind, signal: int | None) -> Plan | None:
    signo = signals.from_gdb(signal) if signal else 0
    if kind == ResumeKind.STOP:
        return None
    if kind in (ResumeKind.STEP, ResumeKind.RANGE_STEP):
        return Plan(Resume.SINGLESTEP, signo or 0)
    return Plan(Resume.RESUME, signo or 0)


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
    requests.XferWrite: GdbSession.xfer_write,
    requests.PassSignals: GdbSession.pass_signals,
    requests.CatchSyscalls: GdbSession.catch_syscalls,
    requests.ThreadEvents: GdbSession.set_thread_events,
    requests.Detach: GdbSession.detach,
    requests.ExtendedMode: GdbSession.extended_mode,
    requests.Run: GdbSession.run_program,
    requests.Attach: GdbSession.attach_process,
    requests.EnvironmentSet: GdbSession.set_environment,
    requests.EnvironmentUnset: GdbSession.unset_environment,
    requests.EnvironmentReset: GdbSession.reset_environment,
    requests.SetWorkingDir: GdbSession.set_working_dir,
    requests.DisableRandomization: GdbSession.disable_randomization,
    requests.Kill: GdbSession.kill,
    requests.KillProcess: GdbSession.kill,
}

__all__ = ["CLOSED", "MAX_PACKET", "Attacher", "GdbSession", "Launcher", "RunSettings"]
