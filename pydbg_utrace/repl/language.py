"""The whole command language: importing this registers every command module.

The debugger imports this module (never the command modules one by one), so
command modules depend only on :mod:`.commands` and :mod:`.context`.
"""

from . import cmd_break, cmd_data, cmd_engines, cmd_exec, cmd_source, cmd_step  # noqa: F401
from .commands import TOP, CommandError, help_text, resolve

__all__ = ["TOP", "CommandError", "help_text", "resolve"]
