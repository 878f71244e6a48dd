#!/usr/bin/env python3
"""Compare this checkout's build against another checkout's, side by side, in one run.

Runs the cold full default build and the no-change build of each checkout on
its own copy of its own project, alternating (old, new, old, new, …) so that
machine load falls on both alike, and prints the medians and their ratios.
Prints figures; asserts nothing.

Usage: .venv/bin/python bench/compare.py OTHER_CHECKOUT [--rounds 3] [--lang da]
  --lang builds only that language on both sides (the same work against a checkout from
  before the translations: the default build now covers every language).
  e.g. git worktree add /tmp/before <commit> && ln -s "$PWD/.cache" /tmp/before/.cache
       .venv/bin/python bench/compare.py /tmp/before
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]


def copy_project(checkout: Path, dest: Path) -> Path:
    for name in ("content", "templates", "styles"):
        shutil.copytree(checkout / name, dest / name)
    shutil.copytree(ROOT / ".cache" / "icc", dest / ".cache" / "icc")
    return dest


def timed_build(checkout: Path, root: Path, *args: str) -> tuple[float, float]:
    """Run the checkout's own build.py on `root`; return (seconds, peak RSS of the process tree in MB)."""
    env = {"PYTHONPATH": str(checkout), "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, str(checkout / "build.py"), "--root", str(root), "build", *args]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
    top, peak = psutil.Process(proc.pid), 0
    while proc.poll() is None:
        try:
            peak = max(peak, sum(p.memory_info().rss for p in [top, *top.children(recursive=True)]))
        except psutil.Error:
            pass
        time.sleep(0.02)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{checkout}: build failed ({proc.returncode}): {proc.stderr.read()[-2000:]}")
    return seconds, peak / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("other", type=Path, help="the other checkout (the baseline)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--lang", action="append", default=[], help="build only this language (repeatable)")
    args = parser.parse_args()
    checkouts = {"old": args.other.resolve(), "new": ROOT}
    work = Path(tempfile.mkdtemp(prefix="policyprint-compare-"))
    figures: dict[str, dict[str, list[float]]] = {name: {"cold": [], "again": [], "rss": []} for name in checkouts}
    for round_ in range(args.rounds):
        for name, checkout in checkouts.items():
            root = copy_project(checkout, work / f"{name}-{round_}")
            langs = [arg for lang in args.lang for arg in ("--lang", lang)]
            cold, rss = timed_build(checkout, root, *langs)
            again, _ = timed_build(checkout, root, *langs)
            figures[name]["cold"].append(cold)
            figures[name]["again"].append(again)
            figures[name]["rss"].append(rss)
            print(f"round {round_ + 1} {name}: cold {cold:.2f} s, no-change {again:.2f} s, peak {rss:.0f} MB",
                  flush=True)
    print()
    print(f"{'measure (median of ' + str(args.rounds) + ')':<34} {'old':>10} {'new':>10} {'new/old':>9}")
    for key, unit in (("cold", "s"), ("again", "s"), ("rss", "MB")):
        old, new = (statistics.median(figures[n][key]) for n in ("old", "new"))
        label = {"cold": "cold full default build", "again": "no-change build", "rss": "peak memory (cold)"}[key]
        print(f"{label:<34} {old:>8.2f} {unit:<2}{new:>8.2f} {unit:<2}{new / old:>8.2f}×")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
