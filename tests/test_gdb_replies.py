"""Reply serialisers of the gdb remote protocol, against gdbserver's own replies."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pydbg_utrace.gdb import replies
from pydbg_utrace.gdb.packets import Framer, Packet
from pydbg_utrace.gdb.requests import ThreadId

SETTINGS = settings(derandomize=True, max_examples=300, deadline=None)
MAIN = ThreadId(0x4AC1, 0x4AC1)
EXPEDITED = {6: b"10e7ffffff7f0000", 7: b"58e4ffffff7f0000", 0x10: b"60c0fcf7ff7f0000"}


def without_core(reply: bytes) -> bytes:
    return reply.replace(b"core:1;", b"").replace(b"core:0;", b"")


def test_stop_replies_are_gdbservers():
    # tests/data/gdb-session-x86_64.to-gdb.gz, gdbserver 13.1 (we send no core:).
    assert replies.stop_reply(5, MAIN, swbreak=True, registers=EXPEDITED) == without_core(
        b"T05swbreak:;06:10e7ffffff7f0000;07:58e4ffffff7f0000;10:60c0fcf7ff7f0000;"
        b"thread:p4ac1.4ac1;core:1;")
    assert replies.stop_reply(5, MAIN, syscall_entry=1) == b"T05syscall_entry:1;thread:p4ac1.4ac1;"
    assert replies.stop_reply(5, MAIN, syscall_return=1) == (
        b"T05syscall_return:1;thread:p4ac1.4ac1;")
    assert replies.stop_reply(5, MAIN, watch=0x55555555803C) == (
        b"T05watch:55555555803c;thread:p4ac1.4ac1;")


def test_stop_reply_forms():
    assert replies.stop_reply(5, ThreadId(0x1234, 0x1235), swbreak=True) == (
        b"T05swbreak:;thread:p1234.1235;")
    assert replies.stop_reply(0x13) == b"T13"
    assert replies.stop_reply(5, MAIN, rwatch=0x10) == b"T05rwatch:10;thread:p4ac1.4ac1;"
    assert replies.stop_reply(5, MAIN, awatch=0x10) == b"T05awatch:10;thread:p4ac1.4ac1;"
    assert replies.stop_reply(5, MAIN, hwbreak=True) == b"T05hwbreak:;thread:p4ac1.4ac1;"
    assert replies.stop_reply(5, MAIN, library=True) == b"T05library:;thread:p4ac1.4ac1;"


def test_exit_and_kill():
    assert replies.exited(0, 0x1234) == b"W00;process:1234"
    assert replies.exited(3) == b"W03"  # gdbserver writes "W3": gdb reads either
    assert replies.killed(9, 0x1234) == b"X09;process:1234"


def test_simple_replies():
    assert replies.ok() == b"OK"
    assert replies.empty() == b""
    assert replies.error(1) == b"E01"
    assert replies.error(0x16) == b"E16"
    assert replies.error("cannot access memory at 0x0") == b"E.cannot access memory at 0x0"
    # one line, and nothing gdb would take for framing or a run length
    assert replies.error("a\nb #1 * $2 }") == b"E.a b ?1 ? ?2 ?"
    assert replies.hex_bytes(b"\x00\xffA") == b"00ff41"
    assert replies.console("hi\n") == b"O68690a"
    assert replies.current_thread(MAIN) == b"QCp4ac1.4ac1"


def test_thread_list():
    assert replies.thread_list([MAIN, ThreadId(0x4AC1, 0x4AC2)]) == b"mp4ac1.4ac1,p4ac1.4ac2"
    assert replies.thread_list([]) == b"l"


def test_supported():
    assert replies.supported({"PacketSize": 0x47FF, "QStartNoAckMode": True, "multiprocess": True,
                              "qXfer:features:read": True, "fork-events": False}) == (
        b"PacketSize=47ff;QStartNoAckMode+;multiprocess+;qXfer:features:read+;fork-events-")


@SETTINGS
@given(st.binary(max_size=3000), st.integers(1, 1000))
def test_xfer_chunks_reassemble_through_the_framer(data, length):
    """gdb's loop (remote.c ``remote_read_qxfer``): read at the offset until ``l``."""
    framer, out, offset = Framer(), b"", 0
    while True:
        [packet] = framer.feed(framer.frame(replies.xfer_chunk(data, offset, length)))
        assert isinstance(packet, Packet)
        kind, chunk = packet.payload[:1], packet.payload[1:]
        assert len(chunk) <= length
        out += chunk
        offset += len(chunk)
        if kind == b"l":
            break
        assert kind == b"m" and chunk
    assert out == data


def test_xfer_past_the_end_is_an_empty_last_chunk():
    assert replies.xfer_chunk(b"abc", 3, 10) == b"l"
    assert replies.xfer_chunk(b"abc", 99, 10) == b"l"


def test_stop_reply_exec_event_carries_the_new_program_in_hex():
    reply = replies.stop_reply(5, ThreadId(0x4d2, 0x4d2), exec_path=b"/bin/true")
    assert reply == b"T05exec:" + b"/bin/true".hex().encode() + b";thread:p4d2.4d2;"


def test_fork_vfork_and_vforkdone_stop_replies_are_gdbservers():
    # gdbserver 13.1 on tests/tracees/gdb_fork.c (`set debug remote 1`), less its
    # expedited registers and core:.
    parent = ThreadId(0x19C8, 0x19C8)
    assert replies.stop_reply(5, parent, fork=ThreadId(0x19E4, 0x19E4)) == (
        b"T05fork:p19e4.19e4;thread:p19c8.19c8;")
    assert replies.stop_reply(5, parent, vfork=ThreadId(0x589E, 0x589E)) == (
        b"T05vfork:p589e.589e;thread:p19c8.19c8;")
    assert replies.stop_reply(5, parent, vforkdone=True) == b"T05vforkdone:;thread:p19c8.19c8;"


def test_create_stop_reply_is_gdbservers():
    # gdbserver 13.1 after `maint packet QThreadEvents:1` on tests/tracees/gdb_threads.c,
    # less its expedited registers and core:.
    assert replies.stop_reply(5, ThreadId(0x12B3, 0x1334), create=True) == (
        b"T05create:;thread:p12b3.1334;")
