"""The tracer: the one thread that owns ptrace and fans every stop out to engines.

A package of parts behind one facade (:mod:`.facade`); this file only
re-exports it.
"""

from .facade import Tracer

__all__ = ["Tracer"]
