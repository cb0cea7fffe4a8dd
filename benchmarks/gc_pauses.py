"""Full garbage collections during citizens' visits, with and without the kiosk's tidy-up between visits.

    python benchmarks/gc_pauses.py [--visits 40] [--gap 1.3]

Textual keeps about half a million long-lived objects (rendered strips and their per-strip caches); a full
(generation 2) collection scans them all and holds the UI for a few hundred ms. `KioskApp._tidy_heap` runs
one full collection on the attract screen after each visit and freezes the survivors (`gc.freeze`). This
script runs the same visits (card in, PIN typed, menu, card out, `--gap` seconds on the attract screen) in
one headless app twice, side by side: the app as shipped, then with the tidy-up switched off, and counts
the full collections that landed during a visit and how long they held the process.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from machine import machine_load  # noqa: E402 - benchmarks/machine.py, next to this script

from kiosk.config import KioskConfig  # noqa: E402
from kiosk.demo import build_demo  # noqa: E402
from kiosk.session import Step  # noqa: E402
from screens.app import make_app  # noqa: E402


async def visits(n: int, gap: float, tidy: bool) -> dict[str, Any]:
    world = build_demo(people=60)
    app = make_app(world.backend, world.reader, KioskConfig(reader="simulated"))
    if not tidy:
        app._tidy_heap = lambda: None  # type: ignore[method-assign]
    pauses: list[float] = []
    started = [0.0]

    def watch(phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2 or app.session.step is Step.ATTRACT:
            return  # the tidy-up's own collection, on the attract screen, is not a citizen's wait
        if phase == "start":
            started[0] = time.perf_counter()
        elif started[0]:
            pauses.append((time.perf_counter() - started[0]) * 1000)
            started[0] = 0.0

    gc.unfreeze()
    gc.collect()
    gc.callbacks.append(watch)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(gap)
            for _ in range(n):
                world.reader.insert(0)
                await pilot.pause(0.05)
                for key in "123456":
                    await pilot.press(key)
                await pilot.press("enter")
                await pilot.pause(0.1)
                await app.workers.wait_for_complete()
                await pilot.pause(0.05)
                world.reader.remove()
                await pilot.pause(gap)
            objects = len(gc.get_objects()) + gc.get_freeze_count()
    finally:
        gc.callbacks.remove(watch)
        world.close()
        gc.unfreeze()
    return {"pauses": pauses, "objects": objects}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--visits", type=int, default=40)
    p.add_argument("--gap", type=float, default=1.3, help="seconds on the attract screen between visits")
    args = p.parse_args()
    print(f"machine load at start: {machine_load()}")
    for label, tidy in (("as shipped (tidy between visits)", True), ("tidy-up switched off", False)):
        r = asyncio.run(visits(args.visits, args.gap, tidy))
        ps = r["pauses"]
        if ps:
            text = (
                f"{len(ps):3d} full collections during visits, "
                f"median {statistics.median(ps):6.1f} ms, max {max(ps):6.1f} ms"
            )
        else:
            text = "  0 full collections during visits"
        print(f"{label:<36} {args.visits} visits: {text}; {r['objects']} objects tracked")
    print(f"machine load at end: {machine_load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
