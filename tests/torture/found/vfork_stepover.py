"""FOUND.md, finding A: run ``python3 tests/torture/found/vfork_stepover.py``.

A breakpoint on a function two threads call in a loop while the main thread
vforks children that sleep before they exec.  Expected: "done", exit 0.
Today: the tracer deadlocks (the program never ends; this script says so
after 20 s and prints the threads' states).
"""

import os
import subprocess
import sys
import tempfile

from pydbg_utrace import Engine, Event, Tracer
from pydbg_utrace.symbols import Symbols

HERE = os.path.dirname(os.path.abspath(__file__))


class Follow(Engine):
    def report_clone(self, att, report):
        if report.clone_kind == "thread":
            report.child.attach(self).set_events(att.events)

    def report_breakpoint(self, att, report):
        pass


def main() -> int:
    exe = os.path.join(tempfile.mkdtemp(), "vfork_stepover")
    subprocess.run(["cc", "-O0", "-g", "-pthread", "-o", exe,
                    os.path.join(HERE, "..", "..", "tracees", "vfork_stepover.c")], check=True)
    tracer = Tracer()
    process = tracer.launch([exe])
    att = process.main_thread.attach(Follow())
    att.set_events(Event.CLONE)
    att.insert_breakpoint(Symbols(process.pid).address_of("target"))
    process.start()
    status = process.wait(20)
    if status is None:
        for tid in sorted(os.listdir(f"/proc/{process.pid}/task")):
            with open(f"/proc/{process.pid}/task/{tid}/wchan") as fh:
                state = [line for line in open(f"/proc/{process.pid}/task/{tid}/status")
                         if line.startswith("State")][0].split(":")[1].strip()
                print(f"thread {tid}: {state}, wchan {fh.read()}")
        print("DEADLOCK: the program did not finish in 20 s")
        os.kill(process.pid, 9)
        os._exit(1)
    tracer.close()
    print(f"finished: status {status:#x}")
    return 0 if status == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
