"""Shared fixtures: PostgreSQL (one server per session, one fresh database per test), SQLite, and the
central service as a real subprocess.

PostgreSQL comes from ``KIOSK_TEST_PG_URL`` (``.ci/run`` starts one server for the whole run and sets it);
otherwise the session starts a private server if the binaries are on the machine. When neither works the
tests that need it are skipped, or fail when ``KIOSK_REQUIRE_SERVICES=1`` (as in CI).

Helpers live in the ``tests.support`` package; tests import them from there, never from a conftest. The
fixtures of its modules (``central``, and the Pilot ``world`` and ``kiosk``) are registered here for the
whole suite.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import pytest

from tests.support.services import (
    CentralServer,
    ServiceUnavailable,
    check_postgres,
    drop_database,
    fresh_database,
    start_postgres,
)

pytest_plugins = ["tests.support.central", "tests.support.pilot"]

PG_URL_ENV = "KIOSK_TEST_PG_URL"
REQUIRE_ENV = "KIOSK_REQUIRE_SERVICES"


def _services_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def _unavailable(what: str, reason: str) -> NoReturn:
    if _services_required():
        pytest.fail(f"{what} not available but {REQUIRE_ENV}=1: {reason}", pytrace=False)
    pytest.skip(f"{what} not available: {reason}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that reaches PostgreSQL with ``postgres`` (so ``-m "not postgres"`` works)."""
    for item in items:
        if "pg_admin_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """SQLAlchemy URL of the ``postgres`` database of a server the tests may create databases on."""
    url = os.environ.get(PG_URL_ENV, "").strip()
    if url:
        try:
            check_postgres(url)
        except ServiceUnavailable as exc:
            _unavailable("PostgreSQL server", f"{PG_URL_ENV} is set but {exc}")
        yield url
        return
    try:
        # pytest's own tmp dirs are private to root; the server's dir falls back to the system temp dir.
        url, stop = start_postgres(None)
    except Exception as exc:  # any reason the server cannot run here means "unavailable"
        _unavailable("PostgreSQL server", str(exc))
    try:
        yield url
    finally:
        stop()


@pytest.fixture
def pg_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test (dropped afterwards)."""
    url = fresh_database(pg_admin_url)
    try:
        yield url
    finally:
        with contextlib.suppress(Exception):
            drop_database(url, pg_admin_url)


@pytest.fixture
def sqlite_url(tmp_path: os.PathLike[str]) -> str:
    return f"sqlite:///{tmp_path}/central.db"


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    ids=["sqlite", "postgres"],
)
def database_url(request: pytest.FixtureRequest) -> str:
    """The central database, once on SQLite and once on PostgreSQL."""
    fixture = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def central_server(database_url: str, tmp_path: os.PathLike[str]) -> Iterator[CentralServer]:
    """The central service running as a subprocess on ``database_url``; ``.url`` is its base URL."""
    server = CentralServer(database_url, log_dir=tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- the PC/SC stack: pcscd + vpcd + virtual cards (tests/support/pcsc_stack.py) -------------------------


@pytest.fixture(scope="session")
def pcscd() -> Iterator[Any]:
    """The run's pcscd with vpcd's two virtual readers (started by `.ci/run`, or by this session)."""
    from tests.support.pcsc_stack import Pcscd

    try:
        daemon = Pcscd.acquire()
    except ServiceUnavailable as exc:
        _unavailable("pcscd with vsmartcard-vpcd", str(exc))
    try:
        yield daemon
    finally:
        daemon.close()


@pytest.fixture
def vcards(pcscd: Any) -> Iterator[Callable[..., Any]]:
    """Make virtual cards: `vcards(applet, slot)` returns an (uninserted) VirtualCard for that slot's
    reader. Every card is pulled out at the end, and the test waits until pcscd sees the readers empty."""
    from devices.reader import Slot
    from devices.virtual_card import VirtualCard
    from tests.support.pcsc_stack import PORTS, READERS, card_in, wait_for

    made: list[VirtualCard] = []

    def make(applet: Any, slot: Slot = Slot.HOLDER) -> VirtualCard:
        card = VirtualCard(applet, port=PORTS[slot])
        made.append(card)
        return card

    for reader in READERS.values():  # a card left by an earlier test would be "inserted" into this one
        wait_for(lambda r=reader: card_in(r) is False, 10, f"{reader} to be empty")
    try:
        yield make
    finally:
        for card in made:
            card.remove()
        for reader in READERS.values():
            with contextlib.suppress(TimeoutError):
                wait_for(lambda r=reader: card_in(r) in (False, None), 5, f"{reader} to be empty")
