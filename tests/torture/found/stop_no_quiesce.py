"""FOUND.md, finding B: run ``python3 tests/torture/found/stop_no_quiesce.py``.

``control(STOP)`` on a running thread raises InProgressError and promises a
``report_quiesce`` once the thread stops.  When the stop it lands on is a
new thread's first stop, or a vfork parent's VFORK_DONE stop, the thread is
held (kernel state ``t``) but the engine is never told.  Prints one line per
case and exits 1 if any case got no quiesce within 2 s.
"""

import os
import subprocess
import sys
import tempfile
import threading

from pydbg_utrace import Engine, Event, InProgressError, Resume, Tracer

HERE = os.path.dirname(os.path.abspath(__file__))


class Holder(Engine):
    def __init__(self):
        self.quiesced = threading.Event()

    def report_quiesce(self, att, report):
        self.quiesced.set()
        return Resume.STOP


class Watch(Engine):
    """On the main thread: STOP each new thread before its first stop; flag vforks."""

    def __init__(self, stop_births):
        self.stop_births = stop_births
        self.births = []  # (tid, holder, attachment) where STOP raised InProgressError
        self.vforked = threading.Event()

    def report_clone(self, att, report):
        if report.clone_kind == "vfork":
            self.vforked.set()
        elif report.clone_kind == "thread" and self.stop_births:
            holder = Holder()
            hold = report.child.attach(holder)
            hold.set_events(Event.QUIESCE)
            try:
                hold.control(Resume.STOP)
            except InProgressError:  # not born yet: it stops at its first stop
                self.births.append((report.child.tid, holder, hold))


def state(tid):
    with open(f"/proc/{tid}/status") as fh:
        return [line for line in fh if line.startswith("State")][0].split(":")[1].strip()


def main() -> int:
    exe = os.path.join(tempfile.mkdtemp(), "vfork_stepover")
    subprocess.run(["cc", "-O0", "-g", "-pthread", "-o", exe,
                    os.path.join(HERE, "vfork_stepover.c")], check=True)
    tracer = Tracer()
    bad = 0
    # 1. STOP a new thread from report_clone, before its first stop.
    process = tracer.launch([exe])
    watch = Watch(stop_births=True)
    process.main_thread.attach(watch).set_events(Event.CLONE)
    process.start()
    assert watch.vforked.wait(10), "no vfork reported"
    for tid, holder, hold in watch.births:
        told = holder.quiesced.wait(2)
        print(f"new thread {tid}: STOP in progress at birth, quiesce reported: {told}, "
              f"kernel state {state(tid)}")
        bad += not told
        hold.control(Resume.DETACH)
    print(f"finished: {process.wait(30)}")
    # 2. STOP the main thread while it waits in vfork() (the child sleeps 20 ms, then execs).
    process = tracer.launch([exe])
    watch = Watch(stop_births=False)
    process.main_thread.attach(watch).set_events(Event.CLONE)
    process.start()
    assert watch.vforked.wait(10), "no vfork reported"
    holder = Holder()
    hold = process.main_thread.attach(holder)
    hold.set_events(Event.QUIESCE)
    try:
        hold.control(Resume.STOP)
        print("main thread: STOP took effect at once (not in vfork): rerun")
    except InProgressError:
        told = holder.quiesced.wait(2)
        print(f"main thread in vfork(): STOP in progress, quiesce reported: {told}, "
              f"kernel state {state(process.pid)}")
        bad += not told
    hold.control(Resume.DETACH)
    print(f"finished: {process.wait(30)}")
    tracer.close()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
