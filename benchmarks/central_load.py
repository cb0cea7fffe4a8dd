"""Load benchmark of the central service on PostgreSQL: binding writes/s, lookups/s and write latency with
N concurrent simulated kiosks, against a bare FastAPI endpoint doing one INSERT on the same server.

    python benchmarks/central_load.py [--kiosks 50] [--seconds 20] [--workers 1] [--profile DIR]

What it does, all on this machine (127.0.0.1 only), in about 1.5 minutes with the defaults:

1. starts a private PostgreSQL with durable settings (fsync, synchronous_commit, full_page_writes on) and
   creates two fresh databases: one for the central service, one for the baseline;
2. seeds the central database with disjoint families in Liaocheng (371500: no SMS verification, up to six
   relatives per holder) so that every binding write is a full, successful POST /v1/bindings (201) with all
   the real checks, and registers one kiosk (own secret) per simulated kiosk;
3. runs, one at a time and with the same number of uvicorn workers, the baseline
   (benchmarks/bare_insert_app.py) and the real service (`python -m kiosk central serve`), and drives each
   with the same driver: one thread per kiosk, each with its own signed httpx client
   (kiosk.sync.client.central_client), back to back requests (closed loop), a warm-up, then a fixed
   measured window. Phases: bare INSERT, binding write, person lookup;
4. prints rates, latency percentiles, CPU per request, PostgreSQL transactions per request, and the ratios
   binding/bare and lookup/bare against the issue's target (>= 0.5).

With --profile DIR (about 40 s more): pg_stat_statements is loaded and the SQL statements of each phase are
listed; an extra binding-write phase (not part of the numbers above) runs with py-spy attached to the
server; and the CPU of one binding write is split by part and by package with cProfile, in-process, one
write at a time. Everything goes to DIR; the summaries are printed.

A benchmark, not a test: the exit status is 0 whenever the measurement is valid (every request answered as
expected, no kiosk ran out of people), whether or not the target was met.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import datetime as dt
import json
import math
import os
import platform
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as `python benchmarks/X.py`: import `benchmarks.*`, `tests.support`
    sys.path.insert(0, str(REPO_ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from benchmarks.bare_insert_app import URL_ENV, create_schema  # noqa: E402
from kiosk.central.auth import register_kiosk  # noqa: E402
from kiosk.central.db import make_engine, make_sessionmaker, upgrade  # noqa: E402
from kiosk.central.models import ConsentLetter, Person  # noqa: E402
from kiosk.central.seed import load_reference_data  # noqa: E402
from kiosk.domain.idnumber import make_id_number  # noqa: E402
from kiosk.sync.client import central_client  # noqa: E402
from tests.support.services import CentralServer, Postgres, _conninfo, fresh_database  # noqa: E402

AREA = "371500"  # Liaocheng: verification "none", max 6 relatives per holder, letter sd-family-aid v1
COUNTY = "371502"
LETTER_ID, LETTER_VERSION = "sd-family-aid", 1
RELATIVES_PER_HOLDER = 6  # the area's max_relatives_per_holder
TARGET_RATIO = 0.5
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------------------------------
# PostgreSQL with durable settings
# --------------------------------------------------------------------------------------------------


class DurablePostgres(Postgres):
    """tests/support/services.py's Postgres, but started with PostgreSQL's durable defaults.

    The test helper turns fsync, synchronous_commit and full_page_writes off for speed; a benchmark of
    writes must pay for the commit flush like production does. The options are dropped from the
    `pg_ctl start` command line (and checked afterwards with SHOW).
    """

    FAST_OPTS = (" -c fsync=off", " -c synchronous_commit=off", " -c full_page_writes=off")

    def __init__(self, extra_opts: str = "") -> None:
        super().__init__()
        self.extra_opts = extra_opts

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        if "start" in args and "-o" in args:
            i = args.index("-o") + 1
            opts = args[i]
            for fast in self.FAST_OPTS:
                opts = opts.replace(fast, "")
            args = (*args[:i], opts + self.extra_opts, *args[i + 1 :])
        return super()._run(*args)

    def settings(self, names: tuple[str, ...]) -> dict[str, str]:
        assert self.url is not None
        with psycopg.connect(**_conninfo(self.url)) as conn:  # type: ignore[arg-type]
            return {n: str(conn.execute(f"SHOW {n}").fetchone()[0]) for n in names}  # type: ignore[index]

    def postmaster_pid(self) -> int:
        return int((self.data_dir / "postmaster.pid").read_text().split()[0])


# --------------------------------------------------------------------------------------------------
# Seed: disjoint families per kiosk
# --------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class KioskPlan:
    kiosk_id: str
    secret: str
    pairs: collections.deque[tuple[str, str, str]]  # (holder psn_no, relative certno, relation code)
    certnos: list[str]  # everyone of this kiosk's families, for lookups


def seed(url: str, kiosks: int, holders_per_kiosk: int) -> tuple[list[KioskPlan], str, int]:
    """Migrate, load areas and letters, insert the families, register the kiosks.

    Returns the kiosk plans, the letter's sha256 and the number of people."""
    upgrade(url)
    now = dt.datetime.now(dt.UTC)
    today = now.date()
    holder_base = dt.date(today.year - 46, 1, 1)  # holders about 45, employee-insured (310)
    child_base = dt.date(today.year - 22, 1, 1)  # their children about 20 (adults: both get the SMS notice)
    rows: list[dict[str, Any]] = []
    plans: list[KioskPlan] = []
    n_holder = n_child = 0

    def person(psn_no: str, certno: str, sex: str, born: dt.date, insutype: str) -> dict[str, Any]:
        return {
            "psn_no": psn_no, "certno": certno, "name": f"压测{psn_no[-4:]}", "sex": sex, "birth_date": born,
            "insutype": insutype, "insu_status": "1", "insured_admdvs": AREA,
            "phone": f"139{len(rows):08d}", "card_no": None, "card_issuing_admdvs": None,
            "card_generation": None, "account_balance_fen": 1_000_000 if insutype == "310" else 0,
        }  # fmt: skip

    def certno_for(base: dt.date, index: int, sex: str) -> tuple[str, dt.date]:
        born = base + dt.timedelta(days=index // 500)  # 500 sequence numbers per sex and day
        return make_id_number(COUNTY, born, (index % 500) * 2 + (1 if sex == "1" else 0)), born

    engine = make_engine(url, pool_size=1)
    try:
        sessions = make_sessionmaker(engine)
        with sessions.begin() as db:
            load_reference_data(db, now)
            for k in range(kiosks):
                kiosk_id = f"bench-kiosk-{k:03d}"
                plan = KioskPlan(kiosk_id, register_kiosk(db, kiosk_id, now), collections.deque(), [])
                for h in range(holders_per_kiosk):
                    holder_psn = f"BK{k:03d}H{h:05d}"
                    sex = "1" if h % 2 else "2"
                    certno, born = certno_for(holder_base, n_holder, sex)
                    n_holder += 1
                    rows.append(person(holder_psn, certno, sex, born, "310"))
                    plan.certnos.append(certno)
                    for r in range(RELATIVES_PER_HOLDER):
                        child_sex, code = ("1", "20") if r % 2 else ("2", "30")  # son / daughter
                        certno, born = certno_for(child_base, n_child, child_sex)
                        n_child += 1
                        rows.append(person(f"{holder_psn}R{r}", certno, child_sex, born, "390"))
                        plan.certnos.append(certno)
                        plan.pairs.append((holder_psn, certno, code))
                plans.append(plan)
            db.execute(insert(Person), rows)
            letter_sha = db.scalar(
                select(ConsentLetter.sha256).where(
                    ConsentLetter.letter_id == LETTER_ID,
                    ConsentLetter.version == LETTER_VERSION,
                    ConsentLetter.lang == "zh-CN",
                )
            )
    finally:
        engine.dispose()
    assert letter_sha, "letter sd-family-aid v1 not in the reference data"
    with psycopg.connect(**_conninfo(url), autocommit=True) as conn:  # type: ignore[arg-type]
        conn.execute("VACUUM ANALYZE")
    return plans, letter_sha, len(rows)


# --------------------------------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------------------------------


class BareServer(CentralServer):
    """benchmarks/bare_insert_app.py under uvicorn, with CentralServer's start/health/stop machinery."""

    def __init__(self, database_url: str, workers: int, log_dir: Path) -> None:
        super().__init__(database_url, env={URL_ENV: database_url}, log_dir=log_dir)
        self.workers = workers

    @property
    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "uvicorn", "benchmarks.bare_insert_app:app", "--host", "127.0.0.1",
            "--port", str(self.port), "--workers", str(self.workers), "--log-level", "warning",
        ]  # fmt: skip


def central_server(database_url: str, workers: int, log_dir: Path) -> CentralServer:
    return CentralServer(
        database_url,
        extra_args=["--workers", str(workers)],
        env={"KIOSK_CENTRAL_SECRET": uuid.uuid4().hex * 2},  # needed (and shared) when workers > 1
        log_dir=log_dir,
    )


# --------------------------------------------------------------------------------------------------
# CPU and PostgreSQL counters
# --------------------------------------------------------------------------------------------------


def _proc_table() -> dict[int, tuple[int, int, int]]:
    """pid -> (ppid, pgid, utime+stime+cutime+cstime in ticks) for every process we can read."""
    out: dict[int, tuple[int, int, int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()  # fields from 3 (state) on
        out[int(entry)] = (int(fields[1]), int(fields[2]), sum(int(x) for x in fields[11:15]))
    return out


def tree_cpu_s(root: int, table: dict[int, tuple[int, int, int]]) -> float:
    """CPU seconds of a process and its live descendants (reaped children are in their parent's c*time)."""
    children: dict[int, list[int]] = collections.defaultdict(list)
    for pid, (ppid, _pgid, _t) in table.items():
        children[ppid].append(pid)
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        if pid in table:
            total += table[pid][2]
            stack.extend(children[pid])
    return total / CLK_TCK


def machine_busy_s() -> float:
    """CPU seconds of the whole machine in user, system and steal time (/proc/stat). Interrupt time is
    left out: it is mostly this benchmark's own loopback traffic, which no process is charged for."""
    user, nice, system, _idle, _iowait, _irq, _softirq, steal = (
        int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return (user + nice + system + steal) / CLK_TCK


def driver_cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def pg_counters(url: str) -> dict[str, int]:
    """Commits, new sessions (connections opened), WAL flushes of the database/server."""
    with psycopg.connect(**_conninfo(url)) as conn:  # type: ignore[arg-type]
        row = conn.execute(
            "SELECT xact_commit, xact_rollback, sessions FROM pg_stat_database"
            " WHERE datname = current_database()"
        ).fetchone()
        wal = conn.execute("SELECT wal_sync FROM pg_stat_wal").fetchone()
    assert row is not None and wal is not None
    return {"commits": row[0], "rollbacks": row[1], "sessions": row[2], "wal_syncs": wal[0]}


# --------------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------------


class Exhausted(Exception):
    """A kiosk ran out of unbound pairs: seed more people (--holders-per-kiosk)."""


@dataclasses.dataclass
class PhaseResult:
    name: str
    seconds: float
    latencies_s: list[float]
    errors: int
    error_samples: list[str]
    exhausted: int
    server_cpu_s: float
    pg_cpu_s: float
    driver_cpu_s: float
    other_cpu_s: float  # used by processes that are not part of this benchmark
    completed: int  # every answer, warm-up and overrun included (for per-request counts over the whole phase)
    pg: dict[str, int]

    @property
    def ok(self) -> int:
        return len(self.latencies_s)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds

    def pct_ms(self, q: float) -> float:
        if not self.latencies_s:
            return math.nan
        xs = sorted(self.latencies_s)
        return 1000 * xs[min(len(xs) - 1, max(0, math.ceil(q / 100 * len(xs)) - 1))]

    def per_req(self, value: float) -> float:
        return value / self.ok if self.ok else math.nan

    def summary(self) -> dict[str, Any]:
        return {
            "requests": self.ok, "rate_per_s": round(self.rate, 1), "p50_ms": round(self.pct_ms(50), 2),
            "p95_ms": round(self.pct_ms(95), 2), "p99_ms": round(self.pct_ms(99), 2),
            "max_ms": round(self.pct_ms(100), 2), "errors": self.errors, "exhausted_kiosks": self.exhausted,
            "server_cpu_ms_per_req": round(1000 * self.per_req(self.server_cpu_s), 3),
            "pg_cpu_ms_per_req": round(1000 * self.per_req(self.pg_cpu_s), 3),
            "driver_cpu_ms_per_req": round(1000 * self.per_req(self.driver_cpu_s), 3),
            "other_cpu_cores": round(self.other_cpu_s / self.seconds, 2),
            "pg_commits_per_req": round(self.per_req(self.pg["commits"]), 2),
            "wal_syncs_per_req": round(self.per_req(self.pg["wal_syncs"]), 2),
            "new_pg_sessions": self.pg["sessions"], "error_samples": self.error_samples,
        }  # fmt: skip


Request = Callable[[int, httpx.Client], httpx.Response]


def run_phase(
    name: str,
    base_url: str,
    plans: list[KioskPlan],
    request: Request,
    expected: int,
    warmup: float,
    seconds: float,
    server_pid: int,
    pg: DurablePostgres,
    db_url: str,
) -> PhaseResult:
    """Closed loop: every kiosk thread sends its next request as soon as the previous one is answered.

    Counted: requests that start after the warm-up and end inside the measured window."""
    clients = [
        central_client(
            base_url, p.kiosk_id, p.secret, timeout=httpx.Timeout(30.0, connect=5.0), trust_env=False
        )
        for p in plans
    ]
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    exhausted: list[int] = []
    window: dict[str, float] = {}
    start = threading.Barrier(len(plans) + 1)
    completed = [0] * len(plans)

    def kiosk(i: int) -> None:
        client, mine = clients[i], []
        start.wait()
        t_from, t_to = window["from"], window["to"]
        while (t0 := time.perf_counter()) < t_to:
            try:
                r = request(i, client)
            except Exhausted:
                with lock:
                    exhausted.append(i)
                break
            except Exception as exc:  # a failed request counts as an error; the kiosk goes on
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
                time.sleep(0.01)
                continue
            t1 = time.perf_counter()
            completed[i] += 1
            if r.status_code != expected:
                with lock:
                    errors.append(f"HTTP {r.status_code}: {r.text[:300]}")
            elif t0 >= t_from and t1 <= t_to:
                mine.append(t1 - t0)
        with lock:
            latencies.extend(mine)

    threads = [
        threading.Thread(target=kiosk, args=(i,), daemon=True, name=f"kiosk-{i}") for i in range(len(plans))
    ]
    for t in threads:
        t.start()
    now = time.perf_counter()
    window["from"], window["to"] = now + warmup, now + warmup + seconds
    start.wait()
    time.sleep(max(0.0, window["from"] - time.perf_counter()))
    pm = pg.postmaster_pid()
    table = _proc_table()
    cpu0 = (tree_cpu_s(server_pid, table), tree_cpu_s(pm, table), driver_cpu_s(), machine_busy_s())
    pg0 = pg_counters(db_url)
    time.sleep(max(0.0, window["to"] - time.perf_counter()))
    table = _proc_table()
    cpu1 = (tree_cpu_s(server_pid, table), tree_cpu_s(pm, table), driver_cpu_s(), machine_busy_s())
    pg1 = pg_counters(db_url)
    for t in threads:
        t.join(timeout=60)
    for c in clients:
        c.close()
    # The counters' own connections count as one session and a commit or two each: negligible.
    return PhaseResult(
        name=name,
        seconds=seconds,
        latencies_s=latencies,
        errors=len(errors),
        error_samples=sorted(set(errors))[:5],
        exhausted=len(exhausted),
        server_cpu_s=cpu1[0] - cpu0[0],
        pg_cpu_s=cpu1[1] - cpu0[1],
        driver_cpu_s=cpu1[2] - cpu0[2],
        other_cpu_s=max(0.0, (cpu1[3] - cpu0[3]) - sum(cpu1[i] - cpu0[i] for i in range(3))),
        completed=sum(completed),
        pg={k: pg1[k] - pg0[k] for k in pg0},
    )


def binding_request(plans: list[KioskPlan], letter_sha: str) -> Request:
    def send(i: int, client: httpx.Client) -> httpx.Response:
        try:
            holder, certno, code = plans[i].pairs.popleft()
        except IndexError:
            raise Exhausted from None
        body = {
            "request_id": str(uuid.uuid4()), "holder_psn_no": holder, "relative_certno": certno,
            "relation_code": code, "admdvs": AREA, "letter_id": LETTER_ID, "letter_version": LETTER_VERSION,
            "letter_sha256": letter_sha,
        }  # fmt: skip
        return client.post("/v1/bindings", json=body)

    return send


def bare_request(plans: list[KioskPlan], letter_sha: str) -> Request:
    """The same body and signature as a binding write (same client-side cost), to the bare endpoint."""
    cursor = [0] * len(plans)

    def send(i: int, client: httpx.Client) -> httpx.Response:
        pairs = plans[i].pairs
        holder, certno, code = pairs[cursor[i] % len(pairs)]  # does not consume: the bare table has no rules
        cursor[i] += 1
        body = {
            "request_id": str(uuid.uuid4()), "holder_psn_no": holder, "relative_certno": certno,
            "relation_code": code, "admdvs": AREA, "letter_id": LETTER_ID, "letter_version": LETTER_VERSION,
            "letter_sha256": letter_sha,
        }  # fmt: skip
        return client.post("/write", json=body)

    return send


def lookup_request(plans: list[KioskPlan]) -> Request:
    cursor = [0] * len(plans)

    def send(i: int, client: httpx.Client) -> httpx.Response:
        certnos = plans[i].certnos
        certno = certnos[cursor[i] % len(certnos)]
        cursor[i] += 1
        return client.post("/v1/persons/lookup", json={"certno": certno})

    return send


# --------------------------------------------------------------------------------------------------
# Profiling (optional, outside the measured phases)
# --------------------------------------------------------------------------------------------------


IDLE_TAILS = (  # leaf frames of server threads with nothing to do
    ("WorkerThread.run", "Queue.get", "Condition.wait"),  # an idle thread-pool worker
    ("BaseEventLoop._run_once", "EpollSelector.select"),  # the event loop waiting for sockets
)


def summarize_collapsed(path: Path, top: int = 20) -> str:
    """py-spy's collapsed ("raw") samples of the server, by function (line numbers dropped).

    Idle thread-pool workers and the idle event loop are left out; what remains are threads serving
    requests, split into waiting on PostgreSQL (psycopg's wait) and the rest, then the project's own
    functions (inclusive) and the leaf functions (self)."""
    total = idle = pg_wait = 0
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [
            re.sub(r":\d+\)$", ")", f) for f in stack.split(";") if not f.startswith(("process ", "thread "))
        ]
        names = [f.split(" (")[0] for f in frames]
        if any(tuple(names[-len(tail) :]) == tail for tail in IDLE_TAILS):
            idle += n
            continue
        total += n
        if names and names[-1] in ("Connection.wait", "wait_conn"):
            pg_wait += n
        for f in set(frames):
            if "(kiosk/" in f:
                inclusive[f] += n
        if frames:
            own[frames[-1]] += n
    if not total:
        return "no samples\n"
    lines = [
        f"{total} samples of threads serving requests ({idle} idle samples left out);"
        f" {100 * pg_wait / total:.1f} % waiting on PostgreSQL (psycopg Connection.wait)",
        "",
        "inclusive %  kiosk function",
    ]
    lines += [f"{100 * n / total:10.1f}  {f}" for f, n in inclusive.most_common(top)]
    lines += ["", "self %  function (any code)"]
    lines += [f"{100 * n / total:6.1f}  {f}" for f, n in own.most_common(top)]
    return "\n".join(lines) + "\n"


def cpu_breakdown(url: str, plans: list[KioskPlan], letter_sha: str, out_dir: Path, n: int = 200) -> None:
    """CPU of one binding write by part, in this process, one write at a time (no HTTP, no contention).

    Calls what the service runs for POST /v1/bindings in its thread pool: the signature check
    (auth.authenticate), the write (idempotency.run_once + bindings.create) and the SMS outbox delivery
    (sms.deliver_pending), with the service's own engine settings. Then the same under cProfile."""
    import cProfile
    import pstats
    import statistics

    from kiosk import api
    from kiosk.central import auth, bindings, sms
    from kiosk.central.clock import utc_now
    from kiosk.central.idempotency import body_digest, run_once
    from kiosk.signing import parse_headers, signed_headers

    kiosk = plans[0]
    pairs = collections.deque(p for plan in plans for p in plan.pairs)
    if len(pairs) < 2 * n + 20:
        print("cpu breakdown skipped: not enough unbound pairs left")
        return
    engine = make_engine(url, pool_size=20)
    sessions = make_sessionmaker(engine)
    gateway = sms.LogGateway()

    def one() -> tuple[float, float, float]:
        holder, certno, code = pairs.popleft()
        raw = json.dumps({
            "request_id": str(uuid.uuid4()), "holder_psn_no": holder, "relative_certno": certno,
            "relation_code": code, "admdvs": AREA, "letter_id": LETTER_ID, "letter_version": LETTER_VERSION,
            "letter_sha256": letter_sha,
        }).encode()  # fmt: skip
        c0 = time.thread_time()
        parts = parse_headers(signed_headers(kiosk.kiosk_id, kiosk.secret, "POST", "/v1/bindings", raw))
        kiosk_id = auth.authenticate(sessions, utc_now, 300, parts, "POST", "/v1/bindings", raw)
        c1 = time.thread_time()
        body = api.BindingCreateIn.model_validate_json(raw)
        status, _response = run_once(
            sessions, utc_now, request_id=str(body.request_id), kind="bind", kiosk_id=kiosk_id,
            digest=body_digest(body), work=lambda db: bindings.create(db, utc_now(), kiosk_id, body, 300),
        )  # fmt: skip
        assert status == 201, _response
        c2 = time.thread_time()
        sms.deliver_pending(sessions, gateway, utc_now)
        return c1 - c0, c2 - c1, time.thread_time() - c2

    try:
        for _ in range(20):
            one()
        samples = [one() for _ in range(n)]
        names = ("authenticate", "run_once + bindings.create", "sms.deliver_pending")
        lines = [f"CPU of one binding write by part ({n} sequential writes, in-process, no HTTP):"]
        for i, name in enumerate(names):
            lines.append(f"  {name:<28} {1000 * statistics.mean(p[i] for p in samples):6.2f} ms")
        lines.append(f"  {'total':<28} {1000 * statistics.mean(sum(p) for p in samples):6.2f} ms")
        profiler = cProfile.Profile(time.thread_time)
        profiler.enable()
        for _ in range(n):
            one()
        profiler.disable()
    finally:
        engine.dispose()
    stats = pstats.Stats(profiler)
    by_package: collections.Counter[str] = collections.Counter()
    for (filename, _line, _func), row in stats.stats.items():  # type: ignore[attr-defined]
        m = re.search(r"site-packages/([^/]+)", filename)
        pkg = m.group(1) if m else ("kiosk" if "/kiosk/" in filename else "python (stdlib, builtins)")
        by_package[pkg] += row[2]  # own time
    total = sum(by_package.values()) or 1.0
    lines.append("own CPU time under cProfile by package:")
    lines += [f"  {100 * t / total:5.1f} %  {pkg}" for pkg, t in by_package.most_common(8)]
    print("\n" + "\n".join(lines))
    out = out_dir / "binding_write.cprofile.txt"
    with out.open("w") as fh:
        fh.write("\n".join(lines) + "\n\n")
        pstats.Stats(profiler, stream=fh).sort_stats("cumulative").print_stats(60)
        pstats.Stats(profiler, stream=fh).sort_stats("tottime").print_stats(40)


class Statements:
    """pg_stat_statements per phase (only with --profile, which preloads it into the server)."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        out_dir.mkdir(parents=True, exist_ok=True)

    def reset(self, url: str) -> None:
        with psycopg.connect(**_conninfo(url), autocommit=True) as conn:  # type: ignore[arg-type]
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            conn.execute("SELECT pg_stat_statements_reset()")

    def dump(self, url: str, name: str, requests: int, top: int = 30) -> str:
        with psycopg.connect(**_conninfo(url)) as conn:  # type: ignore[arg-type]
            rows = conn.execute(
                "SELECT calls, total_exec_time, left(regexp_replace(query, '\\s+', ' ', 'g'), 160)"
                " FROM pg_stat_statements"
                " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
                " AND query NOT LIKE '%pg_stat%' ORDER BY calls DESC, total_exec_time DESC"
            ).fetchall()
        n = max(requests, 1)
        calls = sum(r[0] for r in rows)
        line = f"{name}: {calls / n:.1f} SQL statements per request ({requests} requests)"
        out = [line, "", "calls/request  exec ms/call  statement"]
        out += [f"{r[0] / n:13.2f}  {r[1] / max(r[0], 1):12.3f}  {r[2]}" for r in rows[:top]]
        (self.out_dir / f"{name.replace(' ', '_')}.statements.txt").write_text("\n".join(out) + "\n")
        return line


def profile_phase(
    args: argparse.Namespace,
    server: CentralServer,
    plans: list[KioskPlan],
    letter_sha: str,
    pg: DurablePostgres,
    url: str,
) -> None:
    """An extra binding-write phase with py-spy attached to the server (not part of the measured numbers)."""
    out_dir = Path(args.profile)
    py_spy = shutil.which("py-spy")
    if py_spy is None:
        print("py-spy not found (pip install py-spy): no Python profile")
        return
    assert server.proc is not None
    raw = out_dir / "binding_write.pyspy.txt"
    spy = subprocess.Popen(
        [py_spy, "record", "--pid", str(server.proc.pid), "--subprocesses", "--format", "raw",
         "--rate", "250", "--duration", str(math.ceil(args.profile_seconds)), "--output", str(raw)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        time.sleep(0.5)
        result = run_phase(
            "binding write (py-spy)", server.url, plans, binding_request(plans, letter_sha), 201, 0.0,
            args.profile_seconds, server.proc.pid, pg, url,
        )  # fmt: skip
        _, err = spy.communicate(timeout=60)
    finally:
        if spy.poll() is None:
            spy.kill()
            spy.wait()
    print(f"\nprofile phase: {result.rate:.0f} writes/s under py-spy, p99 {result.pct_ms(99):.0f} ms")
    if not raw.exists():
        print(f"py-spy wrote nothing: {err.decode(errors='replace')[-500:]}")
        return
    text = summarize_collapsed(raw)
    (out_dir / "binding_write.pyspy-summary.txt").write_text(text)
    print("\n".join(text.splitlines()[:22]))
    print(f"(full summaries and statement lists in {out_dir})")


# --------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------


COLUMNS = (  # header, width, summary key, format
    ("req/s", 8, "rate_per_s", ".1f"),
    ("n", 6, "requests", "d"),
    ("p50 ms", 7, "p50_ms", ".1f"),
    ("p95 ms", 7, "p95_ms", ".1f"),
    ("p99 ms", 7, "p99_ms", ".1f"),
    ("max ms", 7, "max_ms", ".1f"),
    ("err", 4, "errors", "d"),
    ("srv CPU", 8, "server_cpu_ms_per_req", ".2f"),
    ("PG CPU", 7, "pg_cpu_ms_per_req", ".2f"),
    ("drv CPU", 8, "driver_cpu_ms_per_req", ".2f"),
    ("commits", 8, "pg_commits_per_req", ".2f"),
    ("fsyncs", 7, "wal_syncs_per_req", ".2f"),
    ("new conn", 9, "new_pg_sessions", "d"),
    ("other", 6, "other_cpu_cores", ".2f"),
)


def print_report(results: list[PhaseResult], args: argparse.Namespace, people: int) -> dict[str, Any]:
    print()
    print(
        f"{args.kiosks} kiosks, {args.workers} uvicorn worker(s), {args.warmup:g} s warm-up + "
        f"{args.seconds:g} s measured per phase, {people} people seeded"
    )
    header = f"{'phase':<14}" + "".join(f"{h:>{w}}" for h, w, _k, _f in COLUMNS)
    print(header)
    print("-" * len(header))
    for r in results:
        s = r.summary()
        print(f"{r.name:<14}" + "".join(f"{s[k]:>{w}{f}}" for _h, w, k, f in COLUMNS))
    print(
        "CPU: ms per request (server process tree, PostgreSQL, this driver); commits, WAL fsyncs: per\n"
        "request; new conn: PostgreSQL connections opened in the window; other: cores used by other processes"
    )
    by = {r.name: r for r in results}
    bare = by["bare insert"].rate
    ratios = {
        "binding_write/bare": by["binding write"].rate / bare if bare else math.nan,
        "lookup/bare": by["lookup"].rate / bare if bare else math.nan,
    }
    print()
    for k, v in ratios.items():
        verdict = "MET" if v >= TARGET_RATIO else "NOT MET"
        print(f"ratio {k:<20} {v:6.3f}   target >= {TARGET_RATIO}: {verdict}")
    w = by["binding write"]
    print(f"binding write latency under load: p50 {w.pct_ms(50):.1f} ms, p95 {w.pct_ms(95):.1f} ms, "
          f"p99 {w.pct_ms(99):.1f} ms")  # fmt: skip
    busy = max(r.other_cpu_s / r.seconds for r in results)
    if busy > 0.25:
        print(f"WARNING: other processes used up to {busy:.2f} of {os.cpu_count()} cores during a phase: "
              "the numbers are disturbed; run again on a quiet machine")  # fmt: skip
    for r in results:
        for sample in r.error_samples:
            print(f"  {r.name} error: {sample}")
        if r.exhausted:
            print(f"  {r.name}: {r.exhausted} kiosks ran out of unbound pairs (raise --holders-per-kiosk)")
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "args": vars(args),
        "people": people,
        "phases": {r.name: r.summary() for r in results},
        "ratios": {k: round(v, 3) for k, v in ratios.items()},
        "target_met": {k: v >= TARGET_RATIO for k, v in ratios.items()},
    }


# --------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def terminate_as_exit() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so servers and PostgreSQL are stopped in either case."""

    def handler(_sig: int, _frame: object) -> None:
        raise SystemExit(143)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    ap.add_argument("--kiosks", type=int, default=50, help="concurrent simulated kiosks (default 50)")
    ap.add_argument("--seconds", type=float, default=20, help="measured seconds per phase (default 20)")
    ap.add_argument("--warmup", type=float, default=3, help="warm-up seconds before each phase (default 3)")
    ap.add_argument("--workers", type=int, default=1, help="uvicorn workers of both servers (default 1)")
    ap.add_argument(
        "--holders-per-kiosk", type=int, default=0,
        help="holders seeded per kiosk, 6 relatives each (default: enough for 300 writes/s)",
    )  # fmt: skip
    ap.add_argument("--json", help="also write the results to this JSON file")
    ap.add_argument(
        "--profile",
        metavar="DIR",
        help="write SQL, py-spy and cProfile summaries of the binding write to DIR",
    )
    ap.add_argument(
        "--profile-seconds", type=float, default=10, help="length of the py-spy phase (default 10)"
    )
    args = ap.parse_args(argv)
    if args.kiosks < 1 or args.seconds <= 0 or args.workers < 1:
        ap.error("--kiosks, --seconds and --workers must be positive")
    if not args.holders_per_kiosk:
        budget_s = args.warmup + args.seconds + (args.profile_seconds if args.profile else 0) + 2
        writes = 300 * budget_s + (500 if args.profile else 0)
        args.holders_per_kiosk = math.ceil(writes / args.kiosks / RELATIVES_PER_HOLDER)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.chdir(REPO_ROOT)  # `python -m uvicorn benchmarks.bare_insert_app:app` imports from here
    log_dir = Path(tempfile.mkdtemp(prefix="kiosk-bench-"))
    try:
        valid = run(args, log_dir)
    except BaseException:
        print(f"server logs kept in {log_dir}", file=sys.stderr)
        raise
    if valid:
        shutil.rmtree(log_dir, ignore_errors=True)
    else:
        print(f"invalid measurement (see the errors above); server logs kept in {log_dir}")
    return 0 if valid else 1


def run(args: argparse.Namespace, log_dir: Path) -> bool:
    """The whole benchmark; True when every request was answered as expected and no kiosk ran out."""
    t_start = time.monotonic()
    results: list[PhaseResult] = []
    extra = f" -c max_connections={max(100, 50 * args.workers + 20)}"
    if args.profile:
        extra += " -c shared_preload_libraries=pg_stat_statements"
    with terminate_as_exit(), contextlib.ExitStack() as stack:
        pg = DurablePostgres(extra)
        admin_url = pg.start()
        stack.callback(pg.stop)
        durability = pg.settings(("fsync", "synchronous_commit", "full_page_writes", "wal_sync_method"))
        if any(durability[k] != "on" for k in ("fsync", "synchronous_commit", "full_page_writes")):
            raise RuntimeError(f"PostgreSQL is not durable: {durability}")
        central_url = fresh_database(admin_url, "bench_central")
        bare_url = fresh_database(admin_url, "bench_bare")
        t0 = time.monotonic()
        plans, letter_sha, people = seed(central_url, args.kiosks, args.holders_per_kiosk)
        create_schema(bare_url)
        print(f"PostgreSQL {pg.bindir.parent.name} ({durability}); seeded {people} people and "
              f"{len(plans)} kiosks in {time.monotonic() - t0:.1f} s")  # fmt: skip

        statements = Statements(Path(args.profile)) if args.profile else None

        def phase(server: CentralServer, name: str, request: Request, expected: int, db_url: str) -> None:
            assert server.proc is not None
            if statements:
                statements.reset(db_url)
            r = run_phase(name, server.url, plans, request, expected, args.warmup, args.seconds,
                          server.proc.pid, pg, db_url)  # fmt: skip
            print(f"  {name}: {r.rate:.1f}/s, p99 {r.pct_ms(99):.1f} ms, {r.errors} errors")
            if statements:
                print("  " + statements.dump(db_url, name, r.completed))
            results.append(r)

        bare = BareServer(bare_url, args.workers, log_dir)
        bare.start()
        stack.callback(bare.stop)
        phase(bare, "bare insert", bare_request(plans, letter_sha), 201, bare_url)
        bare.stop()

        central = central_server(central_url, args.workers, log_dir)
        central.start()
        stack.callback(central.stop)
        phase(central, "binding write", binding_request(plans, letter_sha), 201, central_url)
        phase(central, "lookup", lookup_request(plans), 200, central_url)
        report = print_report(results, args, people)
        if args.profile:
            profile_phase(args, central, plans, letter_sha, pg, central_url)
        central.stop()
        if args.profile:
            cpu_breakdown(central_url, plans, letter_sha, Path(args.profile))
    report["durability"] = durability
    report["wall_seconds"] = round(time.monotonic() - t_start, 1)
    print(f"\ntotal wall time {report['wall_seconds']:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return all(r.errors == 0 and r.exhausted == 0 for r in results)


if __name__ == "__main__":
    sys.exit(main())
