"""Benchmark of the terminal's durable local commit: Store.submit_bind(..., online=True) against a bare
sqlite3 INSERT + COMMIT of the same rows, with the same pragmas, on the same disk, in the same directory.

    python benchmarks/store_commit.py [--samples 3000] [--warmup 300] [--dir DIR] [--depth 5000]

What it does, in about a minute with the defaults (longer when the machine is busy):

1. makes a temp dir (under --dir, default the system temp dir) holding five SQLite files, each created by
   the store's own migrations (same tables, same indexes) and opened with the store's pragmas
   (journal_mode=WAL, synchronous=FULL, foreign_keys=ON, BEGIN IMMEDIATE):
   - ``terminal.db``: the real Store, with Liaocheng's (371500) policy cached as central publishes it;
   - ``bare.db``: stdlib sqlite3, one transaction = INSERT submission + INSERT outbox (a payload of the
     same size as the store's Fernet token) + COMMIT, nothing else;
   - ``lean.db``: stdlib sqlite3 doing the same *work* as submit_bind (policy check on an already parsed
     policy, queue count/oldest query, Fernet seal, the two INSERTs, COMMIT) without the ORM: what the
     store could cost, for the suggestions;
   - ``memo.db`` and ``orm.db``: two ablations of the real Store, to split its overhead: submit_bind with
     the parsed policy memoized, and the ORM writes of submit_bind alone (no checks, no Fernet);
2. times them interleaved, one commit of each per round (the order rotates every round), so machine noise
   hits all of them; every ``--drain-every`` rounds the pending rows are marked answered (as the sync
   worker does), outside the timing, so the queue stays as short as on a kiosk that is online;
3. prints p50/p95/p99 of the wall-clock latency and the ratios store/bare against the target (p50 and
   p95 <= 1.5x), plus the CPU time of each commit (steadier than wall time on a shared machine);
4. prints the cost of the parts of submit_bind: unprofiled micro-timings of the pure-Python parts, then a
   cProfile of ``--profile-samples`` submits (top functions and a breakdown by part);
5. measures how submit_bind's cost grows with the number of pending requests (``--depth``; the policy's
   queue bound is raised for this), because the queue check counts them on every submit.

A benchmark, not a test: exit status 0 whenever the measurement ran, whether or not the target was met.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import math
import os
import platform
import pstats
import secrets
import shutil
import sqlite3
import sys
import tempfile
import time
import tomllib
import uuid
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import sqlalchemy  # noqa: E402
from machine import machine_load  # noqa: E402 - benchmarks/machine.py, next to this script

from kiosk.domain.idnumber import make_id_number  # noqa: E402
from kiosk.domain.masking import mask_id  # noqa: E402
from kiosk.domain.policy import AreaPolicy, parse_policies, parse_policy  # noqa: E402
from kiosk.store.crypto import FieldCipher  # noqa: E402
from kiosk.store.db import upgrade  # noqa: E402
from kiosk.store.models import OutboxItem, Submission  # noqa: E402
from kiosk.store.repository import BindDraft, Store  # noqa: E402

AREA = "371500"  # Liaocheng: verification "none", offline_queue_max_count 200
TARGET_RATIO = 1.5
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=30000",
)
SUBMISSION_COLUMNS = (
    "request_id, receipt_no, kind, status, created_at, updated_at, admdvs, holder_psn_no, "
    "holder_name_masked, relative_name_masked, relative_certno_masked, relation_code"
)
INSERT_SUBMISSION = f"INSERT INTO submission ({SUBMISSION_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"  # noqa: S608
INSERT_OUTBOX = (
    "INSERT INTO outbox (request_id, method, path, payload, created_at, attempts, next_attempt_at) "
    "VALUES (?,?,?,?,?,0,?)"
)
QUEUE_QUERY = "SELECT count(*), min(created_at) FROM outbox WHERE done_at IS NULL"
MARK_DONE = (
    "UPDATE submission SET status='accepted' WHERE status='pending'",
    "UPDATE outbox SET payload=NULL, done_at=? WHERE done_at IS NULL",
)


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


def area_policy_dict(admdvs: str = AREA) -> dict[str, Any]:
    """The area's policy exactly as central publishes it (kiosk/central/data/areas.toml)."""
    raw = tomllib.loads(resources.files("kiosk.central").joinpath("data", "areas.toml").read_text("utf-8"))
    return parse_policies(raw, "areas.toml")[admdvs].to_dict()


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (q in 0..100)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summary(samples_ns: list[int]) -> dict[str, float]:
    s = sorted(v / 1000 for v in samples_ns)  # µs
    return {
        "n": len(s),
        "p50": percentile(s, 50),
        "p95": percentile(s, 95),
        "p99": percentile(s, 99),
        "mean": sum(s) / len(s),
        "max": s[-1],
    }


def sqlite_connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    for pragma in PRAGMAS:
        conn.execute(pragma)
    return conn


def pragmas_of(conn: sqlite3.Connection) -> tuple[str, int]:
    journal = str(conn.execute("PRAGMA journal_mode").fetchone()[0])
    synchronous = int(conn.execute("PRAGMA synchronous").fetchone()[0])
    return journal, synchronous


def sa_ts(t: dt.datetime) -> str:
    """A timestamp as SQLAlchemy's SQLite DateTime stores it."""
    return t.strftime("%Y-%m-%d %H:%M:%S.%f")


def make_draft(i: int) -> BindDraft:
    born = dt.date(1987, 1, 1) + dt.timedelta(days=i % 3000)
    certno = make_id_number("371502", born, (i % 500) * 2)
    return BindDraft(
        holder_psn_no=f"LC{i:010d}",
        holder_name_masked="测*明",
        relative_certno=certno,
        relative_name_masked="王*",
        relation_code="10",
        admdvs=AREA,
        letter_id="sd-family-aid",
        letter_version=1,
        letter_sha256="ab" * 32,
    )


def bind_body(draft: BindDraft) -> dict[str, Any]:
    return {
        "holder_psn_no": draft.holder_psn_no,
        "relative_certno": draft.relative_certno,
        "relation_code": draft.relation_code,
        "admdvs": draft.admdvs,
        "letter_id": draft.letter_id,
        "letter_version": draft.letter_version,
        "letter_sha256": draft.letter_sha256,
        "otp_id": draft.otp_id,
        "relative_card_verified": draft.relative_card_verified,
        "channel": draft.channel,
    }


# --------------------------------------------------------------------------------------------------
# The three ways of committing one request
# --------------------------------------------------------------------------------------------------


class Bare:
    """The irreducible durable commit: the same two rows, prepared values, stdlib sqlite3."""

    name = "bare sqlite3"

    def __init__(self, path: Path, payload_size: int) -> None:
        upgrade(path)
        self.conn = sqlite_connect(path)
        self.payload = secrets.token_bytes(payload_size)

    def commit(self, draft: BindDraft) -> None:
        request_id = str(uuid.uuid4())
        now = sa_ts(dt.datetime.now(dt.UTC))
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            INSERT_SUBMISSION,
            (
                request_id,
                f"R{secrets.token_hex(4).upper()}",
                "bind",
                "pending",
                now,
                now,
                draft.admdvs,
                draft.holder_psn_no,
                draft.holder_name_masked,
                draft.relative_name_masked,
                "371502********0000",
                draft.relation_code,
            ),
        )
        conn.execute(INSERT_OUTBOX, (request_id, "POST", "/v1/bindings", self.payload, now, now))
        conn.execute("COMMIT")

    def mark_done(self) -> None:
        mark_done(self.conn)

    def close(self) -> None:
        self.conn.close()


class Lean:
    """submit_bind's work (policy rules, queue check, Fernet, two rows) without the ORM, the per-submit
    policy parse or the JSON column decode: an estimate of what the store could cost."""

    name = "lean (same work, no ORM)"

    def __init__(self, path: Path, cipher: FieldCipher, policy: AreaPolicy) -> None:
        upgrade(path)
        self.conn = sqlite_connect(path)
        self.cipher = cipher
        self.policies = {policy.admdvs: policy}  # parsed once, when cached (e.g. keyed by area version)

    def commit(self, draft: BindDraft) -> None:
        now_dt = dt.datetime.now(dt.UTC)
        now = sa_ts(now_dt)
        request_id = str(uuid.uuid4())
        payload = self.cipher.seal({**bind_body(draft), "request_id": request_id})
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            policy = self.policies[draft.admdvs]
            count, oldest = conn.execute(QUEUE_QUERY).fetchone()
            if policy.offline_queue_max_count and count >= policy.offline_queue_max_count:
                raise RuntimeError("offline_queue_full")
            if oldest is not None and policy.offline_queue_max_age_hours:
                age = now_dt - dt.datetime.fromisoformat(oldest).replace(tzinfo=dt.UTC)
                if age > dt.timedelta(hours=policy.offline_queue_max_age_hours):
                    raise RuntimeError("offline_queue_too_old")
            conn.execute(
                INSERT_SUBMISSION,
                (
                    request_id,
                    f"R{now_dt:%y%m%d}{secrets.token_hex(4).upper()}",
                    "bind",
                    "pending",
                    now,
                    now,
                    draft.admdvs,
                    draft.holder_psn_no,
                    draft.holder_name_masked,
                    draft.relative_name_masked,
                    mask_id(draft.relative_certno),
                    draft.relation_code,
                ),
            )
            conn.execute(INSERT_OUTBOX, (request_id, "POST", "/v1/bindings", payload, now, now))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def mark_done(self) -> None:
        mark_done(self.conn)

    def close(self) -> None:
        self.conn.close()


class RealStore:
    name = "Store.submit_bind"

    def __init__(self, path: Path, policy: dict[str, Any]) -> None:
        self.store = Store.at(path)
        self.store.cache_area(AREA, 1, str(policy["name_zh"]), str(policy["name_en"]), policy)
        self.side = sqlite_connect(path)  # the "sync worker": marks requests answered, outside the timing

    def commit(self, draft: BindDraft) -> None:
        self.store.submit_bind(draft, online=True)

    def mark_done(self) -> None:
        mark_done(self.side)

    def close(self) -> None:
        self.side.close()
        self.store.close()


class MemoPolicyStore(RealStore):
    """Ablation: submit_bind with the parsed policy memoized (no CachedArea SELECT, no JSON decode, no
    parse_policy per submit). Done by replacing the instance's `_policy`; the repository is not changed."""

    name = "  ablation: policy memoized"

    def __init__(self, path: Path, policy: dict[str, Any]) -> None:
        super().__init__(path, policy)
        parsed = self.store.policy(AREA)
        self.store._policy = lambda _db, admdvs: parsed if admdvs == AREA else None  # type: ignore[method-assign]


class OrmWriteOnly(RealStore):
    """Ablation: only the ORM writes of submit_bind (the two objects, flushed the same way, committed);
    no policy, no queue check, no Fernet (a prepared payload of the same size)."""

    name = "  ablation: ORM writes only"

    def __init__(self, path: Path, policy: dict[str, Any], payload: bytes) -> None:
        super().__init__(path, policy)
        self.payload = payload

    def commit(self, draft: BindDraft) -> None:
        now = dt.datetime.now(dt.UTC)
        request_id = str(uuid.uuid4())
        with self.store.sessions.begin() as db:
            db.add(
                Submission(
                    request_id=request_id,
                    receipt_no=f"R{now:%y%m%d}{secrets.token_hex(4).upper()}",
                    kind="bind",
                    status="pending",
                    created_at=now,
                    updated_at=now,
                    admdvs=draft.admdvs,
                    holder_psn_no=draft.holder_psn_no,
                    holder_name_masked=draft.holder_name_masked,
                    relative_name_masked=draft.relative_name_masked,
                    relative_certno_masked=mask_id(draft.relative_certno),
                    relation_code=draft.relation_code,
                )
            )
            db.flush()
            db.add(
                OutboxItem(
                    request_id=request_id,
                    method="POST",
                    path="/v1/bindings",
                    payload=self.payload,
                    created_at=now,
                    attempts=0,
                    next_attempt_at=now,
                )
            )


def mark_done(conn: sqlite3.Connection) -> None:
    now = sa_ts(dt.datetime.now(dt.UTC))
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(MARK_DONE[0])
    conn.execute(MARK_DONE[1], (now,))
    conn.execute("COMMIT")


# --------------------------------------------------------------------------------------------------
# Phases
# --------------------------------------------------------------------------------------------------


def interleaved(
    variants: list[Any], rounds: int, warmup: int, drain_every: int, first_draft: int
) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """One commit of each variant per round, the order rotating. Returns, after warm-up, the wall time
    and the CPU time of this thread (ns) of each commit: the wall time is the latency asked for, the CPU
    time leaves out the fsync wait and the time the process was descheduled (the machine is shared)."""
    wall: dict[str, list[int]] = {v.name: [] for v in variants}
    cpu: dict[str, list[int]] = {v.name: [] for v in variants}
    clock, cpu_clock = time.perf_counter_ns, time.thread_time_ns
    k = len(variants)
    for r in range(warmup + rounds):
        draft = make_draft(first_draft + r)
        for j in range(k):
            v = variants[(r + j) % k]
            c0, t0 = cpu_clock(), clock()
            v.commit(draft)
            t1, c1 = clock(), cpu_clock()
            if r >= warmup:
                wall[v.name].append(t1 - t0)
                cpu[v.name].append(c1 - c0)
        if (r + 1) % drain_every == 0:
            for v in variants:
                v.mark_done()
    return wall, cpu


def micro(fn: Callable[[], Any], n: int) -> float:
    """Median CPU µs (this thread) of fn over n calls, in batches of 10."""
    per: list[float] = []
    clock = time.thread_time_ns
    for _ in range(max(1, n // 10)):
        t0 = clock()
        for _ in range(10):
            fn()
        per.append((clock() - t0) / 10 / 1000)
    per.sort()
    return per[len(per) // 2]


def component_costs(real: RealStore, policy: dict[str, Any], n: int) -> list[tuple[str, float]]:
    store = real.store
    draft = make_draft(0)
    body = {**bind_body(draft), "request_id": str(uuid.uuid4())}
    from sqlalchemy import text

    def session_select1() -> None:
        with store.sessions.begin() as db:
            db.execute(text("SELECT 1"))

    def session_policy() -> None:
        with store.sessions.begin() as db:
            store._policy(db, AREA)

    def session_queue() -> None:
        with store.sessions.begin() as db:
            store._queue(db)

    def raw_queue() -> None:
        real.side.execute(QUEUE_QUERY).fetchone()

    return [
        ("Fernet seal of the payload (FieldCipher.seal)", micro(lambda: store.cipher.seal(body), n)),
        ("parse_policy of the cached policy dict", micro(lambda: parse_policy(policy, "x"), n)),
        ("JSON decode of the cached policy column", micro(lambda: json.loads(json.dumps(policy)), n)),
        ("mask_id + uuid4 + receipt token", micro(lambda: (mask_id("x" * 18), uuid.uuid4()), n)),
        ("ORM session: BEGIN IMMEDIATE + SELECT 1 + COMMIT (no write)", micro(session_select1, n)),
        ("ORM session: BEGIN + _policy (db.get + parse) + COMMIT", micro(session_policy, n)),
        ("ORM session: BEGIN + _queue (count, min) + COMMIT", micro(session_queue, n)),
        ("raw sqlite3: queue count/min query alone", micro(raw_queue, n)),
    ]


PROFILE_PARTS = (
    ("submit_bind (total, profiled)", "repository.py", "submit_bind"),
    ("  Fernet seal", "crypto.py", "seal"),
    ("  _check_queue", "repository.py", "_check_queue"),
    ("    _policy (db.get CachedArea + parse)", "repository.py", "_policy"),
    ("      parse_policy", "policy.py", "parse_policy"),
    ("    _queue (count/min query)", "repository.py", "_queue"),
    ("  Session.flush (ORM INSERTs)", "orm/session.py", "flush"),
    ("  sqlite3 Cursor.execute (all SQL)", "~", "<method 'execute' of 'sqlite3.Cursor' objects>"),
    ("  sqlite3 Connection.commit (the fsyncs)", "~", "<method 'commit' of 'sqlite3.Connection' objects>"),
)


def profile_submits(real: RealStore, n: int, drain_every: int, first_draft: int) -> str:
    prof = cProfile.Profile()
    drafts = [make_draft(first_draft + i) for i in range(n)]
    for i, draft in enumerate(drafts):
        prof.enable()
        real.commit(draft)
        prof.disable()
        if (i + 1) % drain_every == 0:
            real.mark_done()
    stats = pstats.Stats(prof)
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    lines = [f"cProfile of {n} submit_bind calls (profiler overhead inflates the Python parts):", ""]
    total = 0.0
    lines.append(f"  {'part':<46} {'µs/submit':>10} {'share':>7}")
    for label, file_end, func in PROFILE_PARTS:
        ct = sum(v[3] for (f, _l, fn), v in raw.items() if fn == func and f.endswith(file_end))
        us = ct / n * 1e6
        if label.startswith("submit_bind"):
            total = us
        share = f"{us / total:6.0%}" if total else ""
        lines.append(f"  {label:<46} {us:>10.1f} {share:>7}")
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).strip_dirs().sort_stats("tottime").print_stats(18)
    top = [ln for ln in buf.getvalue().splitlines() if ln.strip()][-19:]
    lines += ["", "  top functions by own time (tottime):", *("  " + ln for ln in top)]
    return "\n".join(lines)


def depth_sweep(
    work: Path, policy: dict[str, Any], depth: int, window: int, payload: int
) -> dict[str, float]:
    """Submit `depth` requests without draining (after an untimed warm-up), each interleaved with a bare
    commit on its own file; compare store/bare of the first and the last `window` submits."""
    big = dict(policy, offline_queue_max_count=max(100_000, depth * 2))
    real = RealStore(work / "depth.db", big)
    bare = Bare(work / "depth-bare.db", payload)
    store_ns: list[int] = []
    bare_ns: list[int] = []
    store_cpu: list[int] = []
    clock, cpu_clock = time.perf_counter_ns, time.thread_time_ns
    try:
        for i in range(200):
            real.commit(make_draft(20_000_000 + i))
            bare.commit(make_draft(20_000_000 + i))
        real.mark_done()
        bare.mark_done()
        for i in range(depth):
            draft = make_draft(10_000_000 + i)
            pair = ((real, store_ns), (bare, bare_ns)) if i % 2 else ((bare, bare_ns), (real, store_ns))
            for variant, out in pair:
                c0, t0 = cpu_clock(), clock()
                variant.commit(draft)
                out.append(clock() - t0)
                if variant is real:
                    store_cpu.append(cpu_clock() - c0)
        c0 = cpu_clock()
        for _ in range(50):
            real.side.execute(QUEUE_QUERY).fetchone()
        query_us = (cpu_clock() - c0) / 50 / 1000
    finally:
        real.close()
        bare.close()
    first = summary(store_ns[:window])["p50"], summary(bare_ns[:window])["p50"]
    last = summary(store_ns[-window:])["p50"], summary(bare_ns[-window:])["p50"]
    return {
        "first_p50": first[0],
        "first_ratio": first[0] / first[1],
        "first_cpu": summary(store_cpu[:window])["p50"],
        "last_p50": last[0],
        "last_ratio": last[0] / last[1],
        "last_cpu": summary(store_cpu[-window:])["p50"],
        "query_us": query_us,
    }


# --------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--samples", type=int, default=3000, help="measured commits of each variant")
    p.add_argument("--warmup", type=int, default=300, help="unmeasured commits of each variant first")
    p.add_argument("--drain-every", type=int, default=100, help="mark pending answered every N rounds")
    p.add_argument("--dir", default=None, help="parent of the temp dir (the disk under test)")
    p.add_argument("--profile-samples", type=int, default=2000, help="0 = no cProfile")
    p.add_argument("--micro", type=int, default=2000, help="calls per micro-timing")
    p.add_argument("--depth", type=int, default=5000, help="pending requests for the depth sweep; 0 = skip")
    p.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = p.parse_args(argv)
    if args.drain_every >= 200:
        p.error("--drain-every must stay below the area's queue bound (200)")

    work = Path(tempfile.mkdtemp(prefix="kiosk-store-bench-", dir=args.dir))
    t_start = time.monotonic()
    try:
        policy = area_policy_dict()
        parsed = parse_policy(policy)
        real = RealStore(work / "terminal.db", policy)
        token = real.store.cipher.seal({**bind_body(make_draft(0)), "request_id": str(uuid.uuid4())})
        bare = Bare(work / "bare.db", len(token))
        lean = Lean(work / "lean.db", real.store.cipher, parsed)
        memo = MemoPolicyStore(work / "memo.db", policy)
        orm_only = OrmWriteOnly(work / "orm.db", policy, token)
        modes = {
            "terminal.db": pragmas_of(real.side),
            "bare.db": pragmas_of(bare.conn),
            "lean.db": pragmas_of(lean.conn),
            "memo.db": pragmas_of(memo.side),
            "orm.db": pragmas_of(orm_only.side),
        }
        print(
            f"store commit benchmark: Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
            f"SQLAlchemy {sqlalchemy.__version__}, {os.cpu_count()} CPUs"
        )
        print(f"machine load at start: {machine_load()}")
        print(f"directory: {work} (device {os.stat(work).st_dev:#x}; every file in it)")
        print("journal_mode/synchronous: " + ", ".join(f"{k} {j}/{s}" for k, (j, s) in modes.items()))
        print(f"payload: {len(token)} bytes (Fernet token of the bind request)")
        print(
            f"{args.warmup} warm-up + {args.samples} measured commits of each, interleaved (order rotating "
            f"per round); pending requests marked answered every {args.drain_every} rounds, untimed"
        )
        variants: list[Any] = [real, bare, lean, memo, orm_only]
        wall, cpu = interleaved(variants, args.samples, args.warmup, args.drain_every, 0)
        stats = {name: summary(v) for name, v in wall.items()}
        cpu_stats = {name: summary(v) for name, v in cpu.items()}

        print()
        print(
            f"{'variant':<28} {'n':>6} {'p50 µs':>9} {'p95 µs':>9} {'p99 µs':>9} {'mean µs':>9} "
            f"{'CPU p50 µs':>11} {'CPU p95 µs':>11}"
        )
        for name, s in stats.items():
            c = cpu_stats[name]
            print(
                f"{name:<28} {s['n']:>6} {s['p50']:>9.1f} {s['p95']:>9.1f} {s['p99']:>9.1f} "
                f"{s['mean']:>9.1f} {c['p50']:>11.1f} {c['p95']:>11.1f}"
            )
        print("(wall-clock latency of the call; CPU: this thread's CPU time during the call, no I/O wait)")
        st, ba, le = stats[real.name], stats[bare.name], stats[lean.name]
        r50, r95 = st["p50"] / ba["p50"], st["p95"] / ba["p95"]
        print()
        for q, r in (("p50", r50), ("p95", r95)):
            verdict = "meets" if r <= TARGET_RATIO else "MISSES"
            print(f"ratio store/bare {q}: {r:5.2f}x   target <= {TARGET_RATIO}x: {verdict}")
        print(f"ratio lean/bare  p50: {le['p50'] / ba['p50']:5.2f}x   p95: {le['p95'] / ba['p95']:5.2f}x")
        cst, cba, cle = cpu_stats[real.name], cpu_stats[bare.name], cpu_stats[lean.name]
        print(
            f"CPU p50 ratios: store/bare {cst['p50'] / cba['p50']:.2f}x, "
            f"lean/bare {cle['p50'] / cba['p50']:.2f}x"
        )
        cme, cow = cpu_stats[memo.name], cpu_stats[orm_only.name]
        print(
            f"store overhead over bare at p50: {st['p50'] - ba['p50']:.0f} µs wall, "
            f"{cst['p50'] - cba['p50']:.0f} µs CPU per commit; CPU p50 deltas:"
        )
        for label, delta in (
            ("policy read + JSON decode + parse per submit (store - memoized)", cst["p50"] - cme["p50"]),
            ("queue check + Fernet + the rest (memoized - ORM writes only)", cme["p50"] - cow["p50"]),
            ("ORM session + unit of work of the two rows (ORM writes - bare)", cow["p50"] - cba["p50"]),
        ):
            print(f"  {label:<66} {delta:6.0f} µs")

        print("\ncost of the parts of submit_bind (unprofiled, median CPU µs per call):")
        for label, us in component_costs(real, policy, args.micro):
            print(f"  {label:<62} {us:8.1f}")

        if args.profile_samples:
            print()
            print(profile_submits(real, args.profile_samples, args.drain_every, 1_000_000))
        for v in variants:
            v.close()

        if args.depth:
            window = min(500, max(1, args.depth // 10))
            d = depth_sweep(work, policy, args.depth, window, len(token))
            print(f"\nqueue depth ({args.depth} submits without draining, each next to a bare commit):")
            print(f"  {'pending':<16} {'store p50 µs':>13} {'store/bare p50':>15} {'store CPU p50 µs':>17}")
            for label, p50, ratio, cpu_p50 in (
                (f"0-{window}", d["first_p50"], d["first_ratio"], d["first_cpu"]),
                (f"{args.depth - window}-{args.depth}", d["last_p50"], d["last_ratio"], d["last_cpu"]),
            ):
                print(f"  {label:<16} {p50:>13.0f} {ratio:>14.2f}x {cpu_p50:>17.0f}")
            print(
                f"  growth: store/bare x{d['last_ratio'] / d['first_ratio']:.2f}, store CPU "
                f"x{d['last_cpu'] / d['first_cpu']:.2f}; the count/min query alone at {args.depth} "
                f"pending: {d['query_us']:.0f} µs CPU"
            )
        print(f"\nmachine load at end: {machine_load()}")
        print(f"total time {time.monotonic() - t_start:.0f} s")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
