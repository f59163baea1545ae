"""docs/repl.md is current: its transcript is a real session, its reference the command table."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from pydbg_utrace import arch

ROOT = Path(__file__).resolve().parent.parent


def _tool():
    spec = importlib.util.spec_from_file_location("repl_transcript",
                                                  ROOT / "tools" / "repl_transcript.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _section(text: str, marker: str) -> str:
    m = re.search(rf"<!-- {marker}:begin -->\n(.*?)<!-- {marker}:end -->", text, re.S)
    assert m, f"docs/repl.md lost its {marker} markers"
    return m.group(1)


def test_reference_is_the_command_table():
    doc = (ROOT / "docs" / "repl.md").read_text()
    assert _section(doc, "reference").strip() == _tool().reference().strip(), \
        "run python3 tools/repl_transcript.py"


@pytest.mark.live
@pytest.mark.skipif(arch.host().name != "x86_64", reason="the transcript is x86_64's")
def test_transcript_is_a_real_session():
    doc = (ROOT / "docs" / "repl.md").read_text()
    documented = _section(doc, "transcript").strip().strip("`").strip()
    fresh = _tool().transcript().strip()
    masked = _tool().masked
    assert masked(documented) == masked(fresh), "run python3 tools/repl_transcript.py"
