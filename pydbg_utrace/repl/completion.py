"""Tab completion: command words, then what the command takes (registers, symbols, files)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document

from .commands import TOP, CommandError, split_word

if TYPE_CHECKING:
    from .context import Context


class ReplCompleter(Completer):
    def __init__(self, dbg: Context):
        self.dbg = dbg
        self.paths = PathCompleter(expanduser=True)

    def get_completions(self, document: Document, event: CompleteEvent) -> Iterable[Completion]:
        text = document.text_before_cursor
        table, rest, kind = TOP, text, None
        while True:
            word, after = split_word(rest)
            if not after or after[0] not in " \t":  # still typing this word
                if kind is None:
                    yield from _words(table.names() + list(table.aliases), word)
                    return
                break
            try:
                cmd = table.resolve(word)
            except CommandError:
                return
            if cmd.sub is None:
                kind, rest = cmd.complete, after.lstrip()
                break
            table, rest = cmd.sub, after.lstrip()
        yield from self._arguments(kind, rest, event)

    def _arguments(self, kind: str | None, rest: str, event: CompleteEvent):
        word = rest.split()[-1] if rest and not rest.endswith(" ") else ""
        if kind == "files":
            for c in self.paths.get_completions(Document(word, len(word)), event):
                full = word[:len(word) + c.start_position] + c.text  # the whole path
                yield Completion(full, start_position=-len(word), display=c.display)
        elif kind == "registers":
            yield from _words([f"${n}" for n in self._registers()], word)
        elif kind == "symbols":
            bare = word.lstrip("$&*")
            if word.startswith("$"):
                yield from _words([f"{n}" for n in self._registers()], bare)
            else:
                yield from _words(self._symbols(), bare)
        elif kind == "signals":
            import signal

            yield from _words([s.name for s in signal.Signals], word.upper())
        elif kind == "commands":
            yield from _words(TOP.names(), word)
        elif kind == "engines":
            yield from _words(list(self.dbg.session.extras), word)

    def _registers(self) -> list[str]:
        from pydbg_utrace import arch

        regs = self.dbg.session.arch if self.dbg.session.alive else arch.host()
        return ["pc", "sp", *regs.register_names]

    def _symbols(self) -> list[str]:
        if not self.dbg.session.alive:
            return []
        return self.dbg.symbols().names()


def _words(candidates: Iterable[str], word: str) -> Iterable[Completion]:
    for name in sorted(set(candidates)):
        if name.startswith(word):
            yield Completion(name, start_position=-len(word))


__all__ = ["ReplCompleter"]
