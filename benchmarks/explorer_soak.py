"""A long random walk over the kiosk app (tests/support/explorer.py) at 80x24 and 120x40, for soaking.

    python benchmarks/explorer_soak.py [--steps 2000] [--seed 1] [--walk 200]

Walks of `--walk` steps each, seeds from `--seed` on, alternating the two sizes, until `--steps` steps were
taken or an invariant broke. Exit status 1 with the walk's last steps when one broke, else 0; prints the
steps and wall time of every walk. The same demo world serves every walk (its bindings accumulate)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kiosk.demo import build_demo
from tests.support.explorer import SIZES, InvariantBroken, timed_walk


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000, help="steps in all")
    parser.add_argument("--seed", type=int, default=1, help="the first walk's seed (then +1 each walk)")
    parser.add_argument("--walk", type=int, default=200, help="steps per walk (a fresh app each walk)")
    args = parser.parse_args(argv)
    world = build_demo(people=60)
    taken, total_s, seed = 0, 0.0, args.seed
    try:
        while taken < args.steps:
            size = SIZES[seed % len(SIZES)]
            steps = min(args.walk, args.steps - taken)
            try:
                done, seconds = timed_walk(world, size, seed, steps)
            except InvariantBroken as exc:
                print(f"seed {seed} at {size[0]}x{size[1]}: {exc}", flush=True)
                return 1
            taken, total_s = taken + done, total_s + seconds
            print(f"seed {seed} {size[0]}x{size[1]}: {done} steps in {seconds:.1f} s", flush=True)
            seed += 1
    finally:
        world.close()
    print(
        f"{taken} steps, {total_s:.1f} s ({total_s / max(taken, 1) * 1000:.0f} ms a step), no invariant broke"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
