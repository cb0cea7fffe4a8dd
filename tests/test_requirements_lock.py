"""requirements.lock agrees with pyproject.toml and with what is installed: a stale lock fails the suite."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]
PROJECT = "family-aid-kiosk (pyproject.toml)"
LINE = re.compile(r"(?P<name>[A-Za-z0-9._-]+)==(?P<version>\S+)\s*(?:#\s*via (?P<via>.*))?")
REGENERATE = (
    "regenerate it: uv pip compile pyproject.toml --extra dev --extra pcsc --python-version 3.11 "
    "--python-platform x86_64-unknown-linux-gnu --no-header --annotation-style line -o requirements.lock"
)


@dataclass(frozen=True, slots=True)
class Locked:
    version: Version
    via: tuple[str, ...]  # what needs it: other locked packages, or the project itself


def lock() -> dict[NormalizedName, Locked]:
    locked: dict[NormalizedName, Locked] = {}
    for line in (REPO / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = LINE.fullmatch(line.strip())
        assert match, f"requirements.lock: a line that is not `name==version  # via ...`: {line!r}"
        via = tuple(v.strip() for v in (match["via"] or "").split(",") if v.strip())
        locked[canonicalize_name(match["name"])] = Locked(Version(match["version"]), via)
    return locked


def project_requirements() -> dict[str, list[Requirement]]:
    """The project's requirements by group: "" for the runtime ones, else the extra's name."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    groups = {"": project["dependencies"], **project["optional-dependencies"]}
    return {group: [Requirement(r) for r in reqs] for group, reqs in groups.items()}


def test_every_requirement_of_pyproject_is_locked_at_a_version_it_allows() -> None:
    locked = lock()
    problems = []
    for group, requirements in project_requirements().items():
        for req in requirements:
            name = canonicalize_name(req.name)
            where = f"{req} ({f'extra {group}' if group else 'runtime'})"
            if name not in locked:
                problems.append(f"{where}: not in requirements.lock")
            elif not req.specifier.contains(locked[name].version, prereleases=True):
                problems.append(f"{where}: the lock has {locked[name].version}")
            for extra in req.extras:  # psycopg[binary]: the extra's own packages are locked too
                wanted = {canonicalize_name(f"{req.name}-{extra}")} & {canonicalize_name(n) for n in locked}
                problems += [] if wanted else [f"{where}: nothing of its [{extra}] extra is locked"]
    assert not problems, "; ".join(problems) + f"; {REGENERATE}"


def test_every_locked_package_is_still_needed() -> None:
    """Each lock line says what needs it; a package the project no longer asks for means a stale lock."""
    locked = lock()
    direct = {canonicalize_name(r.name) for reqs in project_requirements().values() for r in reqs}
    problems = []
    for name, entry in locked.items():
        if not entry.via:
            problems.append(f"{name}: the lock does not say what needs it")
        for parent in entry.via:
            if parent == PROJECT and name not in direct:
                problems.append(f"{name}: locked for pyproject.toml, which no longer asks for it")
            elif parent != PROJECT and canonicalize_name(parent) not in locked:
                problems.append(f"{name}: locked for {parent}, which is not locked")
    assert not problems, "; ".join(problems) + f"; {REGENERATE}"


def optional_only(locked: dict[NormalizedName, Locked]) -> dict[NormalizedName, str]:
    """Packages only an optional extra brings (not `dev`, which the quick start installs), with the extra."""
    groups = project_requirements()
    always = {canonicalize_name(r.name) for g in ("", "dev") for r in groups[g]}
    extra_of = {
        canonicalize_name(r.name): group
        for group, reqs in groups.items()
        if group not in ("", "dev")
        for r in reqs
        if canonicalize_name(r.name) not in always
    }

    def brought_by(name: NormalizedName, seen: frozenset[NormalizedName]) -> str | None:
        if name in extra_of:
            return extra_of[name]
        parents = [canonicalize_name(p) for p in locked[name].via if p != PROJECT]
        if PROJECT in locked[name].via or not parents or any(p in seen for p in parents):
            return None
        extras = {brought_by(p, seen | {name}) for p in parents}
        return extras.pop() if len(extras) == 1 and None not in extras else None

    return {name: extra for name in locked if (extra := brought_by(name, frozenset())) is not None}


def test_the_installed_packages_are_the_locked_versions() -> None:
    locked = lock()
    optional = optional_only(locked)
    wrong: list[str] = []
    missing: list[NormalizedName] = []
    skipped: list[NormalizedName] = []
    for name, entry in sorted(locked.items()):
        try:
            installed = Version(importlib.metadata.version(name))
        except importlib.metadata.PackageNotFoundError:
            (skipped if name in optional else missing).append(name)
            continue
        if installed != entry.version:
            wrong.append(f"{name} {installed} is installed, the lock says {entry.version}")
    install = "python3 -m pip install -c requirements.lock -e '.[dev,pcsc]'"
    assert not wrong and not missing, "; ".join([*wrong, *(f"{n} is not installed" for n in missing)]) + (
        f"; install the lock: {install}"
    )
    if skipped:
        extras = sorted({optional[n] for n in skipped})
        pytest.skip(
            f"{', '.join(skipped)} not installed: only the optional extra {', '.join(extras)} needs it "
            f"({install}); every other locked package is installed at its locked version"
        )


def test_pyscard_is_known_to_come_only_with_the_pcsc_extra() -> None:
    """The skip above covers exactly the packages of the optional extras, nothing the quick start needs."""
    assert optional_only(lock()) == {"pyscard": "pcsc"}
