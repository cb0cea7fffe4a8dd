"""The same test command runs the linters: ruff (lint + format), mypy --strict and the import contracts."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = tuple(d for d in ("kiosk", "devices", "screens", "tests", "benchmarks") if (ROOT / d).is_dir())


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.parametrize(
    "cmd",
    [
        (sys.executable, "-m", "ruff", "check", "kiosk", "devices", "screens", "tests", "benchmarks"),
        (
            sys.executable,
            "-m",
            "ruff",
            "format",
            "--check",
            "kiosk",
            "devices",
            "screens",
            "tests",
            "benchmarks",
        ),
        (sys.executable, "-m", "mypy"),
    ],
    ids=["ruff-check", "ruff-format", "mypy-strict"],
)
def test_linters_pass(cmd: tuple[str, ...]) -> None:
    result = _run(*cmd)
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_contracts_hold() -> None:
    """kiosk/ and devices/ never import textual (nor screens); the domain does no I/O."""
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    result = _run(exe)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" in result.stdout and "0 broken" in result.stdout
