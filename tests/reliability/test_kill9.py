"""kill -9 of a process committing submissions: nothing it acknowledged is ever lost or half-written.

A child process commits bind submissions through the real `Store` and prints each request_id after
`submit_bind` returned. The parent SIGKILLs it 5-60 ms after its first acknowledgement, over and over on
the same store, and after every kill checks: every acknowledged request is there, pending, with its
outbox row (and its encrypted payload opens to the same request); no submission lacks an outbox row and no
outbox row lacks a submission; PRAGMA integrity_check and foreign_key_check are clean.

Most kills go to children forked from a server that imported the kiosk once (a fresh interpreter costs
about a second here); a few go to fresh interpreters that open the store like the kiosk does, migrations
included, to cover start-up on a store that was just killed.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import select
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pytest

from kiosk.store.crypto import FieldCipher
from kiosk.store.repository import Store
from tests.support.reliability import AREA, REPO_ROOT, area_policy

COMMITTER = Path(__file__).with_name("committer.py")
FORKED_KILLS = 200
FRESH_KILLS = 6
KILL_AFTER_S = (0.005, 0.060)
STARTUP_TIMEOUT_S = 60.0
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


class LineReader:
    """Complete lines from a pipe, with a timeout; a torn last line (the writer died) is not a line."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.fd = stream.fileno()
        self.buf = b""
        self.eof = False

    def readline(self, timeout: float) -> str | None:
        """The next line, or None at end of file. TimeoutError when nothing complete came in time."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            if self.eof:
                return None
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no line from the committer within {timeout} s (have {self.buf!r})")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                chunk = os.read(self.fd, 65536)
                self.eof = not chunk
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()


@dataclass
class Ledger:
    """What the children acknowledged, checked against the store after every kill."""

    path: Path
    cipher: FieldCipher
    acked: set[str] = field(default_factory=set)
    verified: set[str] = field(default_factory=set)  # rows whose encrypted payload was opened
    committed_unacked: int = 0  # committed, but killed before the acknowledgement was printed
    kills: int = 0
    acks_per_run: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        # One connection for the whole test: the WAL is then never removed by a last close, so kills
        # can also land while a child checkpoints a long WAL.
        self.con = sqlite3.connect(self.path, timeout=30, isolation_level=None)

    def close(self) -> None:
        self.con.close()

    def after_kill(self, new_acks: list[str], what: str) -> None:
        self.kills += 1
        self.acks_per_run.append(len(new_acks))
        where = f"after kill #{self.kills} ({what})"
        con = self.con
        integrity = con.execute("PRAGMA integrity_check").fetchall()
        assert integrity == [("ok",)], f"{where}: integrity_check {integrity[:5]}"
        fk = con.execute("PRAGMA foreign_key_check").fetchall()
        assert fk == [], f"{where}: foreign_key_check {fk[:5]}"
        submissions = dict(con.execute("SELECT request_id, status FROM submission").fetchall())
        outbox_rows = con.execute("SELECT request_id, payload, done_at FROM outbox").fetchall()
        outbox = {rid: (payload, done) for rid, payload, done in outbox_rows}
        assert len(outbox) == len(outbox_rows), f"{where}: two outbox rows for one request"

        before = len(self.acked)
        self.acked.update(new_acks)
        assert len(self.acked) == before + len(new_acks), f"{where}: a request_id was acknowledged twice"
        lost = self.acked - set(submissions)
        assert not lost, f"{where}: {len(lost)} acknowledged submissions lost, e.g. {sorted(lost)[:3]}"
        no_outbox = set(submissions) - set(outbox)
        assert not no_outbox, f"{where}: submissions without an outbox row: {sorted(no_outbox)[:3]}"
        orphans = set(outbox) - set(submissions)
        assert not orphans, f"{where}: outbox rows without a submission: {sorted(orphans)[:3]}"
        not_pending = {rid: s for rid, s in submissions.items() if s != "pending"}
        assert not not_pending, f"{where}: submissions not pending: {list(not_pending.items())[:3]}"
        unsendable = [rid for rid, (payload, done) in outbox.items() if payload is None or done is not None]
        assert not unsendable, f"{where}: outbox rows that would never be sent: {unsendable[:3]}"

        for rid in set(submissions) - self.verified:
            payload = self.cipher.open(outbox[rid][0])
            assert payload.get("request_id") == rid, f"{where}: the payload of {rid} names another request"
            assert payload.get("admdvs") == AREA and payload.get("relation_code") == "10", where
        # The child commits, then acknowledges: a kill between the two leaves at most one row unacked.
        unacked_now = len(submissions) - len(self.acked)
        new_unacked = unacked_now - self.committed_unacked
        assert new_unacked in (0, 1), f"{where}: {new_unacked} rows appeared without an acknowledgement"
        self.committed_unacked = unacked_now
        self.verified = set(submissions)


def _ack(line: str, where: str) -> str | None:
    if line.startswith("error"):
        pytest.fail(f"the committer failed {where}: {line}", pytrace=False)
    if line.startswith("ack "):
        rid = line[4:]
        assert UUID.match(rid), f"garbled acknowledgement {line!r}"
        return rid
    return None


def _new_store(tmp_path: Path) -> tuple[Path, Path]:
    path = tmp_path / "terminal.db"
    store = Store.at(path)  # migrations once, key created once (0600) beside the store
    policy = area_policy()
    # Nothing syncs in this test, so Liaocheng's cap of 200 unsynced submissions would stop the child
    # after 200; 0 = no cap (and "none offline", which does not apply: the child submits online).
    policy.update(offline_queue_max_count=0, offline_queue_max_age_hours=0)
    assert store.cache_area(AREA, 1, policy["name_zh"], policy["name_en"], policy)
    store.close()
    return path, path.with_suffix(".key")


def _forked_kills(path: Path, key: Path, ledger: Ledger, rng: random.Random, log: IO[bytes]) -> None:
    server = subprocess.Popen(
        [sys.executable, str(COMMITTER), str(path), str(key), "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log,
        cwd=REPO_ROOT,
    )
    assert server.stdin is not None and server.stdout is not None
    reader = LineReader(server.stdout)
    child: int | None = None
    try:
        assert reader.readline(STARTUP_TIMEOUT_S) == "ready"
        for n in range(FORKED_KILLS):
            mode = "run-migrate" if n % 50 == 49 else "run"
            server.stdin.write(f"{mode}\n".encode())
            server.stdin.flush()
            acks: list[str] = []
            while child is None or not acks:
                line = reader.readline(STARTUP_TIMEOUT_S)
                assert line is not None, "the fork server exited"
                if line.startswith("pid "):
                    child = int(line[4:])
                elif (rid := _ack(line, f"in forked run {n}")) is not None:
                    acks.append(rid)
                elif line.startswith("exit "):
                    pytest.fail(f"forked child ended by itself: {line}", pytrace=False)
            time.sleep(rng.uniform(*KILL_AFTER_S))
            os.kill(child, signal.SIGKILL)
            while True:
                line = reader.readline(STARTUP_TIMEOUT_S)
                assert line is not None, "the fork server exited"
                if line.startswith("exit "):
                    _, pid, status = line.split()
                    assert int(pid) == child
                    assert os.WIFSIGNALED(int(status)) and os.WTERMSIG(int(status)) == signal.SIGKILL, line
                    break
                if (rid := _ack(line, f"in forked run {n}")) is not None:
                    acks.append(rid)
            child = None
            ledger.after_kill(acks, f"forked child, {mode}")
        server.stdin.write(b"quit\n")
        server.stdin.flush()
        server.wait(30)
    finally:
        if child is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        if server.poll() is None:
            server.kill()
            server.wait()


def _fresh_kills(path: Path, key: Path, ledger: Ledger, rng: random.Random, log: IO[bytes]) -> None:
    for n in range(FRESH_KILLS):
        args = [sys.executable, str(COMMITTER), str(path), str(key)]
        if n % 2 == 0:
            args.append("--migrate")  # opened as the kiosk opens it: Store.open runs the migrations
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log)
        assert proc.stdout is not None
        try:
            reader = LineReader(proc.stdout)
            acks: list[str] = []
            while not acks:
                line = reader.readline(STARTUP_TIMEOUT_S)
                assert line is not None, f"the committer exited with {proc.wait()}"
                if (rid := _ack(line, f"in fresh process {n}")) is not None:
                    acks.append(rid)
            time.sleep(rng.uniform(*KILL_AFTER_S))
            proc.kill()  # SIGKILL
            assert proc.wait(30) == -signal.SIGKILL
            while (line := reader.readline(STARTUP_TIMEOUT_S)) is not None:
                if (rid := _ack(line, f"in fresh process {n}")) is not None:
                    acks.append(rid)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
        ledger.after_kill(acks, "fresh process" + (", migrations" if n % 2 == 0 else ""))


def test_kill9_never_loses_an_acknowledged_submission(tmp_path: Path) -> None:
    seed = int(os.environ.get("KIOSK_RELIABILITY_SEED") or uuid.uuid4().int % 10**8)
    rng = random.Random(seed)
    path, key = _new_store(tmp_path)
    ledger = Ledger(path, FieldCipher(key.read_bytes().strip()))
    started = time.monotonic()
    try:
        with (tmp_path / "committer.log").open("wb") as log:
            _forked_kills(path, key, ledger, rng, log)
            _fresh_kills(path, key, ledger, rng, log)
    finally:
        ledger.close()
    elapsed = time.monotonic() - started
    assert ledger.kills == FORKED_KILLS + FRESH_KILLS
    assert len(ledger.acked) >= ledger.kills  # at least one acknowledgement before every kill
    runs = sorted(ledger.acks_per_run)
    print(
        f"\nkill -9: seed {seed}, {ledger.kills} kills ({FORKED_KILLS} forked, {FRESH_KILLS} fresh), "
        f"{len(ledger.acked)} acknowledged submissions all intact, {ledger.committed_unacked} committed "
        f"but killed before acknowledging, acks per run min/median/max "
        f"{runs[0]}/{runs[len(runs) // 2]}/{runs[-1]}, {elapsed:.1f} s"
    )
