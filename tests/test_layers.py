"""The core's layers (docs/architecture.md): imports point down, never in a circle.

The graph comes from tools/import-graph (ast, nothing imported), with
type-only imports (``if TYPE_CHECKING:``) and imports inside functions
counted like the others.  Three rules, each a test that fails naming the
offending import:

* no import cycle;
* no module imports a module of a higher layer (same layer is fine);
* no module outside the core imports a private (underscore) name of it.

What cannot be fixed this session is listed in ALLOWED_FOR_NOW below (and
in docs/architecture.md), each with its reason: the one place to look.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_tool():
    path = ROOT / "tools" / "import-graph"
    loader = importlib.machinery.SourceFileLoader("import_graph", str(path))
    spec = importlib.util.spec_from_loader("import_graph", loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules["import_graph"] = module  # (dataclasses look their module up there)
    loader.exec_module(module)
    return module


TOOL = _load_tool()
GRAPH = TOOL.graph()

#: Bottom up.  A module may import its own layer and those below it.
LAYERS: list[tuple[str, set[str]]] = [
    ("vocabulary and system calls", {"kernel", "errors", "events", "procfs", "seams", "hooks"}),
    ("arch", {"arch"}),  # and every arch.* module
    ("pure rules", {"dispatch", "lane", "signals", "stopkinds"}),
    ("services", {"memory", "breakpoints", "watchpoints", "symbols"}),
    ("state and API objects", {"state", "process", "engine", "syscall_stop"}),
    ("the tracer", {"lifecycle", "seccomp", "tracer"}),  # and every tracer.* part
    ("the package's face", {"", "engine_files"}),  # "" is pydbg_utrace/__init__.py
    ("front ends and engines", {"cli", "__main__", "frontends", "trace_command",
                                "strace_options", "repl", "gdb", "source", "engines"}),
]
CORE_LAYERS = 7  # the first seven; the last is outside the core

#: Known exceptions, each with why it waits.  Keep this the only such list.
ALLOWED_FOR_NOW = {
    "cycles": set(),
    "upward": set(),
    "private": set(),
}


def layer_of(module: str) -> int:
    name = TOOL.short(module)
    if name == TOOL.PACKAGE:
        name = ""
    head = name.split(".")[0]
    for index, (_, members) in enumerate(LAYERS):
        if name in members or head in members:
            return index
    raise AssertionError(f"{name!r} is in no layer of tests/test_layers.py: give it one "
                         "(and a line in docs/architecture.md)")


def test_every_module_has_a_layer():
    for module in GRAPH.modules:
        layer_of(module)


def test_no_import_cycle():
    cycles = [tuple(TOOL.short(m) for m in cycle) for cycle in GRAPH.cycles()]
    unexpected = [c for c in cycles if c not in ALLOWED_FOR_NOW["cycles"]]
    assert unexpected == [], "import cycles (tools/import-graph --cycles):\n" + "\n".join(
        " <-> ".join(c) for c in unexpected)


def test_no_upward_import():
    upward = sorted({(TOOL.short(e.source), TOOL.short(e.target), e.line)
                     for e in GRAPH.edges if layer_of(e.target) > layer_of(e.source)})
    unexpected = [(s, t, line) for s, t, line in upward
                  if (s, t) not in ALLOWED_FOR_NOW["upward"]]
    assert unexpected == [], "upward imports:\n" + "\n".join(
        f"{s}:{line} imports {t} ({LAYERS[layer_of('pydbg_utrace.' + s)][0]} -> "
        f"{LAYERS[layer_of('pydbg_utrace.' + t)][0]})" for s, t, line in unexpected)


def test_no_private_name_crosses_out_of_the_core():
    found = []
    for e in TOOL.private_imports(GRAPH):
        outside = layer_of(e.source) >= CORE_LAYERS and layer_of(e.target) < CORE_LAYERS
        for name in e.names:
            if outside:
                found.append(f"{TOOL.short(e.source)}:{e.line} imports {name} from "
                             f"{TOOL.short(e.target)}")
    assert found == [], "private names of the core used outside it:\n" + "\n".join(found)


def test_private_names_between_core_modules_are_only_the_listed_ones():
    found = {(TOOL.short(e.source), TOOL.short(e.target), name)
             for e in TOOL.private_imports(GRAPH)
             if layer_of(e.source) < CORE_LAYERS
             for name in e.names if TOOL.short(e.source) != TOOL.short(e.target)}
    assert found <= ALLOWED_FOR_NOW["private"], sorted(found - ALLOWED_FOR_NOW["private"])


@pytest.mark.parametrize("rule", ["cycle", "upward", "private"])
def test_the_checks_can_fail(rule, tmp_path):
    """Each rule, fed a graph with one bad edge, finds it (the tests above are not blind)."""
    g = TOOL.Graph({"pydbg_utrace.kernel", "pydbg_utrace.tracer", "pydbg_utrace.repl.app"})
    if rule == "cycle":
        g.edges = [TOOL.Edge("pydbg_utrace.kernel", "pydbg_utrace.tracer", True),
                   TOOL.Edge("pydbg_utrace.tracer", "pydbg_utrace.kernel", False)]
        assert g.cycles() == [["pydbg_utrace.kernel", "pydbg_utrace.tracer"]]
    elif rule == "upward":
        edge = TOOL.Edge("pydbg_utrace.kernel", "pydbg_utrace.tracer", True)
        assert layer_of(edge.target) > layer_of(edge.source)
    else:
        g.edges = [TOOL.Edge("pydbg_utrace.repl.app", "pydbg_utrace.tracer", False,
                             ("_call",))]
        assert [e.names for e in TOOL.private_imports(g)] == [("_call",)]
        assert layer_of("pydbg_utrace.repl.app") >= CORE_LAYERS
