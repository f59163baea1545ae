"""The core's layers (docs/architecture.md): imports point down, never in a circle.

The graph comes from tools/import-graph (ast, nothing imported), with
type-only imports (``if TYPE_CHECKING:``) and imports inside functions
counted like the others.  Three rules, each a test that fails naming the
offending import:

* no import cycle;
* no module imports a module of a higher layer (same layer is fine);
* no module outside the core imports a private (underscore) name of it;
* a module outside the core (engines, front ends) imports only the public
  API: the names ``pydbg_utrace`` exports (its ``__all__``) and the public
  modules of ``PUBLIC_MODULES`` (docs/architecture.md, "The public API").

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


#: The public API, for the modules outside the core (docs/architecture.md): the
#: package's own ``__all__``, and these modules, each either with its own
#: ``__all__`` (only those names) or ``None`` (any name without an underscore).
#: Every other core module (process, memory, tracer.*, arch.base, ...) is the
#: core's inside: reach it through these names.
PUBLIC_MODULES: dict[str, str | None] = {
    "": "pydbg_utrace/__init__.py",  # Tracer, Engine, Event, ..., read_string
    "arch": "arch/__init__.py",  # Arch, Registers, for_pid, ... (arch.base is not)
    "kernel": None,  # the system calls and their typed errors (docs/engine-api.md)
    "symbols": None,  # Symbols(pid) (docs/engine-api.md, "Breakpoints and memory")
    "engine_files": None,  # load_engine / attach_engine: engine files for front ends
}

#: Imports of the core's inside from outside it that wait for their owners,
#: (source, target) -> why.  Keep this the only such list.
NOT_PUBLIC_FOR_NOW: dict[tuple[str, str], str] = {}


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


def exported(path: str) -> set[str]:
    """The names of a module's ``__all__`` (read with ast: nothing is imported)."""
    import ast

    tree = ast.parse((ROOT / path).read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return set(ast.literal_eval(node.value))
    raise AssertionError(f"{path} has no __all__")


def non_public_imports(graph) -> list[tuple[str, str, int, str]]:
    """(source, target, line, what) for every import from outside the core of a name
    or module that is not public API."""
    found = []
    for e in graph.edges:
        if layer_of(e.source) < CORE_LAYERS or layer_of(e.target) >= CORE_LAYERS:
            continue
        target = TOOL.short(e.target)
        target = "" if target == TOOL.PACKAGE else target
        if target not in PUBLIC_MODULES:
            found.append((TOOL.short(e.source), target, e.line, f"module {target}"))
            continue
        names = PUBLIC_MODULES[target]
        allowed = exported(names) if names is not None else None
        for name in e.names:
            if name.startswith("_") or (allowed is not None and name not in allowed):
                found.append((TOOL.short(e.source), target, e.line,
                              f"{name} from {target or TOOL.PACKAGE}"))
    return found


def test_outside_the_core_imports_only_the_public_api():
    found = [f for f in non_public_imports(GRAPH) if f[:2] not in NOT_PUBLIC_FOR_NOW]
    assert found == [], "imports of the core's inside (use pydbg_utrace's exports):\n" + \
        "\n".join(f"{s}:{line} imports {what}" for s, _, line, what in found)


def test_the_not_public_list_is_not_stale():
    """Every allowed import still exists: a fixed one leaves the list."""
    still = {f[:2] for f in non_public_imports(GRAPH)}
    assert set(NOT_PUBLIC_FOR_NOW) <= still, sorted(set(NOT_PUBLIC_FOR_NOW) - still)


def private_attribute_reads(files: dict[str, Path]) -> list[str]:
    """``obj._name`` outside the core where ``obj`` is not self/cls and the module does
    not define ``_name`` itself (a def, a class, or ``self._name = ...``): a reach into
    another module's object -- the core's, as the REPL's ``engine._forget`` was."""
    import ast

    found = []
    for module, path in sorted(files.items()):
        if layer_of(module) < CORE_LAYERS:
            continue
        tree = ast.parse(path.read_text())
        own = {n.name for n in ast.walk(tree)
               if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}
        own |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
                and isinstance(n.ctx, ast.Store) and isinstance(n.value, ast.Name)
                and n.value.id in ("self", "cls")}
        for n in ast.walk(tree):
            if isinstance(n, ast.Attribute) and n.attr.startswith("_") \
                    and not n.attr.startswith("__") and n.attr not in own \
                    and not (isinstance(n.value, ast.Name) and n.value.id in ("self", "cls")):
                found.append(f"{TOOL.short(module)}:{n.lineno} reads {ast.unparse(n)}")
    return found


def test_outside_the_core_reads_no_private_attribute_of_it():
    found = private_attribute_reads(TOOL.module_files())
    assert found == [], "private attributes read outside the core:\n" + "\n".join(found)


def test_the_private_attribute_check_can_fail(tmp_path):
    engine = tmp_path / "x.py"
    engine.write_text("def f(att, engine):\n    engine._forget(att)\n    att._own()\n\n"
                      "class A:\n    def _own(self):\n        self._kept = 1\n"
                      "    def g(self, other):\n        return other._kept\n")
    assert private_attribute_reads({"pydbg_utrace.engines.x": engine}) == [
        "engines.x:2 reads engine._forget"]


def test_the_public_api_check_can_fail():
    """An engine importing memory, process or an unexported name is found."""
    g = TOOL.Graph({"pydbg_utrace.engines.x", "pydbg_utrace.memory", "pydbg_utrace",
                    "pydbg_utrace.kernel"})
    g.edges = [TOOL.Edge("pydbg_utrace.engines.x", "pydbg_utrace.memory", False,
                         ("read_string",), 1),
               TOOL.Edge("pydbg_utrace.engines.x", "pydbg_utrace", False, ("Tables",), 2),
               TOOL.Edge("pydbg_utrace.engines.x", "pydbg_utrace", False, ("read_string",), 3),
               TOOL.Edge("pydbg_utrace.engines.x", "pydbg_utrace.kernel", False, (), 4)]
    assert [(line, what) for _, _, line, what in non_public_imports(g)] == [
        (1, "module memory"), (2, "Tables from pydbg_utrace")]


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
