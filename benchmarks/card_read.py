"""Benchmark of reading a social security card on the real PC/SC stack: pcscd with Debian's vpcd driver
(vsmartcard-vpcd) and the virtual card of `devices/virtual_card.py`, each number next to a baseline
measured in the same run.

    python benchmarks/card_read.py [--cycles 20] [--reads 50] [--jitter 0.5] [--json FILE]

pcscd comes from `tests/support/pcsc_stack.py` (`Pcscd.acquire()`): the one `.ci/run` started, one already
running, or a new one this process starts (as root) and stops at the end. About a minute with the defaults.

1. **pcscd's detection floor** (the baseline of 2). A watcher in its own process (this script with
   `--watch`, one PC/SC context, a bare `SCardGetStatusChange` loop on "Virtual PCD 00 00") stamps the
   moment pcscd reports the card present, and absent again. `time.perf_counter()` is CLOCK_MONOTONIC,
   the same clock in both processes. Each cycle: wait until pcscd reports the reader empty
   (`pcsc_stack.card_in`), wait a random 0..`--jitter` s (a citizen does not insert in step with pcscd's
   polling), stamp, `VirtualCard.insert()` (its socket connects to vpcd: the card is in), wait a random
   0..`--jitter` s, stamp, `remove()`. Reported: insert → socket connected, insert → seen present, and
   remove → seen absent. Nothing else uses pcscd meanwhile.
2. **Card inserted → holder greeted.** The same cycles with the kiosk running headless
   (`KioskApp.run_test(size=(120, 40))` on `kiosk.demo.build_demo(people=60)` and a `PcscReader` on the
   two vpcd readers), the watcher still running beside it: insert → `app.session.step is Step.PIN` (the
   PIN screen, shown once the card was read), polled every 5 ms with `pilot.pause(0.005)`. The kiosk's
   overhead is taken per cycle as greeted − the watcher's "present" of the same insertion (both are
   woken by the same pcscd event), so pcscd's polling phase cancels out. A wrapper around the reader's
   `read` splits it: pcscd's event → `read()` starts (supervisor thread, message to the UI thread, worker
   thread), the `read()` itself (SCardConnect + APDUs), `read()` returned → PIN step seen.
   Headline: greeted p50 / floor p50 (and p95, the floor from 1) and the overhead in ms.
3. **APDUs per full read.** `CardApplet.apdus` (counted by the card) and the reader's own count after one
   `PcscReader.read()`: 2nd-generation card in T=1 and T=0 mode, 2nd-generation with a long name (GBK
   longer than 30 bytes, so record 4E holds the rest) in both modes, 3rd-generation card (EF05 only).
   Target: ≤ 8 APDUs for a 2nd-generation card.
4. **One full read vs bare round trips.** `PcscReader.read()` of a 2nd-generation T=1 card on a warm
   connection (as the kiosk reads a card, minus SCardConnect) against the same number of bare
   `SCardTransmit` calls of a READ RECORD (EF05 07) on a raw pyscard connection to the same card,
   interleaved (order alternating), p50 over `--reads`.

A benchmark, not a test: exit status 0 whenever the measurement ran, whether or not a target was met.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import inspect
import json
import os
import platform
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as `python benchmarks/X.py`: import `benchmarks.*`, `tests.support`
    sys.path.insert(0, str(REPO_ROOT))

from machine import machine_load  # noqa: E402 - benchmarks/machine.py, next to this script
from smartcard import scard  # noqa: E402

TARGET_APDUS_GEN2 = 8
LONG_NAME = "阿卜杜热合曼·买买提艾力江·艾合买提江"
HOLDER = "Virtual PCD 00 00"
_MASK = 0xFFFFFFFF


# --- small helpers ------------------------------------------------------------------------------------


def pct(xs: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[max(0, min(len(s) - 1, round(p / 100 * len(s) + 0.5) - 1))]


def stats_ms(xs: list[float]) -> dict[str, float]:
    """xs in seconds -> p50/p95/min/max in ms."""
    ms = [x * 1000 for x in xs]
    return {
        "n": len(ms),
        "p50": pct(ms, 50),
        "p95": pct(ms, 95),
        "min": min(ms) if ms else float("nan"),
        "max": max(ms) if ms else float("nan"),
    }


def wait_until(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.005)


def ok(hr: int, what: str) -> None:
    if hr != scard.SCARD_S_SUCCESS:
        raise RuntimeError(f"{what}: {scard.SCardGetErrorMessage(hr)} (0x{int(hr) & _MASK:08X})")


# --- the raw watcher: its own process, its own PC/SC context --------------------------------------------


def watch(reader: str) -> int:
    """`--watch READER`: print `<perf_counter> <0|1>` whenever pcscd reports the card absent/present."""
    hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    ok(hr, "SCardEstablishContext")
    hr, states = scard.SCardGetStatusChange(ctx, 0, [(reader, scard.SCARD_STATE_UNAWARE)])
    ok(hr, "SCardGetStatusChange")
    state = states[0][1] & ~scard.SCARD_STATE_CHANGED
    present = bool(state & scard.SCARD_STATE_PRESENT)
    print(f"ready {int(present)}", flush=True)
    timeout, cancelled = int(scard.SCARD_E_TIMEOUT) & _MASK, int(scard.SCARD_E_CANCELLED) & _MASK
    while True:
        hr, states = scard.SCardGetStatusChange(ctx, 2000, [(reader, state)])
        t = time.perf_counter()
        if int(hr) & _MASK in (timeout, cancelled):
            continue
        ok(hr, "SCardGetStatusChange")
        event = states[0][1]
        state = event & ~scard.SCARD_STATE_CHANGED
        now = bool(event & scard.SCARD_STATE_PRESENT) and not event & scard.SCARD_STATE_MUTE
        if now != present:
            present = now
            print(f"{t:.9f} {int(now)}", flush=True)


class Watcher:
    """Runs `watch` in a child process and collects its stamps (the child's clock is this one's)."""

    def __init__(self, reader: str = HOLDER) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--watch", reader],
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline().split()
        if not first or first[0] != "ready":
            self.proc.kill()
            raise RuntimeError("the watcher did not start")
        self.events: list[tuple[float, bool]] = []
        self.cond = threading.Condition()
        self._thread = threading.Thread(target=self._read, name="watcher-reader", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            t, present = line.split()
            with self.cond:
                self.events.append((float(t), present == "1"))
                self.cond.notify_all()

    def seen(self, present: bool, after: float, timeout: float = 5.0) -> float:
        """The first stamp at or after `after` where the card was reported `present`."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for t, p in self.events:
                    if t >= after and p is present:
                        return t
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"the watcher did not see the card {'in' if present else 'out'}")
                self.cond.wait(left)

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# --- phases -------------------------------------------------------------------------------------------


def make_card(key: str = "1", **kw: Any) -> Any:
    from devices.reader import Slot
    from devices.virtual_card import CardApplet, VirtualCard
    from kiosk.demo import card_person
    from tests.support.pcsc_stack import PORTS

    person, generation, _locked = card_person(key, people=60)
    if "name" in kw:
        person = dataclasses.replace(person, name=kw.pop("name"))
    kw.setdefault("generation", generation)
    return VirtualCard(CardApplet(person, **kw), port=PORTS[Slot.HOLDER])


def reader_empty() -> None:
    from tests.support.pcsc_stack import card_in

    wait_until(lambda: card_in(HOLDER) is False, 10, f"{HOLDER} to be empty")


def floor_phase(watcher: Watcher, cycles: int, warmup: int, jitter: float, rng: random.Random) -> dict:
    card = make_card("1")
    connect, seen_in, seen_out = [], [], []
    try:
        for i in range(warmup + cycles):
            reader_empty()
            time.sleep(rng.uniform(0, jitter))
            t0 = time.perf_counter()
            card.insert()
            if not card.wait_connected(5):
                raise TimeoutError("the virtual card did not connect to vpcd")
            tc = time.perf_counter()
            ti = watcher.seen(True, t0)
            time.sleep(rng.uniform(0, jitter))
            t1 = time.perf_counter()
            card.remove()
            to = watcher.seen(False, t1)
            if i >= warmup:
                connect.append(tc - t0)
                seen_in.append(ti - t0)
                seen_out.append(to - t1)
    finally:
        card.remove()
    return {"connect": connect, "in": seen_in, "out": seen_out}


async def kiosk_phase(watcher: Watcher, cycles: int, warmup: int, jitter: float, rng: random.Random) -> dict:
    from devices.pcsc import PcscReader
    from kiosk.config import KioskConfig
    from kiosk.demo import build_demo
    from kiosk.session import Step
    from screens.app import KioskApp, make_app
    from tests.support.pcsc_stack import RELATIVE_READER, card_in

    t_build = time.perf_counter()
    world = build_demo(people=60)
    build_s = time.perf_counter() - t_build
    reader = PcscReader(holder_reader=HOLDER, relative_reader=RELATIVE_READER)
    reads: list[tuple[float, float]] = []
    real_read = reader.read

    def timed_read(*a: Any, **kw: Any) -> Any:  # the benchmark's own wrapper: when the kiosk reads
        t = time.perf_counter()
        try:
            return real_read(*a, **kw)
        finally:
            reads.append((t, time.perf_counter()))

    reader.read = timed_read  # type: ignore[method-assign]
    steps: list[float] = []  # the card's data handed to the session: step PIN set, go() called
    frames: list[tuple[float, str]] = []  # frames rendered for the driver (headless: not written out)

    class TimedKiosk(KioskApp):
        def _card_read(self, card: Any) -> None:
            super()._card_read(card)
            steps.append(time.perf_counter())

        def _display(self, screen: Any, renderable: Any) -> None:
            super()._display(screen, renderable)
            if renderable is not None:
                frames.append((time.perf_counter(), type(screen).__name__))

    # Textual resolves CSS_PATH next to the (sub)class's file
    TimedKiosk.CSS_PATH = str(Path(inspect.getfile(KioskApp)).parent / str(KioskApp.CSS_PATH))
    config = KioskConfig(reader="pcsc", idle_timeout_s=3600, idle_warning_s=20)
    app = make_app(world.backend, reader, config, app_class=TimedKiosk)
    card = make_card("1")
    keys = "in greeted step frame overhead overhead_step overhead_frame event read handoff poll paint out"
    out: dict[str, list[float]] = {k: [] for k in (*keys.split(), "out_attract")}

    async def until(pilot: Any, predicate: Callable[[], bool], what: str, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out waiting for {what}; step {app.session.step}")
            await pilot.pause(0.005)

    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: reader.healthy, "the reader supervisor")
            for i in range(warmup + cycles):
                await until(
                    pilot,
                    lambda: app.session.step is Step.ATTRACT and card_in(HOLDER) is False,
                    "the attract screen and an empty reader",
                )
                await asyncio.sleep(rng.uniform(0, jitter))
                reads.clear()
                t0 = time.perf_counter()
                card.insert()
                if not card.wait_connected(5):
                    raise TimeoutError("the virtual card did not connect to vpcd")
                await until(pilot, lambda: app.session.step is Step.PIN, "the PIN step")
                tg = time.perf_counter()
                await until(
                    pilot,
                    lambda t0=t0: any(t >= t0 and n == "PinScreen" for t, n in frames),
                    "the PIN screen's frame",
                )
                ti = watcher.seen(True, t0)
                await asyncio.sleep(rng.uniform(0, jitter))
                t1 = time.perf_counter()
                card.remove()
                await until(pilot, lambda: app.session.step is Step.ATTRACT, "the attract screen")
                ta = time.perf_counter()
                to = watcher.seen(False, t1)
                if i < warmup:
                    continue
                if len(reads) != 1:
                    raise RuntimeError(f"the kiosk read the card {len(reads)} times in one insertion")
                rs, re_ = reads[0]
                ts = next(t for t in steps if t >= t0)
                tf = next(t for t, n in frames if t >= t0 and n == "PinScreen")
                out["in"].append(ti - t0)
                out["greeted"].append(tg - t0)
                out["frame"].append(tf - t0)
                out["overhead"].append(tg - ti)
                out["overhead_frame"].append(tf - ti)
                out["step"].append(ts - t0)
                out["overhead_step"].append(ts - ti)
                out["event"].append(rs - ti)
                out["read"].append(re_ - rs)
                out["handoff"].append(ts - re_)
                out["poll"].append(tg - ts)
                out["paint"].append(tf - ts)
                out["out"].append(to - t1)
                out["out_attract"].append(ta - t1)
    finally:
        card.remove()
        reader.close()
        world.close()
    return {**out, "build_s": [build_s]}


def apdu_counts() -> list[dict[str, Any]]:
    from devices.pcsc import PcscReader
    from tests.support.pcsc_stack import RELATIVE_READER, card_in

    variants = [
        ("2nd gen, T=1", "1", {"t0": False}, 2),
        ("2nd gen, T=0", "1", {"t0": True}, 2),
        ("2nd gen, long name (4E), T=1", "1", {"t0": False, "name": LONG_NAME}, 2),
        ("2nd gen, long name (4E), T=0", "1", {"t0": True, "name": LONG_NAME}, 2),
        ("3rd gen, T=1", "2", {"t0": False}, 3),
    ]
    rows = []
    for label, key, kw, want_gen in variants:
        reader_empty()
        card = make_card(key, **kw)
        reader = PcscReader(holder_reader=HOLDER, relative_reader=RELATIVE_READER)
        try:
            card.insert()
            wait_until(lambda: card_in(HOLDER) is True, 5, "pcscd to see the card")
            card.applet.apdus = 0
            data = reader.read()
            n_card, n_reader = card.applet.apdus, reader.apdus_sent()
            person = card.applet.person
            if data.generation != want_gen:
                raise RuntimeError(f"{label}: read generation {data.generation}")
            if want_gen == 2 and (data.name != person.name or data.certno != person.certno):
                raise RuntimeError(f"{label}: name or ID number read wrong")
            name_bytes = len(person.name.encode("gbk"))
            rows.append(
                {
                    "card": label,
                    "generation": data.generation,
                    "name_gbk_bytes": name_bytes,
                    "apdus_card": n_card,
                    "apdus_reader": n_reader,
                }
            )
        finally:
            reader.close()
            card.remove()
    return rows


def read_vs_transmit(reads: int, warmup: int) -> dict[str, Any]:
    from devices.pcsc import PcscReader
    from devices.sscard import EF05, REC_CARD_NO, apdu_read_record
    from tests.support.pcsc_stack import RELATIVE_READER, card_in

    reader_empty()
    card = make_card("1", t0=False)
    reader = PcscReader(holder_reader=HOLDER, relative_reader=RELATIVE_READER)
    ctx = handle = None
    try:
        card.insert()
        wait_until(lambda: card_in(HOLDER) is True, 5, "pcscd to see the card")
        t = time.perf_counter()
        reader.read()  # connects: later reads use the same connection
        first_read = time.perf_counter() - t
        before = card.applet.apdus
        reader.read()
        n = card.applet.apdus - before
        hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        ok(hr, "SCardEstablishContext")
        hr, handle, protocol = scard.SCardConnect(
            ctx, HOLDER, scard.SCARD_SHARE_SHARED, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
        )
        ok(hr, "SCardConnect")
        apdu = list(apdu_read_record(EF05, REC_CARD_NO))

        def bare() -> None:
            for _ in range(n):
                hr, resp = scard.SCardTransmit(handle, protocol, apdu)
                if hr != scard.SCARD_S_SUCCESS or resp[-2:] != [0x90, 0x00]:
                    raise RuntimeError(f"bare READ RECORD failed: {hr:#x} {bytes(resp[-2:]).hex()}")

        read_s, bare_s = [], []
        clock = time.perf_counter
        for i in range(warmup + reads):
            pair = ((reader.read, read_s), (bare, bare_s))
            for fn, sink in pair if i % 2 else pair[::-1]:
                t0 = clock()
                fn()
                t1 = clock()
                if i >= warmup:
                    sink.append(t1 - t0)
        proto = {int(scard.SCARD_PROTOCOL_T0): "T=0", int(scard.SCARD_PROTOCOL_T1): "T=1"}
        return {
            "apdus": n,
            "protocol": proto.get(int(protocol), str(protocol)),
            "read": read_s,
            "bare": bare_s,
            "first_read": first_read,
        }
    finally:
        if handle is not None:
            scard.SCardDisconnect(handle, scard.SCARD_LEAVE_CARD)
        if ctx is not None:
            scard.SCardReleaseContext(ctx)
        reader.close()
        card.remove()


# --- output -------------------------------------------------------------------------------------------


def row(label: str, s: dict[str, float]) -> str:
    return f"  {label:<58} {s['n']:>4} {s['p50']:>8.1f} {s['p95']:>8.1f} {s['min']:>8.1f} {s['max']:>8.1f}"


HEADER = f"  {'ms':<58} {'n':>4} {'p50':>8} {'p95':>8} {'min':>8} {'max':>8}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cycles", type=int, default=20, help="measured insert/remove cycles per phase")
    p.add_argument("--warmup", type=int, default=2, help="unmeasured cycles first, per phase")
    p.add_argument("--reads", type=int, default=50, help="measured reads (and bare batches) in part 4")
    p.add_argument("--jitter", type=float, default=0.5, help="random wait (s) before insert and remove")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", default=None, help="also save the numbers to this file")
    p.add_argument("--watch", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.watch:
        with contextlib.suppress(KeyboardInterrupt, BrokenPipeError):
            return watch(args.watch)
        return 0

    from tests.support.pcsc_stack import Pcscd

    clock = time.get_clock_info("perf_counter")
    if "CLOCK_MONOTONIC" not in clock.implementation:
        print(f"perf_counter is {clock.implementation}: not shared between processes; cannot run")
        return 2
    t_start = time.monotonic()
    rng = random.Random(args.seed)
    daemon = Pcscd.acquire()
    watcher = None
    results: dict[str, Any] = {}
    try:
        pcscd_ver = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", "pcscd", "vsmartcard-vpcd"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        print(
            f"card read benchmark: Python {platform.python_version()}, pcscd/vpcd {pcscd_ver or '?'}, "
            f"{os.cpu_count()} CPUs; pcscd {'started by this run' if daemon.owned else 'already running'}"
        )
        print(f"machine load at start: {machine_load()}")
        print(
            f"{args.warmup} warm-up + {args.cycles} measured insert/remove cycles per phase, random wait "
            f"0-{args.jitter} s before each insert and each remove (seed {args.seed})"
        )
        watcher = Watcher()

        floor = floor_phase(watcher, args.cycles, args.warmup, args.jitter, rng)
        kiosk = asyncio.run(kiosk_phase(watcher, args.cycles, args.warmup, args.jitter, rng))
        counts = apdu_counts()
        rt = read_vs_transmit(args.reads, 5)
        results = {"floor": floor, "kiosk": kiosk, "apdus": counts, "read_vs_transmit": rt}

        print("\n1. pcscd's detection floor (watcher process, raw SCardGetStatusChange), kiosk not running")
        print(HEADER)
        print(row("insert() -> socket connected to vpcd", stats_ms(floor["connect"])))
        print(row("insert() -> pcscd reports present (FLOOR)", stats_ms(floor["in"])))
        print(row("remove() -> pcscd reports absent", stats_ms(floor["out"])))

        print(
            "\n2. card inserted -> holder greeted (PIN step), kiosk running headless "
            f"(demo world built in {kiosk['build_s'][0]:.1f} s)"
        )
        print(HEADER)
        k = {name: stats_ms(v) for name, v in kiosk.items()}
        for label, key in (
            ("insert() -> pcscd reports present (same cycles, watcher)", "in"),
            ("insert() -> step PIN set (stamped in the app)", "step"),
            ("insert() -> step PIN seen by the 5 ms poll (GREETED)", "greeted"),
            ("insert() -> PIN screen's first frame rendered", "frame"),
            ("kiosk overhead: step PIN set - present, per cycle", "overhead_step"),
            ("  present -> read() starts (event, UI thread, worker)", "event"),
            ("  read() (SCardConnect + APDUs, in the kiosk)", "read"),
            ("  read() returned -> step PIN set (call_from_thread)", "handoff"),
            ("  step PIN set -> seen by the poll (UI loop busy)", "poll"),
            ("  step PIN set -> PIN screen's first frame", "paint"),
            ("remove() -> pcscd reports absent (watcher)", "out"),
            ("remove() -> attract screen", "out_attract"),
        ):
            print(row(label, k[key]))
        fl, pf = stats_ms(floor["in"]), k["in"]
        print("\n  headline                                                      p50        p95")
        for label, num, den in (
            ("GREETED (polled PIN step) / floor, same cycles", k["greeted"], pf),
            ("GREETED (polled PIN step) / floor of part 1 (other cycles)", k["greeted"], fl),
            ("step PIN set (stamped) / floor, same cycles", k["step"], pf),
            ("PIN screen's first frame / floor, same cycles", k["frame"], pf),
        ):
            print(f"  {label:<58} {num['p50'] / den['p50']:>8.2f}x {num['p95'] / den['p95']:>8.2f}x")
        for label, key in (
            ("kiosk overhead to the polled PIN step (ms, per cycle)", "overhead"),
            ("kiosk overhead to the stamped PIN step (ms, per cycle)", "overhead_step"),
            ("kiosk overhead to the PIN screen's frame (ms, per cycle)", "overhead_frame"),
        ):
            print(f"  {label:<58} {k[key]['p50']:>9.1f} {k[key]['p95']:>9.1f}")
        print(
            f"  (GREETED p50 - floor p50 of part 1: {k['greeted']['p50'] - fl['p50']:.1f} ms; the floor is "
            "set by pcscd's 400 ms polling phase, so unpaired differences mostly measure chance)"
        )

        print(
            f"\n3. APDUs per full PcscReader.read() (target <= {TARGET_APDUS_GEN2} for a 2nd-generation card)"
        )
        print(
            f"  {'card':<34} {'gen':>4} {'name GBK bytes':>15} {'APDUs (card)':>13} {'(reader)':>9}  target"
        )
        for c in counts:
            verdict = (
                ("met" if c["apdus_card"] <= TARGET_APDUS_GEN2 else "MISSED") if c["generation"] == 2 else "-"
            )
            print(
                f"  {c['card']:<34} {c['generation']:>4} {c['name_gbk_bytes']:>15} {c['apdus_card']:>13} "
                f"{c['apdus_reader']:>9}  {verdict}"
            )

        rs, bs = stats_ms(rt["read"]), stats_ms(rt["bare"])
        print(
            f"\n4. one full read vs {rt['apdus']} bare SCardTransmit (READ RECORD EF05 07), same card, "
            f"{rt['protocol']}, interleaved"
        )
        print(HEADER)
        print(row("PcscReader.read() (warm connection)", rs))
        print(row(f"{rt['apdus']} x bare SCardTransmit on a raw pyscard connection", bs))
        print(
            f"  read/bare: p50 {rs['p50'] / bs['p50']:.2f}x, p95 {rs['p95'] / bs['p95']:.2f}x; "
            f"per APDU: read {rs['p50'] / rt['apdus'] * 1000:.0f} µs, "
            f"bare {bs['p50'] / rt['apdus'] * 1000:.0f} µs; "
            f"first read (with SCardConnect) {rt['first_read'] * 1000:.1f} ms"
        )
        print(f"\nmachine load at end: {machine_load()}")
        print(f"total time {time.monotonic() - t_start:.0f} s")
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=1))
    finally:
        if watcher is not None:
            watcher.close()
        daemon.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
