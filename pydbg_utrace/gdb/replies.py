"""Replies of the gdb remote protocol as payload bytes (frame them with ``Framer.frame``).

Each function returns the payload only; ``Framer.frame`` escapes ``$ # } *``
and adds the checksum, so binary replies (``qXfer``) need nothing more here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from .requests import ThreadId

_UNSAFE_IN_TEXT = re.compile(rb"[$#*}\x00-\x1f]")


def ok() -> bytes:
    return b"OK"


def empty() -> bytes:
    """The reply to a packet we do not support."""
    return b""


def error(code_or_message: int | str) -> bytes:
    """``E01`` for a number, ``E.text`` for a message (gdb prints the text).

    The text stays on one line and drops ``$ # * }``: gdb unescapes only
    binary replies, so those would reach the user mangled.
    """
    if isinstance(code_or_message, int):
        return b"E%02x" % (code_or_message & 0xFF)
    text = " ".join(code_or_message.split())
    return b"E." + _UNSAFE_IN_TEXT.sub(b"?", text.encode("utf-8", "replace"))


def hex_bytes(data: bytes) -> bytes:
    """Bytes as lower-case hex (``m`` replies, register values)."""
    return data.hex().encode()


def stop_reply(signo: int, thread: ThreadId | None = None, *, swbreak: bool = False,
               hwbreak: bool = False, watch: int | None = None, rwatch: int | None = None,
               awatch: int | None = None, syscall_entry: int | None = None,
               syscall_return: int | None = None, library: bool = False,
               exec_path: bytes | None = None, fork: ThreadId | None = None,
               vfork: ThreadId | None = None, vforkdone: bool = False, create: bool = False,
               registers: Mapping[int, bytes] | None = None) -> bytes:
    """``T05thread:p4d2.4d3;swbreak:;``: stopped by ``signo`` for one reason.

    ``registers`` are expedited values (number -> hex payload) gdb then need not ask for.
    The order is gdbserver's (remote-utils.cc ``prepare_resume_reply``): the reason,
    the registers, then the thread.
    """
    parts = [b"T%02x" % signo]
    for name, child in (("fork", fork), ("vfork", vfork)):  # the new process's thread
        if child is not None:
            parts.append(name.encode() + b":" + child.encode() + b";")
    for name, address in (("watch", watch), ("rwatch", rwatch), ("awatch", awatch)):
        if address is not None:
            parts.append(b"%s:%x;" % (name.encode(), address))
    for name, number in (("syscall_entry", syscall_entry), ("syscall_return", syscall_return)):
        if number is not None:
            parts.append(b"%s:%x;" % (name.encode(), number))
    if exec_path is not None:  # the new program, hex-encoded (`exec-events`)
        parts.append(b"exec:" + exec_path.hex().encode() + b";")
    for name, flag in (("swbreak", swbreak), ("hwbreak", hwbreak), ("library", library),
                       ("vforkdone", vforkdone), ("create", create)):
        if flag:
            parts.append(name.encode() + b":;")
    for number, value in (registers or {}).items():
        parts.append(b"%02x:%s;" % (number, value))
    if thread is not None:
        parts.append(b"thread:" + thread.encode() + b";")
    return b"".join(parts)


def exited(code: int, pid: int | None = None) -> bytes:
    """``W00;process:4d2``."""
    return b"W%02x" % (code & 0xFF) + _process(pid)


def killed(signo: int, pid: int | None = None) -> bytes:
    """``X09;process:4d2``: terminated by a signal."""
    return b"X%02x" % signo + _process(pid)


def _process(pid: int | None) -> bytes:
    return b"" if pid is None else b";process:%x" % pid


def thread_list(threads: Iterable[ThreadId]) -> bytes:
    """``mID,ID...`` for a batch of threads, ``l`` when there are no more."""
    ids = b",".join(t.encode() for t in threads)
    return b"m" + ids if ids else b"l"


def current_thread(thread: ThreadId) -> bytes:
    """``QCp4d2.4d3`` (the reply to ``qC``)."""
    return b"QC" + thread.encode()


def xfer_chunk(data: bytes, offset: int, length: int) -> bytes:
    """The ``qXfer`` reply for ``data[offset:offset+length]``: ``m`` if more follows, else ``l``.

    The chunk is raw: ``Framer.frame`` escapes it (``length`` counts bytes before escaping,
    as gdbserver does).
    """
    chunk = data[offset:offset + length]
    more = offset + len(chunk) < len(data)
    return (b"m" if more else b"l") + chunk


def supported(features: Mapping[str, bool | int | str]) -> bytes:
    """``qSupported`` reply: True -> ``name+``, False -> ``name-``, int -> ``name=hex``."""
    items = []
    for name, value in features.items():
        if value is True or value is False:
            items.append(name + ("+" if value else "-"))
        elif isinstance(value, int):
            items.append(f"{name}={value:x}")
        else:
            items.append(f"{name}={value}")
    return ";".join(items).encode()


def console(text: str) -> bytes:
    """``O`` + hex: text gdb prints on its console."""
    return b"O" + text.encode().hex().encode()
