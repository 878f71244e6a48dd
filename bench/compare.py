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
import os
import resource
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


def timed_build(checkout: Path, root: Path, *args: str) -> tuple[float, float, float, float]:
    """Run the checkout's own build.py on `root`; return (seconds, CPU seconds of the process tree,
    peak RSS of the process tree in MB, peak PSS of the process tree in MB).

    RSS counts a page shared by the forked workers once per process; PSS shares it out among
    them, so their sum is the memory the build really holds. CPU time (user + system, workers
    included) is what a busy machine changes least."""
    env = {"PYTHONPATH": str(checkout), "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, str(checkout / "build.py"), "--root", str(root), "build", *args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
    top, peak, peak_pss = psutil.Process(proc.pid), 0, 0
    while proc.poll() is None:
        try:
            tree = [top, *top.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree))
            peak_pss = max(peak_pss, sum(p.memory_full_info().pss for p in tree))
        except psutil.Error:
            pass
        time.sleep(0.02)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"{checkout}: build failed ({proc.returncode}): {proc.stderr.read()[-2000:]}")
    return seconds, cpu, peak / 1024 / 1024, peak_pss / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("other", type=Path, help="the other checkout (the baseline)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--lang", action="append", default=[], help="build only this language (repeatable)")
    args = parser.parse_args()
    checkouts = {"old": args.other.resolve(), "new": ROOT}
    work = Path(tempfile.mkdtemp(prefix="policyprint-compare-"))
    figures: dict[str, dict[str, list[float]]] = {name: {"cold": [], "cpu": [], "again": [], "rss": [], "pss": []}
                                                  for name in checkouts}
    for round_ in range(args.rounds):
        for name, checkout in checkouts.items():
            root = copy_project(checkout, work / f"{name}-{round_}")
            langs = [arg for lang in args.lang for arg in ("--lang", lang)]
            cold, cpu, rss, pss = timed_build(checkout, root, *langs)
            again, *_ = timed_build(checkout, root, *langs)
            for key, value in (("cold", cold), ("cpu", cpu), ("again", again), ("rss", rss), ("pss", pss)):
                figures[name][key].append(value)
            print(f"round {round_ + 1} {name}: cold {cold:.2f} s (CPU {cpu:.2f} s), no-change {again:.2f} s, "
                  f"peak RSS {rss:.0f} MB, PSS {pss:.0f} MB, load average {os.getloadavg()[0]:.1f}", flush=True)
    print()
    print(f"{'measure (median of ' + str(args.rounds) + ')':<34} {'old':>10} {'new':>10} {'new/old':>9}")
    labels = {"cold": ("cold full default build", "s"), "cpu": ("  its CPU time (workers included)", "s"),
              "again": ("no-change build", "s"), "rss": ("peak memory (cold), RSS", "MB"),
              "pss": ("peak memory (cold), PSS", "MB")}
    for key, (label, unit) in labels.items():
        old, new = (statistics.median(figures[n][key]) for n in ("old", "new"))
        print(f"{label:<34} {old:>8.2f} {unit:<2}{new:>8.2f} {unit:<2}{new / old:>8.2f}×")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
