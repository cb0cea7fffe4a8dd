"""The same test command runs the linters: ruff (lint + format), mypy --strict and the import contracts.

Each runs from the interpreter running the tests (``sys.executable -m ...``), so the versions pinned in
requirements.lock decide, never whatever another install left first on PATH.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = tuple(d for d in ("kiosk", "devices", "screens", "tests", "benchmarks") if (ROOT / d).is_dir())
# import-linter has no `python -m` entry point: its console script's function, in this interpreter.
LINT_IMPORTS = "from importlinter.cli import lint_imports_command; lint_imports_command()"  # click exits


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.parametrize(
    "cmd",
    [
        (sys.executable, "-m", "ruff", "check", *SOURCES),
        (sys.executable, "-m", "ruff", "format", "--check", *SOURCES),
        (sys.executable, "-m", "mypy"),
    ],
    ids=["ruff-check", "ruff-format", "mypy-strict"],
)
def test_linters_pass(cmd: tuple[str, ...]) -> None:
    result = _run(*cmd)
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_contracts_hold() -> None:
    """kiosk/ and devices/ never import textual (nor screens); the domain does no I/O."""
    result = _run(sys.executable, "-c", LINT_IMPORTS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" in result.stdout and "0 broken" in result.stdout


def _conftest_imports(tree: ast.AST) -> list[str]:
    """`import conftest`, `from conftest import ...`, `from .conftest import ...`, `from x.conftest ...`."""
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [f"line {node.lineno}: {n}" for n in names if "conftest" in n.split(".")]
    return found


def _path_hacks(tree: ast.AST) -> list[str]:
    """`sys.path` edits and modules loaded from a file path (`spec_from_file_location`)."""
    found: list[str] = []
    for node in ast.walk(tree):
        name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""
        if name == "spec_from_file_location":
            found.append(f"line {node.lineno}: spec_from_file_location")  # type: ignore[attr-defined]
        elif isinstance(node, ast.Attribute) and ast.unparse(node) == "sys.path":
            found.append(f"line {node.lineno}: sys.path")
    return found


def test_tests_import_helpers_only_from_tests_support() -> None:
    """Helpers live in `tests.support`: a test that imports a conftest, or edits sys.path to reach one,
    depends on which conftest pytest happened to import last under the name `conftest`."""
    bad: dict[str, list[str]] = {}
    for path in sorted((ROOT / "tests").rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"), str(path))
        problems = _conftest_imports(tree) + _path_hacks(tree)
        if problems:
            bad[str(path.relative_to(ROOT))] = problems
    assert not bad, bad


def test_the_structure_check_finds_what_it_forbids() -> None:
    """The check above on code that breaks each rule (a check that cannot fail proves nothing)."""
    assert _conftest_imports(ast.parse("from conftest import Central")) == ["line 1: conftest"]
    assert _conftest_imports(ast.parse("from .conftest import AREA")) == ["line 1: conftest"]
    assert _conftest_imports(ast.parse("import functional.conftest")) == ["line 1: functional.conftest"]
    assert _conftest_imports(ast.parse("from tests.support.central import Central")) == []
    assert _path_hacks(ast.parse("import sys\nsys.path.insert(0, 'tests')")) == ["line 2: sys.path"]
    loads = "importlib.util.spec_from_file_location('c', 'conftest.py')"
    assert _path_hacks(ast.parse(loads)) == ["line 1: spec_from_file_location"]
    assert _path_hacks(ast.parse("print(sys.executable)")) == []
