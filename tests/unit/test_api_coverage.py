"""docs/API_COVERAGE.md says what the code offers (tools/api_coverage.py writes it)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

TOOL = Path(__file__).resolve().parents[2] / "tools" / "api_coverage.py"


def load() -> object:
    spec = importlib.util.spec_from_file_location("exaop_api_coverage", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_every_check_mark_in_the_coverage_file_is_what_the_code_offers() -> None:
    tool = load()
    assert tool.mismatches(tool.OUT.read_text()) == []  # type: ignore[attr-defined]


def test_the_coverage_file_is_what_the_tool_writes_from_the_reference() -> None:
    tool = load()
    if not tool.REFERENCE.exists():  # type: ignore[attr-defined]
        return  # the public reference is not beside this checkout: the marks above still hold
    text, _, _ = tool.report(tool.REFERENCE)  # type: ignore[attr-defined]
    assert text == tool.OUT.read_text(), "docs/API_COVERAGE.md is stale: run tools/api_coverage.py"  # type: ignore[attr-defined]


def test_the_coverage_file_lists_every_documented_method_of_every_kind() -> None:
    """Where the reference files are absent (a clean clone in CI), the wire parity test takes
    its (kind, method) pairs from docs/API_COVERAGE.md: they must be the reference's pairs."""
    tool = load()
    listed = tool.listed(tool.OUT.read_text())  # type: ignore[attr-defined]
    generic = listed.pop(tool.GENERIC)  # type: ignore[attr-defined]
    assert generic >= {"listMethods", "methodHelp"} and len(listed) >= 27
    if not tool.REFERENCE.exists():  # type: ignore[attr-defined]
        return
    documented = tool.documented(tool.REFERENCE)  # type: ignore[attr-defined]
    ref_generic = documented.pop(tool.GENERIC)  # type: ignore[attr-defined]
    assert generic == ref_generic
    assert {k: v | generic for k, v in listed.items()} == {k: v | ref_generic for k, v in documented.items()}
