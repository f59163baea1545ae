"""Replies of the gdb remote protocol as payload bytes (frame them with ``Framer.frame``).

Each function returns the payload only; ``Framer.frame`` escapes ``$ # } *``
and adds the checksum, so binary replies (``qXfer``) need nothing more here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .requests import ThreadId


def ok() -> bytes:
    return b"OK"


def empty() -> bytes:
    """The reply to a packet we do not support."""
    return b""


def error(code_or_message: int | str) -> bytes:
    """``E01`` for a number, ``E.text`` for a message (gdb prints the text)."""
    raise NotImplementedError


def hex_bytes(data: bytes) -> bytes:
    """Bytes as lower-case hex (``m`` replies, register values)."""
    return data.hex().encode()


def stop_reply(signo: int, thread: ThreadId | None = None, *, swbreak: bool = False,
               hwbreak: bool = False, watch: int | None = None, rwatch: int | None = None,
               awatch: int | None = None, syscall_entry: int | None = None,
               syscall_return: int | None = None, library: bool = False,
               registers: Mapping[int, bytes] | None = None) -> bytes:
    """``T05thread:p4d2.4d3;swbreak:;``: stopped by ``signo`` for one reason.

    ``registers`` are expedited values (number -> hex payload) gdb then need not ask for.
    """
    raise NotImplementedError


def exited(code: int, pid: int | None = None) -> bytes:
    """``W00;process:4d2``."""
    raise NotImplementedError


def killed(signo: int, pid: int | None = None) -> bytes:
    """``X09;process:4d2``: terminated by a signal."""
    raise NotImplementedError


def thread_list(threads: Iterable[ThreadId]) -> bytes:
    """``mID,ID...`` for a batch of threads, ``l`` when there are no more."""
    raise NotImplementedError


def current_thread(thread: ThreadId) -> bytes:
    """``QCp4d2.4d3`` (the reply to ``qC``)."""
    return b"QC" + thread.encode()


def xfer_chunk(data: bytes, offset: int, length: int) -> bytes:
    """The ``qXfer`` reply for ``data[offset:offset+length]``: ``m`` if more follows, else ``l``."""
    raise NotImplementedError


def supported(features: Mapping[str, bool | int | str]) -> bytes:
    """``qSupported`` reply: True -> ``name+``, False -> ``name-``, int -> ``name=hex``."""
    raise NotImplementedError


def console(text: str) -> bytes:
    """``O`` + hex: text gdb prints on its console."""
    return b"O" + text.encode().hex().encode()
