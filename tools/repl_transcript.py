#!/usr/bin/env python3
"""Regenerate docs/repl.md's transcript and command reference from the real REPL.

The transcript is a real session: the commands below run through
``pydbg-utrace --batch -ex ...`` on tests/tracees/repl_hello.c (compiled as the
tests compile it), and everything the debugger and the program printed is
pasted between the ``transcript`` markers.  The reference is printed from the
command table itself.  tests/test_repl_docs.py checks both are current.

    python3 tools/repl_transcript.py          # rewrite docs/repl.md in place
    python3 tools/repl_transcript.py --check  # exit 1 if it is stale (ASLR aside)
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "repl.md"
PROGRAM = "tests/_build/repl_hello"
COMMANDS = [
    "break greet",
    "info line greet",
    "catch syscall write",
    "engine load engines/syscall_count.py",
    "run",
    "bt",
    "p message",
    "p/x counter",
    "ptype message",
    "x/s message",
    "next",
    "list",
    "continue",
    "bt",
    "finish",
    "p $",
    "info breakpoints",
    "info engines",
    "frobnicate",
    "continue",
    "engine unload syscall-count",
]


def build_program() -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import build_tracee  # noqa: PLC0415 -- the tests' own builder

    build_tracee("repl_hello")


def transcript() -> str:
    build_program()
    argv = [sys.executable, "-m", "pydbg_utrace", "--batch"]
    for cmd in COMMANDS:
        argv += ["-ex", cmd]
    # errors go to stderr, as gdb's: merged here, in the order they came
    result = subprocess.run([*argv, PROGRAM], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, timeout=120, check=False)
    # DWARF names the source by its absolute path: shown from the project's root,
    # so that the page reads the same in every checkout.
    return f"$ pydbg-utrace {PROGRAM}\n{result.stdout.replace(f'{ROOT}/', '')}"


def reference() -> str:
    from pydbg_utrace.repl import commands
    from pydbg_utrace.repl.debugger import Debugger

    Debugger(io.StringIO())  # registers every command
    parts = []
    for name, cmd in commands.all_commands():
        aliases = f" (aliases: {', '.join(cmd.aliases)})" if cmd.aliases else ""
        text = commands.help_text(name).split("\nAliases: ")[0]
        body = text.split("\n", 2)
        details = body[2].strip() if len(body) > 2 else ""
        parts.append(f"### `{cmd.usage}`{aliases}\n\n{body[1].strip()}"
                     + (f"\n\n{details}" if details else ""))
    return "\n\n".join(parts)


def replace(text: str, marker: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- {marker}:begin -->\n).*?(<!-- {marker}:end -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"{DOC}: no {marker} markers")
    return pattern.sub(lambda m: m.group(1) + body.rstrip("\n") + "\n" + m.group(2), text)


def render(current: str) -> str:
    text = replace(current, "transcript", "```\n" + transcript().rstrip("\n") + "\n```")
    return replace(text, "reference", reference())


def masked(text: str) -> str:
    """Addresses and pids change from run to run (ASLR); the rest must not."""
    text = re.sub(r"0x[0-9a-f]+", "0x?", text)
    return re.sub(r"\b\d{4,}\b", "N", text)


def main() -> int:
    current = DOC.read_text()
    fresh = render(current)
    if "--check" in sys.argv[1:]:
        return 0 if masked(fresh) == masked(current) else 1
    DOC.write_text(fresh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
