"""A provisioned terminal: its store, the sync worker against a real central, and the operator commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, func, select

from kiosk.central.models import Binding
from kiosk.config import Config, StoreConfig, SyncConfig, TerminalConfig
from kiosk.store.db import StoreModeError, check_mode
from kiosk.store.repository import BindDraft, Store, SubmissionRefused, UnbindDraft
from kiosk.sync.client import terminal_client
from kiosk.sync.worker import SyncWorker
from tests.support.central import Central, add_person
from tests.support.clock import Clock


def _config(central: Central, tmp_path: Path, url: str | None = None) -> Config:
    secret_file = tmp_path / "kiosk.secret"
    secret_file.write_text(central.secret)
    return Config(
        terminal=TerminalConfig(
            kiosk_id="test-kiosk-01", central_url=url or central.server.url, secret_file=str(secret_file)
        ),
        store=StoreConfig(path=str(tmp_path / "terminal.db")),
        sync=SyncConfig(interval_s=0.1, backoff_base_s=0.05, backoff_max_s=0.2, timeout_s=5),
    )


def _draft(central: Central, holder_psn_no: str, certno: str, code: str, area: str = "371500") -> BindDraft:
    sha = central.letter_sha("sd-family-aid", 1)
    return BindDraft(holder_psn_no, "测*", certno, "测*", code, area, "sd-family-aid", 1, sha)


def _central_count(central: Central, holder: str) -> int:
    with central.sessions()() as db:
        return int(
            db.scalar(select(func.count()).select_from(Binding).where(Binding.holder_psn_no == holder)) or 0
        )


def test_pull_policy_then_bind_and_unbind_through_the_outbox(central: Central, tmp_path: Path) -> None:
    config = _config(central, tmp_path)
    store = Store.open(config.store)
    with terminal_client(config) as client:
        worker = SyncWorker(store, client, config.sync)
        first = worker.run_once()
        assert first.online and first.areas_updated == 6
        assert store.policy("371500") is not None and store.letter("sd-family-aid", 1, "en") is not None

        holder = add_person(central, psn_no="LC0000000501", age=40, sex="1", area="371500", seq=51)
        wife = add_person(central, psn_no="LC0000000502", age=38, sex="2", area="371500", seq=52)
        sub = store.submit_bind(_draft(central, holder.psn_no, wife.certno, "10"), online=True)
        assert store.queue_stats()[0] == 1
        report = worker.run_once()
        assert (report.sent, report.accepted) == (1, 1)
        done = store.get(sub.request_id)
        assert done is not None and done.status == "accepted" and done.binding_id
        assert store.queue_stats() == (0, None)
        assert _central_count(central, holder.psn_no) == 1

        raw = b"".join(p.read_bytes() for p in tmp_path.glob("terminal.db*"))
        assert wife.certno.encode() not in raw and wife.certno[6:14].encode() not in raw

        unbind = store.submit_unbind(
            UnbindDraft(
                done.binding_id,
                wife.psn_no,
                "371500",
                holder.psn_no,
                "测*",
                "测*",
                done.relative_certno_masked,
            ),
            online=True,
        )
        assert worker.run_once().accepted == 1
        assert store.get(unbind.request_id).status == "accepted"  # type: ignore[union-attr]
    store.close()


def test_a_request_central_refuses_becomes_rejected_with_its_reason(central: Central, tmp_path: Path) -> None:
    config = _config(central, tmp_path)
    store = Store.open(config.store)
    with terminal_client(config) as client:
        worker = SyncWorker(store, client, config.sync)
        worker.run_once()
        holder = add_person(central, psn_no="LC0000000601", age=40, sex="1", area="371500", seq=61)
        sister = add_person(central, psn_no="LC0000000602", age=30, sex="2", area="371500", seq=62)
        sub = store.submit_bind(_draft(central, holder.psn_no, sister.certno, "77"), online=False)
        assert worker.run_once().rejected == 1
        got = store.get(sub.request_id)
        assert got is not None and (got.status, got.reason_code) == ("rejected", "relation_not_allowed")
        assert store.record_answer(sub.request_id, "accepted") is False  # statuses only move forward
        assert store.get(sub.request_id).status == "rejected"  # type: ignore[union-attr]
    store.close()


def test_a_request_id_central_knows_with_another_body_is_surfaced_not_retried(
    central: Central, tmp_path: Path
) -> None:
    config = _config(central, tmp_path)
    store = Store.open(config.store)
    with terminal_client(config) as client:
        worker = SyncWorker(store, client, config.sync)
        worker.run_once()
        holder = add_person(central, psn_no="LC0000000701", age=40, sex="1", area="371500", seq=71)
        wife = add_person(central, psn_no="LC0000000702", age=38, sex="2", area="371500", seq=72)
        sub = store.submit_bind(_draft(central, holder.psn_no, wife.certno, "10"), online=True)
        item = store.due()[0]
        other = dict(item.body, relation_code="52")
        assert client.post("/v1/bindings", json=other).status_code == 422  # central keeps this answer
        report = worker.run_once()
        assert report.conflicts == [sub.request_id]
        assert store.get(sub.request_id).reason_code == "request_id_conflict"  # type: ignore[union-attr]
        assert worker.run_once().sent == 0
    store.close()


def test_offline_queue_is_bounded_by_the_areas_policy(central: Central, tmp_path: Path) -> None:
    config = _config(central, tmp_path)
    store = Store.open(config.store)
    with terminal_client(config) as client:
        SyncWorker(store, client, config.sync).run_once()
    policy = store.policy("371500")
    assert policy is not None
    with pytest.raises(SubmissionRefused) as quzhou:
        store.submit_bind(_draft(central, "X", "11010519491231002X", "51", area="330800"), online=False)
    assert quzhou.value.key == "offline_not_allowed"
    with pytest.raises(SubmissionRefused) as unknown:
        store.submit_bind(_draft(central, "X", "11010519491231002X", "51", area="999999"), online=True)
    assert unknown.value.key == "policy_unknown"
    for _ in range(policy.offline_queue_max_count):
        store.submit_bind(_draft(central, "X", "11010519491231002X", "51"), online=False)
    with pytest.raises(SubmissionRefused) as full:
        store.submit_bind(_draft(central, "X", "11010519491231002X", "51"), online=False)
    assert full.value.key == "offline_queue_full"
    assert store.queue_stats()[0] == policy.offline_queue_max_count
    store.close()


def test_unreachable_central_backs_off_and_keeps_everything(central: Central, tmp_path: Path) -> None:
    """The retry waits for the backoff on the store's clock, which only the test moves: on a machine too
    busy to run two cycles within the backoff the assertions mean the same."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    config = _config(central, tmp_path)
    clock = Clock()
    store = Store.open(config.store, clock)
    with terminal_client(config) as client:
        SyncWorker(store, client, config.sync).run_once()
    sub = store.submit_bind(_draft(central, "X", "11010519491231002X", "51"), online=False)
    # rng 1.0: the jitter at its top, so the first backoff is exactly backoff_base_s
    first_backoff = config.sync.backoff_base_s
    with terminal_client(_config(central, tmp_path, dead)) as client:
        worker = SyncWorker(store, client, config.sync, rng=lambda: 1.0)
        report = worker.run_once()
        assert not report.online and report.retry_later == 1 and "unreachable" in (report.error or "")
        clock.advance(seconds=first_backoff * 0.99)
        assert store.due() == [] and worker.run_once().sent == 0  # not due again before the backoff
        clock.advance(seconds=first_backoff * 0.02)
        (again,) = store.due()
        assert (again.request_id, again.attempts) == (sub.request_id, 1)
        assert worker.run_once().retry_later == 1  # tried again, still unreachable: the next, longer wait
        assert store.due() == []
    assert store.get(sub.request_id).status == "pending"  # type: ignore[union-attr]
    assert store.queue_stats()[0] == 1
    store.close()


def test_a_store_not_in_wal_full_mode_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plain.db"
    plain = create_engine(f"sqlite:///{path}")
    with pytest.raises(StoreModeError, match="journal mode"):
        check_mode(plain)
    plain.dispose()
    fast = create_engine(f"sqlite:///{path}")

    @event.listens_for(fast, "connect")
    def _normal(dbapi_conn: object, _record: object) -> None:
        dbapi_conn.execute("PRAGMA journal_mode=WAL")  # type: ignore[attr-defined]
        dbapi_conn.execute("PRAGMA synchronous=NORMAL")  # type: ignore[attr-defined]

    with pytest.raises(StoreModeError, match="synchronous"):
        check_mode(fast)  # survives kill -9 but not a power cut: refused
    fast.dispose()


def test_operator_commands(central: Central, tmp_path: Path) -> None:
    config = _config(central, tmp_path)
    toml = tmp_path / "kiosk.toml"
    toml.write_text(
        '[kiosk]\nreader = "simulated"\n'
        f'[terminal]\nkiosk_id = "test-kiosk-01"\ncentral_url = "{central.server.url}"\n'
        f'secret_file = "{config.terminal.secret_file}"\n[store]\npath = "{config.store.path}"\n'
    )

    def kiosk(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "kiosk", *args, "--config", str(toml)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert kiosk("db", "upgrade").returncode == 0
    once = kiosk("sync", "--once")
    assert once.returncode == 0, once.stdout + once.stderr
    assert "0 still queued" in once.stdout
    doctor = kiosk("doctor")
    assert doctor.returncode == 0, doctor.stdout
    assert [line.split()[1] for line in doctor.stdout.splitlines()] == [
        "config",
        "store",
        "central",
        "signature",
        "reader",
        "queue",
    ]
    Path(config.terminal.secret_file).write_text("wrong")
    bad = kiosk("doctor")
    assert bad.returncode == 1 and "FAIL signature" in bad.stdout and "bad_signature" in bad.stdout
