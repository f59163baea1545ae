"""The command language: a table of gdb-spelled commands, abbreviations and help.

A command is a function ``(debugger, argument_text) -> None`` registered with
:func:`command`; multi-word commands (``info registers``) live in the table of
their prefix command (``info``).  A word resolves to a command when it is its
name, one of its aliases (``si``, ``c``, ``bt``) or a unique prefix of one
name (``disas``); gdb's rule.  A prefix is unique only if it is unique among
*gdb's* command names too (:data:`GDB_COMMANDS`), so an abbreviation never
turns a gdb command into another one of ours (``p`` is ``print``, not ``ps``;
``sta`` is ambiguous, as in gdb).  Errors a user can make raise
:class:`CommandError`, which the front end prints as one line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .context import Context

Handler = Callable[["Context", str], None]
_WORD = re.compile(r"\s*([A-Za-z][\w-]*|\S)(.*)", re.S)

# gdb 13's top-level command names (``help all``) that a user abbreviates; a
# prefix is resolved among these and ours together.  Those we lack answer
# "not supported" instead of silently becoming a neighbour of ours.
GDB_COMMANDS = frozenset("""
    actions add-symbol-file advance agent-printf alias append apropos attach awatch
    backtrace break break-range bookmark call catch cd checkpoint clear clone-inferior
    collect commands compare-sections compile complete condition continue core-file
    define delete demangle detach directory disable disassemble disconnect display
    document dont-repeat down dprintf dump echo edit enable end eval exec-file explore
    expression faas file find finish flushregs focus forward-search frame fs ftrace
    function generate-core-file goto-bookmark guile handle hbreak help if ignore
    inferior info init-if-undefined interpreter-exec interrupt jit-reader-load jump kill
    layout list load macro maintenance make memory-tag mem monitor new-ui next nexti ni
    nosharedlibrary output overlay passcount path pipe print print-object printf ptype
    pwd python queue-signal quit rbreak rc record refresh remote remove-inferiors
    remove-symbol-file restart restore return reverse-continue reverse-finish
    reverse-next reverse-nexti reverse-search reverse-step reverse-stepi run rwatch save
    search section select-frame set sharedlibrary shell show si signal skip source
    start starti step stepi stepping stop strace symbol-file taas target task tbreak
    tcatch tdump teval tfaas tfind thbreak thread tp trace tsave tstart tstatus tstop
    tty tui tvariable undisplay unset until up update watch whatis where while
    while-stepping winheight with x
""".split())


class CommandError(Exception):
    """A one-line answer to a command that cannot be done."""


@dataclass
class Command:
    name: str
    handler: Handler | None
    usage: str
    doc: str
    aliases: tuple[str, ...] = ()
    repeat: bool = False  # an empty line repeats it (stepi, x, ...)
    complete: str | None = None  # what its arguments are: registers, symbols, files...
    sub: CommandTable | None = None  # a prefix command's own commands

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0] if self.doc.strip() else ""


@dataclass
class CommandTable:
    prefix: str = ""
    commands: dict[str, Command] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)

    def add(self, cmd: Command) -> None:
        known = self.commands.get(cmd.name)
        if known is not None and known.sub is not None and cmd.sub is None:
            # a prefix that also works alone (`info proc`): its handler, its table
            known.handler, known.usage, known.doc = cmd.handler, cmd.usage, cmd.doc
            return
        self.commands[cmd.name] = cmd
        for alias in cmd.aliases:
            self.aliases[alias] = cmd.name

    def resolve(self, word: str) -> Command:
        if word in self.commands:
            return self.commands[word]
        if word in self.aliases:
            return self.commands[self.aliases[word]]
        names = set(self.commands) | (GDB_COMMANDS if not self.prefix else set())
        matches = sorted(name for name in names if name.startswith(word))
        kind = f"{self.prefix} command" if self.prefix else "command"
        if len(matches) == 1 and matches[0] in self.commands:
            return self.commands[matches[0]]
        if len(matches) == 1 and matches[0] in self.aliases:  # gdb's name is our alias
            return self.commands[self.aliases[matches[0]]]
        if len(matches) == 1:
            raise CommandError(f'"{matches[0]}" is a gdb command that pydbg-utrace does '
                               f'not have.  Try "help".')
        if not matches:
            hint = f"help {self.prefix}".strip()
            raise CommandError(f'Undefined {kind}: "{word}".  Try "{hint}".')
        raise CommandError(f'Ambiguous {kind} "{word}": {", ".join(matches)}.')

    def names(self) -> list[str]:
        return sorted(self.commands)


TOP = CommandTable()


def split_word(text: str) -> tuple[str, str]:
    """``"x/8xb $sp"`` -> ``("x", "/8xb $sp")``; ``"info reg"`` -> ``("info", " reg")``."""
    m = _WORD.match(text)
    if m is None:
        return "", ""
    return m.group(1), m.group(2)


def resolve(line: str) -> tuple[Command, str]:
    """The command a line names and the text of its arguments."""
    word, rest = split_word(line)
    cmd = TOP.resolve(word)
    while cmd.sub is not None and rest.strip():
        word, rest = split_word(rest)
        cmd = cmd.sub.resolve(word)
    return cmd, rest.strip()


def _table_for(path: list[str]) -> CommandTable:
    table = TOP
    for word in path:
        table = table.commands[word].sub  # type: ignore[assignment]
    return table


def command(name: str, usage: str = "", aliases: tuple[str, ...] = (), repeat: bool = False,
            complete: str | None = None) -> Callable[[Handler], Handler]:
    """Register the decorated function as ``name`` (``"info registers"``: a subcommand).

    Its docstring is its help: the first line the summary, the rest the details.
    """
    *path, last = name.split()

    def register(handler: Handler) -> Handler:
        _table_for(path).add(Command(last, handler, usage or name, handler.__doc__ or "",
                                     aliases, repeat, complete))
        return handler

    return register


def prefix(name: str, doc: str, aliases: tuple[str, ...] = ()) -> None:
    """Declare a prefix command (``info``, ``catch``...) with its own table."""
    *path, last = name.split()
    _table_for(path).add(Command(last, None, f"{name} SUBCOMMAND", doc, aliases,
                                 sub=CommandTable(prefix=name)))


def help_text(topic: str = "") -> str:
    """``help`` and ``help CMD``: the summary table, or one command's usage and details."""
    if not topic:
        return _listing(TOP, "") + '\nType "help COMMAND" for details; unique prefixes work.'
    cmd, rest = resolve(topic)
    if cmd.sub is not None:
        return f"{cmd.summary}\n\n{_listing(cmd.sub, cmd.sub.prefix + ' ')}"
    aliases = f"\nAliases: {', '.join(cmd.aliases)}" if cmd.aliases else ""
    return f"Usage: {cmd.usage}\n{_dedent(cmd.doc)}{aliases}"


def _listing(table: CommandTable, lead: str) -> str:
    rows = []
    for name in table.names():
        cmd = table.commands[name]
        rows.append(f"  {(lead + name):<24}{cmd.summary}")
    return "\n".join(rows)


def _dedent(doc: str) -> str:
    import textwrap

    first, _, rest = doc.strip().partition("\n")
    return (first + "\n" + textwrap.dedent(rest)).strip()


def all_commands() -> list[tuple[str, Command]]:
    """Every command with its full name, for the reference in docs/repl.md."""
    out: list[tuple[str, Command]] = []

    def walk(table: CommandTable, lead: str) -> None:
        for name in table.names():
            cmd = table.commands[name]
            if cmd.sub is not None:
                walk(cmd.sub, f"{lead}{name} ")
            else:
                out.append((lead + name, cmd))

    walk(TOP, "")
    return out


# The prefix commands, declared here so that every command module can extend them.
prefix("info", "Show things about the program and the debugger.", aliases=("i",))
prefix("info proc", "Facts about the process from /proc.")
prefix("show", "Show a debugger setting.")
prefix("catch", "Stop at an event: syscall, signal, fork, exec, clone.")
prefix("engine", "Load and unload tracing engines beside the debugger.")
prefix("trace", "Turn ready engines on and off beside the debugger.")
