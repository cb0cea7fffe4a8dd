"""Every `kiosk ...` command the documentation names exists, with the options it is shown with."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from kiosk import cli
from kiosk.config import SECTIONS, Config

REPO = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.DOTALL | re.MULTILINE)
SPAN = re.compile(r"`([^`]+)`")  # a code span may go on on the next line
MENTION = re.compile(r"(?:^|(?<=[\s(=]))kiosk(?=\s|$)([^|>&;#)`]*)")
WORD = re.compile(r"[a-z][a-z-]*")
FLAG = re.compile(r"--[a-z][a-z-]*")


def _texts() -> list[tuple[str, str]]:
    """(where, text) of every code span and shell line of README.md, docs/*.md, kiosk.toml and the config
    docstrings: the places that tell an operator what to type."""
    found: list[tuple[str, str]] = []
    for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        for language, block in FENCE.findall(text):
            if language in ("sh", "bash", "shell", "console"):
                lines = block.replace("\\\n", " ").splitlines()
                found += [(path.name, re.sub(r"(^|\s)#.*", "", line)) for line in lines]  # not comments
        found += [(path.name, span) for span in SPAN.findall(FENCE.sub("", text))]
    found += [
        ("kiosk.toml", span) for span in SPAN.findall((REPO / "kiosk.toml").read_text(encoding="utf-8"))
    ]
    docstrings = [Config.__doc__ or ""] + [
        text
        for model in SECTIONS.values()
        for text in [model.__doc__ or "", *(f.description or "" for f in model.model_fields.values())]
    ]
    found += [("kiosk/config.py", span) for doc in docstrings for span in SPAN.findall(doc)]
    return found


def _leaves() -> set[tuple[str, ...]]:
    return {spec.path for spec in cli._COMMANDS}


def documented() -> dict[tuple[str, ...], tuple[set[str], set[str]]]:
    """Command path -> (the options shown with it, where it is shown)."""
    commands: dict[tuple[str, ...], tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
    for where, text in _texts():
        for rest in MENTION.findall(" ".join(text.split())):
            words = [w.strip("[]") for w in rest.split()]
            path: list[str] = []
            for word in words:
                # A registered command takes no subcommand: what follows it is its own arguments.
                if not WORD.fullmatch(word) or tuple(path) in _leaves():
                    break
                path.append(word)
            flags, places = commands[tuple(path)]
            flags.update(m.group(0) for w in words if (m := FLAG.match(w)))
            places.add(where)
    return dict(commands)


DOCUMENTED = documented()


def test_the_documentation_names_the_commands_it_should() -> None:
    """The extraction itself works: it finds the commands an operator needs, from every kind of place."""
    assert {("hash-pin",), ("central", "demo"), ("central", "call"), ("virtual-card",), ()} <= set(DOCUMENTED)
    assert "kiosk/config.py" in DOCUMENTED[("hash-pin",)][1] and "kiosk.toml" in DOCUMENTED[("hash-pin",)][1]
    assert "--kiosk-id" in DOCUMENTED[("central", "call")][0]


def test_every_command_is_documented() -> None:
    assert _leaves() <= set(DOCUMENTED), _leaves() - set(DOCUMENTED)


@pytest.mark.parametrize("path", sorted(DOCUMENTED), ids=lambda p: " ".join(("kiosk", *p)))
def test_a_documented_command_exists_with_its_options(path: tuple[str, ...]) -> None:
    flags, places = DOCUMENTED[path]
    shown = subprocess.run(
        [sys.executable, "-m", "kiosk", *path, "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    named = f"`kiosk {' '.join(path)}` (named in {', '.join(sorted(places))})"
    assert shown.returncode == 0, f"{named}: {shown.stderr}"
    assert shown.stdout.startswith(" ".join(("usage: kiosk", *path))), named
    missing = {flag for flag in flags if not re.search(rf"{flag}\b", shown.stdout)}
    assert not missing, f"{named} is shown with {sorted(missing)}, which it does not take"
