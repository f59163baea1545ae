"""Stops of a thread killed before the tracer's requests on it (torture FOUND M, O): units.

:class:`pydbg_utrace.tracer.stops.Stops` is the unit; the kernel's siginfo
request and the handlers after it are stand-ins (no process).
"""

from __future__ import annotations

import signal
from types import SimpleNamespace

from pydbg_utrace import kernel
from pydbg_utrace.process import Thread
from pydbg_utrace.tracer.stops import Stops

TID = 4242
EXIT_STOP_CODE = signal.SIGTRAP | kernel.PTRACE_EVENT_EXIT << 8  # 0x605


def stops_seeing(monkeypatch, code: int) -> tuple[Stops, list]:
    """Stops whose siginfo read answers SIGTRAP with ``code``; what it then did."""
    monkeypatch.setattr(kernel, "get_siginfo",
                        lambda tid: kernel.Siginfo.fresh(signal.SIGTRAP, code))
    did: list = []
    stops = Stops(None, None, None, None)
    stops.on_exit = lambda thread: did.append(("exit", thread.tid))
    stops.resumer = SimpleNamespace(resume=lambda thread: did.append(("resume", thread.tid)))
    stops.traps = SimpleNamespace(on_late_trap_hit=lambda thread, info: False,
                                  on_software_step_end=lambda thread, info: False,
                                  stepped_into_trap=lambda thread, info: False)
    stops.hooks = SimpleNamespace(trap=lambda thread, info: False)
    stops.reporter = SimpleNamespace(
        report=lambda thread, report, event: did.append(("SIGTRAP shown", thread.tid))
        or SimpleNamespace(hold=False))
    return stops, did


def test_a_sigtrap_stop_whose_siginfo_is_the_exit_stops_is_handled_as_the_exit(monkeypatch):
    """Seen in the storm with -x: a 0x57f stop, then execve()'s SIGKILL took the thread to
    its exit stop before the tracer read the siginfo (si_code 0x605).  It was shown to the
    engines as a SIGTRAP and resumed with it, consuming the exit stop: no EXIT report."""
    stops, did = stops_seeing(monkeypatch, EXIT_STOP_CODE)
    stops.on_signal_stop(Thread(None, TID, None), signal.SIGTRAP)
    assert did == [("exit", TID)]


def test_a_sigtrap_sent_by_a_program_is_still_a_signal(monkeypatch):
    stops, did = stops_seeing(monkeypatch, kernel.SI_TKILL)
    monkeypatch.setattr("pydbg_utrace.signals.read_masks", lambda tid: (0, 0))
    stops.on_signal_stop(Thread(None, TID, None), signal.SIGTRAP)
    assert ("exit", TID) not in did and ("SIGTRAP shown", TID) in did


def test_a_thread_killed_under_its_stops_handler_is_left_to_its_exit_stop(monkeypatch):
    """FOUND O: a 0x57f, then execve()'s SIGKILL before the handler read the registers
    (ESRCH): logged as a tracer bug; its exit stop came next and was handled."""
    from pydbg_utrace.process import State
    from pydbg_utrace.stopkinds import StopKind

    def killed(thread, sig, event):
        raise kernel.NoSuchProcessError(3, "PTRACE_GETREGSET", thread.tid)

    stops, _did = stops_seeing(monkeypatch, kernel.SI_TKILL)
    stops.handlers[StopKind.SIGNAL] = killed
    thread = Thread(None, TID, None)
    thread.born = True
    stops.on_stop(thread, 0x57F)  # raised out of the loop before (logged)
    assert thread.state == State.RUNNING  # on its way to its exit stop
