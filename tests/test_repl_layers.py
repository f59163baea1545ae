"""The REPL's own layers (docs/architecture.md, "REPL"): command modules depend on
the session interface (repl/context.py), never the other way.

The graph is tools/import-graph's (test_layers.py's), type-only imports counted.
"""

from __future__ import annotations

from test_layers import GRAPH, TOOL

#: Bottom up, as docs/architecture.md draws them; a module imports its own row or lower.
ROWS = [
    {"repl.engine", "repl.policy", "repl.watch", "repl.symbols", "repl.expr", "repl.view",
     "repl.procs", "repl.asm"},
    {"repl.session"},
    {"repl.sourcelevel"},
    {"repl.stepping", "repl.breaks"},
    {"repl.context"},
    {"repl.commands"},
    {"repl.cmd_exec", "repl.cmd_data", "repl.cmd_break", "repl.cmd_source", "repl.cmd_step",
     "repl.cmd_engines"},
    {"repl.language"},
    {"repl.debugger"},
    {"repl.completion"},
    {"repl.app"},
    {"repl"},
]


def _row(name: str) -> int:
    for index, members in enumerate(ROWS):
        if name in members:
            return index
    raise AssertionError(f"{name} is in no row of tests/test_repl_layers.py (and "
                         "docs/architecture.md's REPL part): give it one")


def _repl_edges() -> list[tuple[str, str]]:
    return sorted({(TOOL.short(e.source), TOOL.short(e.target)) for e in GRAPH.edges
                   if TOOL.short(e.source).split(".")[0] == "repl"
                   and TOOL.short(e.target).split(".")[0] == "repl"})


def test_every_repl_module_has_a_row():
    for module in GRAPH.modules:
        name = TOOL.short(module)
        if name.split(".")[0] == "repl":
            _row(name)


def test_repl_imports_point_down():
    upward = [f"{s} imports {t}" for s, t in _repl_edges() if _row(t) > _row(s)]
    assert upward == [], "\n".join(upward)


def test_commands_see_only_the_context():
    """No command module imports the debugger, the language table or another command
    module; the context imports no command module."""
    commands = ROWS[6]
    bad = [f"{s} imports {t}" for s, t in _repl_edges()
           if (s in commands and (t in commands | {"repl.debugger", "repl.language"}))
           or (s == "repl.context" and t in commands)]
    assert bad == [], "\n".join(bad)
    assert all(("repl.context" in {t for s, t in _repl_edges() if s == c}) for c in commands)


def test_the_check_can_fail():
    assert _row("repl.context") > _row("repl.breaks")  # breaks -> context would be upward
