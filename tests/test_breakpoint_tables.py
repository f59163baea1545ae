"""The breakpoint service owns its tables; a process only hears ``settled`` while needed.

No process: a fake address space (bytes in a dict) and a fake process with
the members the service uses (``seams.ProcessSide``).
"""

from __future__ import annotations

import gc

from pydbg_utrace.breakpoints import Breakpoint, BreakpointService

TRAP = b"\xcc"


class FakeSpace:
    def __init__(self) -> None:
        self.pid = 4242
        self.bytes = {0x1000: b"\x90", 0x2000: b"\x91"}
        self.traps: dict = {}

    def read_raw(self, address: int, size: int) -> bytes:
        return self.bytes.get(address, b"")[:size]

    def write_raw(self, address: int, data: bytes) -> None:
        self.bytes[address] = data


class FakeArch:
    breakpoint_instruction = TRAP


class FakeProcess:
    def __init__(self) -> None:
        self.pid = 4242
        self.threads: dict = {}
        self.memory = FakeSpace()
        self.arch = FakeArch()
        self.settle = None
        self.running = [7]  # the threads that may owe a hit (unsettled)

    def memory_lent(self) -> bool:
        return False

    def unsettled(self) -> list[int]:
        return list(self.running)

    def gone_in_kernel(self) -> bool:
        return False


def test_the_process_hears_settled_only_while_a_removed_trap_may_be_owed():
    service, process = BreakpointService(port=None), FakeProcess()
    table = service.table_for(process)
    bp = Breakpoint(0x1000, engine=object())
    table.add(bp)
    assert process.memory.bytes[0x1000] == TRAP and process.settle is None
    assert service.live(process) is table and service.trap_at(process, 0x1000) is not None
    table.discard(bp)  # thread 7 ran meanwhile: it may owe the trap a hit
    assert process.memory.bytes[0x1000] == b"\x90"
    assert service.live(process) is None and service.owing(process) is table
    assert process.settle == table.settled
    process.settle(7)  # thread 7 reported a stop that proves it owes nothing
    assert service.owing(process) is None and process.settle is None


def test_exec_forgets_the_table_without_writing_and_detach_writes_the_originals():
    service, process = BreakpointService(port=None), FakeProcess()
    table = service.table_for(process)
    table.add(Breakpoint(0x1000, engine=object()))
    service.exec(process)
    assert process.memory.bytes[0x1000] == TRAP  # (that memory is gone in a real exec)
    assert service.live(process) is None and process not in service.tables
    table = service.table_for(process)
    table.add(Breakpoint(0x2000, engine=object()))
    assert service.restore_for_detach(process) == {0x2000: b"\x91"}
    assert process.memory.bytes[0x2000] == b"\x91" and process not in service.tables


def test_a_table_does_not_keep_its_process_alive():
    service, process = BreakpointService(port=None), FakeProcess()
    service.table_for(process).add(Breakpoint(0x1000, engine=object()))
    del process
    gc.collect()
    assert len(service.tables) == 0
