"""Benchmark of the terminal's outbox drain to a real central service on a durable PostgreSQL: requests/s
and the cost per request with 1,000 and with 10,000 requests queued (target: with 10,000 queued a request
costs at most 1.2x what it costs with 1,000, i.e. the cost does not grow with the queue).

    python benchmarks/outbox_drain.py [--small 1000] [--large 10000] [--rounds 2] [--warmup 200] [--keep]

What it does, all on this machine (127.0.0.1 only), in about 5 minutes with the defaults (most of it is
the 10,000 binding writes at central, one at a time; longer when the machine is busy):

1. starts a private PostgreSQL with its durable defaults (fsync, synchronous_commit and full_page_writes
   on; tests/support/services.py turns them off, this script does not, and checks them with SHOW), creates a
   fresh database, runs central's migrations, loads the areas and letters and registers one kiosk;
2. inserts, in bulk, one distinct holder/relative pair per request to send, all insured in Liaocheng
   (371500: verification "none"): a 310-insured holder and a spouse (relation 10), each person in exactly
   one pair, so no binding meets a cap (max 6 relatives per holder, 2 holders per relative) and every
   request is a full, successful POST /v1/bindings (201) with all the real checks;
3. starts the real central (`python -m kiosk central serve`, one uvicorn worker, SMS to a file);
4. makes three terminals, each a fresh store with fresh pairs: one sync cycle pulls the policies and
   letters, then Liaocheng's cached policy is replaced (a higher version) by one whose offline queue bound
   is 100,000 (the published 200 would refuse the 201st submission, even online), and the store is filled
   with Store.submit_bind(..., online=True):
   - warm-up (--warmup): drained alone first, not reported;
   - small (--small) and large (--large): drained *side by side*, one SyncWorker.run_once() of each in
     turn, until the small store is empty, so that load changes on this shared machine hit both; this is
     repeated with another fresh small store (--rounds in all), then the rest of the large store is
     drained alone;
5. prints fill times, requests/s, µs per request, CPU per request of this process, of central and of
   PostgreSQL (from /proc), where the terminal's wall time goes (POST round trip, due(), record_answer(),
   policy pull), the ratio large/small of the side-by-side cycles against the target, the same for the
   whole large drain, and how a cycle's cost moves from the start to the end of the large drain.

A benchmark, not a test: exit status 0 whenever every request was accepted, whether or not the target was
met; 1 when the measurement is invalid (a request rejected or left queued).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as `python benchmarks/X.py`: import `benchmarks.*`, `tests.support`
    sys.path.insert(0, str(REPO_ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402
from machine import machine_load  # noqa: E402 - benchmarks/machine.py, next to this script
from sqlalchemy import func, insert, select  # noqa: E402

from kiosk.central.auth import register_kiosk  # noqa: E402
from kiosk.central.db import make_engine, make_sessionmaker, upgrade  # noqa: E402
from kiosk.central.models import Binding, Person  # noqa: E402
from kiosk.central.seed import load_reference_data  # noqa: E402
from kiosk.config import SyncConfig  # noqa: E402
from kiosk.domain.idnumber import make_id_number  # noqa: E402
from kiosk.store.models import CachedArea, Submission  # noqa: E402
from kiosk.store.repository import BindDraft, Store  # noqa: E402
from kiosk.sync.client import central_client  # noqa: E402
from kiosk.sync.worker import SyncWorker  # noqa: E402
from tests.support.services import CentralServer, Postgres, _conninfo, fresh_database  # noqa: E402

AREA = "371500"  # Liaocheng: verification "none", letter sd-family-aid v1
COUNTY = "371502"
LETTER_ID, LETTER_VERSION = "sd-family-aid", 1
KIOSK_ID = "bench-drain-01"
QUEUE_BOUND = 100_000
TARGET_RATIO = 1.2
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------------------------------
# PostgreSQL with its durable defaults
# --------------------------------------------------------------------------------------------------


class DurablePostgres(Postgres):
    """tests/support/services.py's Postgres without the options that trade durability for speed: the commit
    of a binding must pay for its WAL flush as in production. Checked with SHOW after the start."""

    FAST_OPTS = (" -c fsync=off", " -c synchronous_commit=off", " -c full_page_writes=off")

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        if "start" in args and "-o" in args:
            i = args.index("-o") + 1
            opts = args[i]
            for fast in self.FAST_OPTS:
                opts = opts.replace(fast, "")
            args = (*args[:i], opts, *args[i + 1 :])
        return super()._run(*args)

    def settings(self, names: tuple[str, ...]) -> dict[str, str]:
        assert self.url is not None
        with psycopg.connect(**_conninfo(self.url)) as conn:  # type: ignore[arg-type]
            return {n: str(conn.execute(f"SHOW {n}").fetchone()[0]) for n in names}  # type: ignore[index]

    def postmaster_pid(self) -> int:
        return int((self.data_dir / "postmaster.pid").read_text().split()[0])


# --------------------------------------------------------------------------------------------------
# CPU accounting from /proc (other processes' CPU is not visible through resource)
# --------------------------------------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()  # fields from "state" on


def trees_cpu_s(*roots: int) -> list[float]:
    """CPU seconds of each root process, its reaped children and its live children (one level: enough for
    the postmaster and its backends, and for a single-process uvicorn); one pass over /proc."""
    totals = [0.0] * len(roots)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        st = _stat(pid)
        if st is None:
            continue
        for n, root in enumerate(roots):
            if pid == root or int(st[1]) == root:  # the root itself (with cutime) or a child (ppid)
                totals[n] += sum(int(x) for x in st[11:15]) / CLK_TCK  # utime stime cutime cstime
    return totals


def self_cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


# --------------------------------------------------------------------------------------------------
# Seed: one distinct pair per request
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    holder_psn_no: str
    relative_certno: str


def seed_pairs(database_url: str, count: int) -> list[Pair]:
    """`count` disjoint (holder, spouse) pairs in Liaocheng, inserted with one multi-row INSERT per chunk."""
    rows: list[dict[str, Any]] = []
    pairs: list[Pair] = []
    for i in range(count):
        day, seq = divmod(i, 500)
        holder_certno = make_id_number(COUNTY, dt.date(1980, 1, 1) + dt.timedelta(days=day), seq * 2 + 1)
        spouse_certno = make_id_number(COUNTY, dt.date(1982, 1, 1) + dt.timedelta(days=day), seq * 2)
        holder, spouse = f"DH{i:08d}", f"DR{i:08d}"
        for psn_no, certno, sex, insutype in (
            (holder, holder_certno, "1", "310"),
            (spouse, spouse_certno, "2", "390"),
        ):
            rows.append(
                {
                    "psn_no": psn_no,
                    "certno": certno,
                    "name": "测试" + "甲乙丙丁戊己庚辛壬癸"[i % 10],
                    "sex": sex,
                    "birth_date": dt.date(int(certno[6:10]), int(certno[10:12]), int(certno[12:14])),
                    "insutype": insutype,
                    "insu_status": "1",
                    "insured_admdvs": AREA,
                    "phone": f"139{len(rows):08d}",
                    "card_no": None,
                    "card_issuing_admdvs": None,
                    "card_generation": None,
                    "account_balance_fen": 100_000,
                }
            )
        pairs.append(Pair(holder, spouse_certno))
    engine = make_engine(database_url, pool_size=1)
    try:
        with make_sessionmaker(engine).begin() as db:
            for start in range(0, len(rows), 5000):
                db.execute(insert(Person), rows[start : start + 5000])
    finally:
        engine.dispose()
    return pairs


def prepare_central(database_url: str) -> str:
    upgrade(database_url)
    engine = make_engine(database_url, pool_size=1)
    try:
        with make_sessionmaker(engine).begin() as db:
            now = dt.datetime.now(dt.UTC)
            load_reference_data(db, now)
            secret = register_kiosk(db, KIOSK_ID, now)
    finally:
        engine.dispose()
    return secret


def central_bindings(database_url: str) -> int:
    engine = make_engine(database_url, pool_size=1)
    try:
        with make_sessionmaker(engine)() as db:
            return int(db.scalar(select(func.count()).select_from(Binding)) or 0)
    finally:
        engine.dispose()


# --------------------------------------------------------------------------------------------------
# Timing of the terminal's own steps (instance wrappers; nothing in kiosk/ is changed)
# --------------------------------------------------------------------------------------------------


@dataclass
class Timers:
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def wrap(self, label: Callable[..., str] | str, fn: Callable[..., Any]) -> Callable[..., Any]:
        clock = time.perf_counter

        def timed(*args: Any, **kwargs: Any) -> Any:
            name = label(*args, **kwargs) if callable(label) else label
            t0 = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] += clock() - t0
                self.calls[name] += 1

        return timed


def instrument(store: Store, client: httpx.Client, timers: Timers) -> None:
    store.due = timers.wrap("store.due()", store.due)  # type: ignore[method-assign]
    store.record_answer = timers.wrap("store.record_answer()", store.record_answer)  # type: ignore[method-assign]
    store.record_failure = timers.wrap("store.record_failure()", store.record_failure)  # type: ignore[method-assign]
    for name in ("cache_area", "has_letter", "cache_letter", "set_state"):
        setattr(store, name, timers.wrap("store: policy cache + state", getattr(store, name)))

    def http_label(method: str, url: Any, *_a: Any, **_k: Any) -> str:
        return "HTTP POST /v1/bindings" if method == "POST" else f"HTTP {method} (policy pull)"

    client.request = timers.wrap(http_label, client.request)  # type: ignore[method-assign]


# --------------------------------------------------------------------------------------------------
# A terminal: fresh store, its signed client and worker; fill, then drain one measured cycle at a time
# --------------------------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    s = sorted(values)
    return s[len(s) // 2] if s else float("nan")


CpuProbe = Callable[[], tuple[float, float, float]]  # CPU seconds: this process, central, PostgreSQL


class Terminal:
    """One kiosk: a fresh store, a signed client and a SyncWorker, with each sync cycle measured."""

    def __init__(self, name: str, work: Path, server: CentralServer, secret: str, cpu: CpuProbe) -> None:
        self.name = name
        self.store = Store.at(work / name / "terminal.db")
        self.client = central_client(server.url, KIOSK_ID, secret, timeout=30)
        sync = SyncConfig(interval_s=0.1, backoff_base_s=0.05, backoff_max_s=0.2, timeout_s=30)
        self.worker = SyncWorker(self.store, self.client, sync)
        self.cpu = cpu
        self.timers = Timers()
        self.rows: list[dict[str, float]] = []  # per cycle that sent something: seconds by part, and "sent"
        self.queued = 0
        self.fill_s = 0.0
        self.submit_us: list[float] = []
        self.accepted = self.rejected = 0

    def prepare(self) -> None:
        """First sync cycle (policies, letters), then Liaocheng's queue bound raised in the cached policy."""
        first = self.worker.run_once()
        if not first.online or first.error:
            raise RuntimeError(f"{self.name}: first sync cycle failed: {first}")
        published = self.store.policy(AREA)
        assert published is not None
        with self.store.sessions() as db:
            version = db.get(CachedArea, AREA).version  # type: ignore[union-attr]
        policy = dict(published.to_dict(), offline_queue_max_count=QUEUE_BOUND)
        self.store.cache_area(AREA, version + 1000, published.name_zh, published.name_en, policy)

    def fill(self, pairs: list[Pair]) -> None:
        letter = self.store.letter(LETTER_ID, LETTER_VERSION, "zh-CN")
        assert letter is not None
        t0 = time.perf_counter()
        for pair in pairs:
            draft = BindDraft(
                pair.holder_psn_no,
                "测*",
                pair.relative_certno,
                "测*",
                "10",
                AREA,
                LETTER_ID,
                LETTER_VERSION,
                letter.sha256,
            )
            s0 = time.perf_counter_ns()
            self.store.submit_bind(draft, online=True)
            self.submit_us.append((time.perf_counter_ns() - s0) / 1000)
        self.fill_s = time.perf_counter() - t0
        self.queued = len(pairs)
        if self.left() != len(pairs):
            raise RuntimeError(f"{self.name}: {self.left()} queued after filling {len(pairs)}")
        instrument(self.store, self.client, self.timers)  # from here on: the drain

    def left(self) -> int:
        return self.store.queue_stats()[0]

    def cycle(self) -> int:
        """One SyncWorker.run_once(), measured; returns how many requests it sent."""
        before, cpu0 = dict(self.timers.seconds), self.cpu()
        c0 = time.perf_counter()
        report = self.worker.run_once()
        c1 = time.perf_counter()
        cpu1 = self.cpu()
        if not report.online or report.error:
            raise RuntimeError(f"{self.name}: sync cycle failed: {report}")
        self.accepted += report.accepted
        self.rejected += report.rejected
        if report.sent:
            row = {"sent": float(report.sent), "wall": c1 - c0}
            row.update({k: v - before.get(k, 0.0) for k, v in self.timers.seconds.items()})
            for n, key in enumerate(("CPU self", "CPU central", "CPU PG")):
                row[key] = cpu1[n] - cpu0[n]
            self.rows.append(row)
        return report.sent

    def statuses(self) -> dict[str, int]:
        with self.store.sessions() as db:
            rows = db.execute(select(Submission.status, func.count()).group_by(Submission.status)).all()
        return {str(status): int(n) for status, n in rows}

    def close(self) -> None:
        self.client.close()
        self.store.close()


def per_req(rows: list[dict[str, float]], key: str) -> float:
    """µs per request of `key` over these cycles."""
    sent = sum(r["sent"] for r in rows)
    return sum(r.get(key, 0.0) for r in rows) / sent * 1e6 if sent else float("nan")


def cpu_per_req(rows: list[dict[str, float]]) -> float:
    return sum(per_req(rows, k) for k in ("CPU self", "CPU central", "CPU PG"))


def drain_alone(t: Terminal) -> None:
    while t.left():
        if t.cycle() == 0:
            raise RuntimeError(f"{t.name}: a sync cycle sent nothing with {t.left()} queued")


def drain_side_by_side(small: Terminal, large: Terminal) -> None:
    """Alternate one sync cycle of each terminal (the order rotating) until the small one is empty, so
    that load changes on the machine hit both."""
    r = 0
    while small.left():
        for t in (small, large) if r % 2 == 0 else (large, small):
            if t.left() and t.cycle() == 0:
                raise RuntimeError(f"{t.name}: a sync cycle sent nothing with {t.left()} queued")
        r += 1


# --------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------


@dataclass
class Line:
    label: str
    short: str
    t: Terminal
    rows: list[dict[str, float]]
    fill: bool = True


def print_results(lines: list[Line]) -> None:
    print()
    print(
        f"{'':<38} {'queued':>7} {'fill s':>7} {'submit p50 µs':>15} {'sent':>6} {'drain s':>8} "
        f"{'req/s':>6} {'µs/req':>7} {'CPU µs/req: self':>17} {'central':>8} {'PG':>6}"
    )
    for ln in lines:
        t, rows = ln.t, ln.rows
        sent = int(sum(r["sent"] for r in rows))
        wall = sum(r["wall"] for r in rows)
        window = max(1, min(100, len(t.submit_us) // 10))
        submit = (
            f"{median(t.submit_us[:window]):.0f} → {median(t.submit_us[-window:]):.0f}" if ln.fill else ""
        )
        fill = f"{t.fill_s:7.1f}" if ln.fill else ""
        print(
            f"{ln.label:<38} {t.queued:>7} {fill:>7} {submit:>15} {sent:>6} {wall:>8.1f} "
            f"{sent / wall:>6.1f} {wall / sent * 1e6:>7.0f} {per_req(rows, 'CPU self'):>17.0f} "
            f"{per_req(rows, 'CPU central'):>8.0f} {per_req(rows, 'CPU PG'):>6.0f}"
        )
    print(
        "(fill s, submit p50: of the first store; submit p50: median submit_bind of the first and of the\n"
        " last 10% (at most 100) of the fill; drain s: the sum of the sync cycles' wall time)"
    )
    print("\nwhere the terminal's drain time goes (wall µs per request sent):")
    labels = sorted(
        {k for ln in lines for r in ln.rows for k in r if not k.startswith("CPU")} - {"sent", "wall"}
    )
    print(f"  {'step':<30}" + "".join(f"{ln.short:>15}" for ln in lines))
    for label in [*labels, "wall"]:
        name = "total (sync cycle)" if label == "wall" else label
        print(f"  {name:<30}" + "".join(f"{per_req(ln.rows, label):>15.0f}" for ln in lines))


def print_drift(t: Terminal) -> None:
    """How a sync cycle's cost per request moves from the start to the end of a drain (medians)."""
    rows = t.rows
    k = max(1, len(rows) // 10)
    keys = (
        "wall",
        "HTTP POST /v1/bindings",
        "store.record_answer()",
        "store.due()",
        "CPU self",
        "CPU central",
        "CPU PG",
    )
    print(f"\nwithin the {t.queued} drain, µs per request of a sync cycle (median of {k} cycles of 200):")
    print(f"  {'':<24} {'first ' + str(k):>10} {'last ' + str(k):>10} {'last/first':>11}")
    for key in keys:
        first = median([r.get(key, 0.0) / r["sent"] * 1e6 for r in rows[:k]])
        last = median([r.get(key, 0.0) / r["sent"] * 1e6 for r in rows[-k:]])
        ratio = f"{last / first:10.2f}x" if first else ""
        print(f"  {key:<24} {first:>10.0f} {last:>10.0f} {ratio:>11}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--small", type=int, default=1000, help="requests queued in the small store")
    p.add_argument("--large", type=int, default=10000, help="requests queued in the large store")
    p.add_argument("--warmup", type=int, default=200, help="requests of an unmeasured warm-up drain")
    p.add_argument(
        "--rounds", type=int, default=2, help="small stores drained one after the other beside the large one"
    )
    p.add_argument("--keep", action="store_true", help="keep the temp dir (stores, central log, SMS file)")
    args = p.parse_args(argv)
    if not 0 < args.small * args.rounds <= args.large:
        p.error("need 0 < --small x --rounds <= --large")

    t_start = time.monotonic()
    print(
        f"outbox drain benchmark: Python {platform.python_version()}, {os.cpu_count()} CPUs; "
        f"machine load at start: {machine_load()}"
    )
    work = Path(tempfile.mkdtemp(prefix="kiosk-drain-bench-"))
    pg = DurablePostgres()
    server: CentralServer | None = None
    terminals: list[Terminal] = []
    try:
        admin_url = pg.start()
        durability = pg.settings(("fsync", "synchronous_commit", "full_page_writes", "wal_sync_method"))
        version = pg.settings(("server_version",))["server_version"]
        print(f"PostgreSQL {version}: " + ", ".join(f"{k}={v}" for k, v in durability.items()))
        if any(durability[k] != "on" for k in ("fsync", "synchronous_commit", "full_page_writes")):
            raise RuntimeError(f"PostgreSQL is not in its durable mode: {durability}")
        url = fresh_database(admin_url, "kiosk_drain")
        t0 = time.monotonic()
        secret = prepare_central(url)
        total = args.warmup + args.rounds * args.small + args.large
        pairs = seed_pairs(url, total)
        print(
            f"central database seeded: {2 * total} people in {total} disjoint pairs, area {AREA}, "
            f"in {time.monotonic() - t0:.1f} s"
        )
        server = CentralServer(
            url, log_dir=work / "central", extra_args=["--sms-file", str(work / "sms.jsonl")]
        )
        server.start()
        assert server.proc is not None
        central_pid, pg_pid = server.proc.pid, pg.postmaster_pid()
        print(
            f"central: {server.url} (pid {central_pid}, 1 uvicorn worker), "
            f"started in {server.start_seconds:.1f} s"
        )
        before = central_bindings(url)

        def cpu() -> tuple[float, float, float]:
            central, postgres = trees_cpu_s(central_pid, pg_pid)
            return self_cpu_s(), central, postgres

        def terminal(name: str, chunk: list[Pair]) -> Terminal:
            t = Terminal(name, work, server, secret, cpu)  # type: ignore[arg-type]
            terminals.append(t)
            t.prepare()
            t.fill(chunk)
            print(f"  {name}: {t.queued} queued with submit_bind(online=True) in {t.fill_s:.1f} s")
            return t

        warm_pairs = pairs[: args.warmup]
        small_pairs = pairs[args.warmup : args.warmup + args.rounds * args.small]
        large_pairs = pairs[args.warmup + args.rounds * args.small :]
        if warm_pairs:
            print("warm-up: fill, drain alone")
            warm = terminal("warm-up", warm_pairs)
            drain_alone(warm)
        print("fill both stores (fresh stores, fresh pairs)")
        small = terminal("small-1", small_pairs[: args.small])
        large = terminal("large", large_pairs)
        print("drain side by side: one sync cycle of each in turn until the small store is empty ...")
        smalls = [small]
        drain_side_by_side(small, large)
        for n in range(2, args.rounds + 1):  # another fresh small store, side by side with the large one
            small = terminal(f"small-{n}", small_pairs[(n - 1) * args.small : n * args.small])
            smalls.append(small)
            drain_side_by_side(small, large)
        k = len(large.rows)
        small_rows = [row for t in smalls for row in t.rows]
        print(
            f"  {len(smalls)} small store(s) drained in {len(small_rows)} cycles; {large.left()} left in the "
            f"large store"
        )
        print("drain the rest of the large store alone ...")
        drain_alone(large)

        for t in terminals:
            st = t.statuses()
            print(f"  {t.name}: statuses {st}, {t.left()} left, {t.rejected} rejected")
            if t.left() or t.rejected or st.get("accepted") != t.queued:
                print(f"INVALID: {t.name} did not end with every request accepted; central log:")
                print(server.log_tail())
                return 1
        made = central_bindings(url) - before
        print(f"central bindings created during the run: {made} (expected {total})")

        lines = [
            Line(f"small ({args.small}), {len(smalls)} stores", "small", smalls[0], small_rows),
            Line(f"large, first {k} cycles (side by side)", "large, side", large, large.rows[:k], False),
            Line(f"large ({args.large}), whole drain", "large, all", large, large.rows),
        ]
        print_results(lines)
        us_small, us_side, us_all = (per_req(ln.rows, "wall") for ln in lines)
        ratio = us_side / us_small
        verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
        print(
            f"\nper-request cost with {args.large} vs {args.small} queued, side by side: {us_side:.0f} / "
            f"{us_small:.0f} µs = {ratio:.2f}x   target <= {TARGET_RATIO}x: {verdict}"
        )
        cpu_small, cpu_side = cpu_per_req(small_rows), cpu_per_req(large.rows[:k])
        print(
            f"  CPU per request (terminal + central + PostgreSQL): {cpu_side:.0f} / {cpu_small:.0f} µs "
            f"= {cpu_side / cpu_small:.2f}x"
        )
        med_small = median([r["wall"] / r["sent"] * 1e6 for r in small_rows])
        med_side = median([r["wall"] / r["sent"] * 1e6 for r in large.rows[:k]])
        print(
            f"  median sync cycle, µs per request: {med_side:.0f} / {med_small:.0f} µs = "
            f"{med_side / med_small:.2f}x ({len(small_rows)} and {k} cycles)"
        )
        print(
            f"  the whole large drain (not side by side, so exposed to load changes): {us_all:.0f} / "
            f"{us_small:.0f} µs = {us_all / us_small:.2f}x; CPU {cpu_per_req(large.rows) / cpu_small:.2f}x"
        )
        print_drift(large)
        print(f"\nmachine load at end: {machine_load()}")
        print(f"total time {time.monotonic() - t_start:.0f} s")
        return 0
    finally:
        for t in terminals:
            t.close()
        if server is not None:
            server.stop()
        pg.stop()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
