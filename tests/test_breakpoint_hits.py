"""A breakpoint hit is the breakpoint service's ``trap`` hook, as a watchpoint's is
the watchpoint service's (docs/architecture.md): units, no process.

The service is given a fake process (its memory a dict of bytes), a thread
stopped just past a trap, and a port (``hooks.ServicePort``) that records
what the service asked of the tracer: the registers, the step-over owed,
the reports.
"""

from __future__ import annotations

from types import SimpleNamespace

from test_breakpoint_tables import FakeProcess

from pydbg_utrace.breakpoints import Breakpoint, BreakpointService
from pydbg_utrace.hooks import Hooks

SI_KERNEL = 0x80  # x86_64's int3
TRAP_TRACE = 2
ADDRESS = 0x1000


class Port:
    def __init__(self, pc: int) -> None:
        self.regs = SimpleNamespace(pc=pc)
        self.owed: list[tuple[object, int]] = []
        self.hits: list[tuple[object, list, int]] = []
        self.conditions: list[int] = []

    def registers(self, thread):
        return self.regs

    def owe_step_over(self, thread, address):
        self.owed.append((thread, address))

    def report_hit(self, thread, owners, address, watchpoint=None):
        self.hits.append((thread, list(owners), address))

    def condition_report(self, thread, address):
        self.conditions.append(address)
        return SimpleNamespace(thread=thread, address=address)


class FakeThread:
    """A thread with what the hook reads (hashable: a software step's traps keep a set)."""

    def __init__(self, tid, process):
        self.tid, self.process, self.arch = tid, process, process.arch
        self.attachments: list = []
        self.at_trap = None


def stopped_past_the_trap(engines):
    """A service with a trap at ADDRESS and a thread of the process stopped past it."""
    process = FakeProcess()
    process.arch.breakpoint_si_code = SI_KERNEL
    process.arch.breakpoint_pc_offset = 1
    port = Port(pc=ADDRESS + 1)
    service = BreakpointService(port)
    thread = FakeThread(7, process)
    thread.attachments = [SimpleNamespace(engine=e, thread=thread) for e in engines]
    return service, port, thread


def test_a_hit_is_rewound_owed_a_step_over_and_reported_to_its_owners_only():
    mine, other, bystander = object(), object(), object()
    service, port, thread = stopped_past_the_trap([mine, bystander, other])
    table = service.table_for(thread.process)
    table.add(Breakpoint(ADDRESS, mine))
    table.add(Breakpoint(ADDRESS, other))
    assert Hooks([service]).trap(thread, SimpleNamespace(code=SI_KERNEL))
    assert port.regs.pc == ADDRESS  # rewound: the original instruction runs next
    assert port.owed == [(thread, ADDRESS)]
    [(_, owners, address)] = port.hits
    assert [att.engine for att in owners] == [mine, other] and address == ADDRESS


def test_a_condition_sees_the_address_and_a_oneshot_goes_after_its_hit():
    engine, seen = object(), []
    service, port, thread = stopped_past_the_trap([engine])
    table = service.table_for(thread.process)
    bp = Breakpoint(ADDRESS, engine, condition=lambda r: seen.append(r.address) or True,
                    oneshot=True)
    table.add(bp)
    assert service.trap(thread, SimpleNamespace(code=SI_KERNEL))
    assert seen == [ADDRESS] and bp.hits == 1
    assert not bp.inserted and service.live(thread.process) is None  # the trap is gone


def test_a_false_condition_tells_nobody_but_the_trap_is_still_ours():
    engine = object()
    service, port, thread = stopped_past_the_trap([engine])
    service.table_for(thread.process).add(Breakpoint(ADDRESS, engine, condition=lambda r: False))
    assert service.trap(thread, SimpleNamespace(code=SI_KERNEL))
    assert port.hits == [] and port.owed == [(thread, ADDRESS)] and port.regs.pc == ADDRESS


def test_not_ours_a_step_a_step_over_end_or_no_trap_there():
    engine = object()
    service, port, thread = stopped_past_the_trap([engine])
    assert not service.trap(thread, SimpleNamespace(code=SI_KERNEL))  # no table yet
    service.table_for(thread.process).add(Breakpoint(0x2000, engine))
    assert not service.trap(thread, SimpleNamespace(code=SI_KERNEL))  # no trap at pc-1
    assert not service.trap(thread, SimpleNamespace(code=TRAP_TRACE))  # a step's trap
    assert not service.trap(thread, None)  # the end of a step-over
    assert port.hits == port.owed == [] and port.regs.pc == ADDRESS + 1


def test_a_software_step_ends_at_its_own_trap_not_as_a_hit():
    """ppc64's atomic sequences (no host test reaches them): the traps planted for a
    thread's software step end the step there -- rewound, the step's traps dropped,
    ``on_step`` -- and the breakpoint service's hook is not asked."""
    from pydbg_utrace.tracer.traps import Traps

    engine = object()
    service, port, thread = stopped_past_the_trap([engine])
    table = service.table_for(thread.process)
    table.add_step(thread, ADDRESS)
    stepped = []
    traps = Traps(None, service)
    traps.resumer = SimpleNamespace(registers=port.registers)
    traps.stops = SimpleNamespace(on_step=stepped.append)
    info = SimpleNamespace(code=SI_KERNEL)
    other = FakeThread(8, thread.process)
    assert not traps.on_software_step_end(other, info)  # another thread's step: a trap, no end
    assert traps.on_software_step_end(thread, info)
    assert stepped == [thread] and thread.at_trap == ADDRESS and port.regs.pc == ADDRESS
    assert service.live(thread.process) is None  # the step's traps are gone
