"""The interactive debugger: gdb's command language on the multiplexer.

The REPL is an ordinary engine (:mod:`.engine`) attached beside any others;
:mod:`.session` moves the program through the public API, :mod:`.commands`
and the ``cmd_*`` modules are the command language, :mod:`.view` formats,
:mod:`.app` is the prompt_toolkit front end.  See docs/repl.md.
"""

from .app import main
from .debugger import Debugger

__all__ = ["Debugger", "main"]
