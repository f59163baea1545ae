"""The gdb remote serial protocol, sans I/O: framing, requests, replies, target descriptions.

Bytes in, events out: the gdb engine and server (``engine.py``, ``server.py``)
do the I/O and the tracing; these modules only translate.
"""

from . import replies
from .packets import MAX_PACKET, Framer, Interrupt, Packet, ProtocolError
from .requests import (
    Attach,
    BreakpointType,
    CatchSyscalls,
    Continue,
    Detach,
    ExtendedMode,
    InsertBreakpoint,
    Kill,
    KillProcess,
    Monitor,
    PassSignals,
    ProgramSignals,
    QueryAttached,
    QueryCurrentThread,
    QueryHaltReason,
    QueryResumeActions,
    QuerySupported,
    ReadMemory,
    ReadRegister,
    ReadRegisters,
    RemoveBreakpoint,
    Request,
    Resume,
    ResumeAction,
    ResumeKind,
    Run,
    SetThread,
    StartNoAckMode,
    Step,
    ThreadAlive,
    ThreadId,
    ThreadListNext,
    ThreadListStart,
    Unknown,
    WriteMemory,
    WriteRegister,
    WriteRegisters,
    XferRead,
    parse,
)
from .targetdesc import (
    GdbRegister,
    apply_G,
    features_document,
    g_packet_size,
    read_register,
    register_table,
    registers_to_g,
    target_xml,
    write_register,
)

__all__ = [
    "MAX_PACKET", "Attach", "BreakpointType", "CatchSyscalls", "Continue", "Detach",
    "ExtendedMode", "Framer", "GdbRegister", "InsertBreakpoint", "Interrupt", "Kill",
    "KillProcess", "Monitor", "Packet", "PassSignals", "ProgramSignals", "ProtocolError",
    "QueryAttached", "QueryCurrentThread", "QueryHaltReason", "QueryResumeActions",
    "QuerySupported", "ReadMemory", "ReadRegister", "ReadRegisters", "RemoveBreakpoint", "Request",
    "Resume", "ResumeAction", "ResumeKind", "Run", "SetThread", "StartNoAckMode", "Step",
    "ThreadAlive", "ThreadId", "ThreadListNext", "ThreadListStart", "Unknown", "WriteMemory",
    "WriteRegister", "WriteRegisters", "XferRead", "apply_G", "features_document", "g_packet_size",
    "parse", "read_register", "register_table", "registers_to_g", "replies", "target_xml",
    "write_register",
]
