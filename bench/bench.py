#!/usr/bin/env python3
"""Benchmark policyprint's build engine. Prints figures; asserts nothing.

Measured side by side in one run, on a copy of the project:
  1. the cold full default build, against the naive way: one `weasyprint`
     command-line process per output file, on the same HTML;
  2. a second build with nothing changed;
  3. an edit to one poster's text: which files are rendered again (counted);
  4. a batch of 20 institutions with 1 and with 2 workers;
  5. peak resident memory of the whole build (main process + workers);
  6. languages: the cold build covers every language with content (da, en, uk, ar);
     an edit to one Danish paragraph (the parents' section lead, quoted by the
     brochure and the parents' leaflet): the files rendered again, counted per language.
then every target of issue 15 ("Speed where people wait"), old and new side by side,
old being the same checkout with POLICYPRINT_LEVERS=off (the code before the levers)
or another checkout:
  7. `watch`: edit to finished PDF, CPU of the watching process, a leaflet and the brochure;
  8. an institution's leaflet against a full render of it;
  9. the N-institution batch (bench/institutions.py), levers off and on, in Danish: the work
     the target was set on (institutions issue: each institution's default products in every
     variant, before there were languages). --batch-lang all builds every language instead
     (4× the files: an institution that lists no `languages:` gets all four);
 10. the cold full default build (medians of alternating runs), and the same against
     other checkouts: --main (the commit before the levers) and --base (issue 11's baseline).

Usage: .venv/bin/python bench/bench.py [--keep DIR] [--targets-only] [--count 100] [--batch-lang da] [--rounds 3]
                                       [--main CHECKOUT] [--base CHECKOUT]
  e.g. git worktree add --detach /work/speed-base 1cb3982 && ln -s "$PWD/.cache" /work/speed-base/.cache
       .venv/bin/python bench/bench.py --targets-only --main /work/speed-base --base /work/base
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def copy_project(dest: Path) -> Path:
    for name in ("content", "templates", "styles"):
        shutil.copytree(ROOT / name, dest / name)
    shutil.copytree(ROOT / ".cache" / "icc", dest / ".cache" / "icc")
    return dest


def run_cli(root: Path, *args: str) -> tuple[float, float, str]:
    """Run `build.py build` as its own process; return (seconds, peak RSS of its process tree in MB, output)."""
    cmd = [sys.executable, str(ROOT / "build.py"), "--root", str(root), "build", *args]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    top = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            tree = [top, *top.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.02)
    seconds = time.perf_counter() - start
    out = proc.stdout.read()
    if proc.returncode != 0:
        raise SystemExit(f"build failed ({proc.returncode}):\n{out}")
    return seconds, peak / 1024 / 1024, out


def naive(root: Path) -> tuple[float, int]:
    """One weasyprint CLI process per output file of the default build, on the same HTML."""
    from policyprint.plan import Job, plan
    from policyprint.project import load_project
    from policyprint.render import Renderer

    project = load_project(root)
    renderer = Renderer(project)
    manifest = {a["path"]: a for a in json.loads((root / "output/manifest.json").read_text())["artifacts"]}
    work = Path(tempfile.mkdtemp())
    commands = []
    for job in plan(project):
        fit = manifest[job.path.as_posix()].get("type_pt")
        html = root / f".naive-{job.product}-{job.variant}.html"  # in the project, so links resolve
        html.write_text(renderer.html(Job(job.product, job.lang, job.variant), fit), encoding="utf-8")
        variant = {"screen": ["--pdf-variant", "pdf/ua-1"], "print": ["--pdf-variant", "pdf/x-4"]}.get(job.variant, [])
        commands.append(["weasyprint", *variant, "--custom-metadata", str(html), str(work / f"{len(commands)}.pdf")])
    weasyprint = str(Path(sys.executable).with_name("weasyprint"))
    start = time.perf_counter()
    for cmd in commands:
        subprocess.run([weasyprint, *cmd[1:]], check=True, capture_output=True)
    seconds = time.perf_counter() - start
    for html in root.glob(".naive-*.html"):
        html.unlink()
    shutil.rmtree(work)
    return seconds, len(commands)


def institutions_yaml(n: int) -> str:
    kinds = ["dagtilbud", "skole", "BFO", "klub", "ungeindsats"]
    lines = ["institutions:"]
    for i in range(n):
        lines += [f"  - id: bench-{i:02d}", f"    name: Benchmark-institution {i:02d} (eksempel)",
                  f"    kind: {kinds[i % 5]}", f"    address: [Eksempelvej {i + 1}, 2750 Ballerup]",
                  f"    phone: 10 20 30 {i:02d}", f"    email: inst{i:02d}@eksempel.dk"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", type=Path, help="keep the work folder here")
    parser.add_argument("--targets-only", action="store_true", help="measure only issue 15's targets (6-9)")
    parser.add_argument("--count", type=int, default=100, help="institutions in the batch (0: skip it)")
    parser.add_argument("--batch-lang", default="da",
                        help="the batch's language: da (the target's work) or all (every language)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of the cold builds and edits")
    parser.add_argument("--main", type=Path, help="a checkout of the commit before the levers")
    parser.add_argument("--base", type=Path, help="issue 11's baseline checkout (e.g. /work/base)")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="policyprint-bench-"))
    if not args.targets_only:
        engine(base)
    targets(base, args)
    if not args.keep:
        shutil.rmtree(base)


def engine(base: Path) -> None:
    """Measures 1-5: the build engine against the naive way, no-change and edit builds, workers."""
    root = copy_project(base / "project")
    cores = psutil.cpu_count()
    print(f"policyprint benchmark on {cores} cores, project copy in {root}")

    cold, cold_rss, out = run_cli(root)
    files = out.strip().splitlines()[-1]
    naive_s, naive_n = naive(root)
    again, again_rss, out2 = run_cli(root)

    posters = root / "content/posters.yaml"
    posters.write_text(posters.read_text(encoding="utf-8").replace(
        "title: Dannelse · læring · trivsel", "title: Dannelse · læring · trivsel for alle"), encoding="utf-8")
    from policyprint import build
    start = time.perf_counter()
    report = build(root)
    edit_s = time.perf_counter() - start
    rebuilt = sorted(str(r.job.path) for r in report.rendered)

    # Languages: one Danish paragraph changes; translated files that use it turn stale.
    policy = root / "content/policy.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace(
        "Forældrene er de vigtigste voksne i barnets liv", "Forældrene er de allervigtigste voksne i barnets liv"),
        encoding="utf-8")
    start = time.perf_counter()
    report = build(root)
    danish_s = time.perf_counter() - start
    danish = sorted(str(r.job.path) for r in report.rendered)
    per_lang = {}
    for rel in danish:
        per_lang[rel.split("/")[0]] = per_lang.get(rel.split("/")[0], 0) + 1

    (root / "content/institutions.yaml").write_text(institutions_yaml(20), encoding="utf-8")
    batch = ["--institution", "all", "--product", "leaflet-parents", "--product", "poster-vision",
             "--variant", "screen", "--variant", "print", "--force"]
    one, one_rss, _ = run_cli(root, *batch, "--jobs", "1")
    two, two_rss, out_two = run_cli(root, *batch, "--jobs", "2")
    batch_files = out_two.strip().splitlines()[-1]

    print()
    print(f"{'measure':<48} {'figure':>12}")
    print(f"{'cold full default build, 4 languages (' + str(cores) + ' workers)':<48} {cold:>10.2f} s   {files}")
    print(f"{'naive: one weasyprint process per file':<48} {naive_s:>10.2f} s   ({naive_n} processes)")
    print(f"{'  speed-up (naive / cold)':<48} {naive_s / cold:>11.1f}×   target ≥ 5×")
    print(f"{'second build, nothing changed':<48} {again:>10.2f} s   "
          f"{100 * again / cold:.1f} % of cold; target < 5 % and < 1 s")
    print(f"{'one-poster edit (poster-begreber title)':<48} {len(rebuilt):>10} files rendered ({edit_s:.2f} s): "
          f"{', '.join(rebuilt)}")
    print(f"{'one Danish paragraph edit (parents lead)':<48} {len(danish):>10} files rendered ({danish_s:.2f} s): "
          + ", ".join(f"{lang} {n}" for lang, n in sorted(per_lang.items())) + f": {', '.join(danish)}")
    print(f"{'20-institution batch, 1 worker':<48} {one:>10.2f} s")
    print(f"{'20-institution batch, 2 workers':<48} {two:>10.2f} s   {batch_files}")
    print(f"{'  speed-up (1 / 2 workers)':<48} {one / two:>11.2f}×   target ≥ 1.7×")
    peak = max(cold_rss, again_rss, one_rss, two_rss)
    print(f"{'peak resident memory of a whole build':<48} {peak:>9.0f} MB   "
          f"(cold {cold_rss:.0f}, batch 1 worker {one_rss:.0f}, 2 workers {two_rss:.0f}); target < 500 MB")
    print(flush=True)


# ---- issue 15's targets ------------------------------------------------------------

# Edits a communications officer makes: two texts each, so that every save changes the HTML.
EDITS = {
    "leaflet-parents": ("leaflets.yaml", "vil du vide mere?", "vil du vide mere? Ny sætning."),
    "policy": ("policy.yaml", "en tid fyldt med glæde", "en tid fuld af glæde"),
}


def levers(state: str) -> None:
    os.environ["POLICYPRINT_LEVERS"] = state


def watch_edits(root: Path, product: str, rounds: int) -> dict[str, list[float]]:
    """CPU seconds of the watching process from a save to the finished PDF, as `watch --product P
    --lang da --variant screen` runs it (build() in the same process), levers off and on, alternating.
    One language: a Danish edit makes every translation that uses the text stale, rebuilt too."""
    from policyprint import build

    name, old, new = EDITS[product]
    path = root / "content" / name
    original = path.read_text(encoding="utf-8")
    assert old in original, f"{name} no longer holds {old!r}: update bench/bench.py's EDITS"
    cpu: dict[str, list[float]] = {"off": [], "on": []}
    flip = False
    try:
        for round_ in range(rounds + 1):          # round 0 warms both up (watch's first build)
            for state in ("off", "on"):
                levers(state)
                flip = not flip
                path.write_text(original.replace(old, new, 1) if flip else original, encoding="utf-8")
                start = time.process_time()
                report = build(root, products=(product,), langs=("da",), variants=("screen",))
                seconds = time.process_time() - start
                assert len(report.rendered) == 1, [str(r.job.path) for r in report.rendered]
                if round_:
                    cpu[state].append(seconds)
    finally:
        path.write_text(original, encoding="utf-8")
        levers("on")
    return cpu


def institution_leaflets(root: Path, count: int = 8) -> dict[str, list[float]]:
    """CPU seconds per institution's leaflet (screen and print), rendered whole (levers off) and split
    (the generic pages laid out once, the institution's put in): the render (layout and write,
    "off"/"on") and the whole job with its preflight ("off job"/"on job")."""
    from policyprint.plan import Job
    from policyprint.project import load_project
    from policyprint.runner import JobRunner

    (root / "content/institutions.yaml").write_text(institutions_yaml(count + 1), encoding="utf-8")
    project = load_project(root)
    times: dict[str, list[float]] = {"off": [], "on": [], "off job": [], "on job": []}
    runners = {}
    for state in ("off", "on"):
        levers(state)
        runners[state] = JobRunner(project)
        runners[state].split = state == "on"
        for variant in ("screen", "print"):   # the generic layout (split) and the fonts: once per worker
            runners[state].run(Job("leaflet-parents", "da", variant, "bench-00"))
    for i in range(1, count + 1):
        for state in ("off", "on"):
            levers(state)
            start = time.process_time()
            for variant in ("screen", "print"):
                runners[state].render(Job("leaflet-parents", "da", variant, f"bench-{i:02d}"))
            times[state].append((time.process_time() - start) / 2)
            start = time.process_time()
            for variant in ("screen", "print"):
                result, _ = runners[state].run(Job("leaflet-parents", "da", variant, f"bench-{i:02d}"))
                assert result.ok, result.errors
            times[state + " job"].append((time.process_time() - start) / 2)
    levers("on")
    (root / "content/institutions.yaml").write_text(
        (ROOT / "content/institutions.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    return times


def batch(count: int, state: str, lang: str) -> tuple[float, str]:
    cmd = [sys.executable, str(ROOT / "bench/institutions.py"), "--count", str(count)]
    if lang != "all":
        cmd += ["--lang", lang]
    if state == "off":
        cmd.append("--levers-off")
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    wall = next(line for line in out.splitlines() if line.strip().startswith("wall"))
    return float(wall.split()[1]), " ".join(out.split())


def cold_build(checkout: Path, root: Path, state: str) -> tuple[float, float, float]:
    """A cold full default build by `checkout`'s own build.py: (seconds, CPU seconds of the process
    tree, peak RSS of the tree in MB). CPU time is steadier than wall time on a shared machine."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = {"PYTHONPATH": str(checkout), "PATH": "/usr/bin:/bin", "POLICYPRINT_LEVERS": state}
    cmd = [sys.executable, str(checkout / "build.py"), "--root", str(root), "build"]
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
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"{checkout}: build failed ({proc.returncode}): {proc.stderr.read()[-2000:]}")
    return seconds, cpu, peak / 2**20


def cold_builds(work: Path, args) -> dict[str, dict[str, list[float]]]:
    """Cold full default builds, alternating: this checkout with the levers off and on, and the
    other checkouts given, each on its own fresh copy of its own project."""
    runs = [("levers off", ROOT, "off"), ("levers on", ROOT, "on")]
    if args.main:
        runs.append(("main", args.main.resolve(), "on"))
    if args.base:
        runs.append(("base", args.base.resolve(), "on"))
    figures = {name: {"s": [], "cpu": [], "mb": []} for name, _, _ in runs}
    for round_ in range(args.rounds):
        for name, checkout, state in runs:
            root = work / f"cold-{name.replace(' ', '-')}-{round_}"
            for folder in ("content", "templates", "styles"):
                shutil.copytree(checkout / folder, root / folder)
            shutil.copytree(ROOT / ".cache" / "icc", root / ".cache" / "icc")
            seconds, cpu, mb = cold_build(checkout, root, state)
            print(f"  cold build, {name}: {seconds:.2f} s, CPU {cpu:.2f} s, {mb:.0f} MB", flush=True)
            figures[name]["s"].append(seconds)
            figures[name]["cpu"].append(cpu)
            figures[name]["mb"].append(mb)
            shutil.rmtree(root)
    return figures


def targets(base: Path, args) -> None:
    print(f"issue 15: old and new side by side ({args.rounds} rounds, medians; "
          f"old = POLICYPRINT_LEVERS=off unless named)", flush=True)
    median = statistics.median
    rows = []

    def row(measure, old, new, unit, target, ratio_target):
        ratio = new / old
        verdict = "met" if ratio <= ratio_target else "NOT met"
        rows.append(f"{measure:<46} {old:>9.3f} {unit:<2} {new:>9.3f} {unit:<2} {ratio:>6.2f}×   "
                    f"target {target}: {verdict}")
        print(rows[-1], flush=True)

    root = copy_project(base / "targets")
    for product, label, goal in (("leaflet-parents", "leaflet", 0.55), ("policy", "brochure", 0.75)):
        cpu = watch_edits(root, product, args.rounds + 2)
        row(f"watch: edit to PDF, CPU, {label} (screen)", median(cpu["off"]), median(cpu["on"]), "s",
            f"≤ {goal}×", goal)
    times = institution_leaflets(root)
    row("institution's leaflet: split / full, CPU", median(times["off"]), median(times["on"]), "s",
        "≤ 0.5×", 0.5)
    row("  the same, whole job with preflight", median(times["off job"]), median(times["on job"]), "s",
        "(information)", 1.0)
    figures = cold_builds(base, args)
    new = {key: median(figures["levers on"][key]) for key in ("s", "cpu", "mb")}
    comparisons = [("levers off", "levers off / on", 0.90, "≥ 10 % faster (≤ 0.90×)"),
                   ("main", "main / this", 0.90, "≥ 10 % faster (≤ 0.90×)"),
                   ("base", "base / this", 1.10, "issue 11: ≤ 1.10×")]
    for name, label, goal, what in comparisons:
        if name in figures:
            row(f"cold full pack, wall ({label})", median(figures[name]["s"]), new["s"], "s", what, goal)
            row(f"cold full pack, CPU ({label})", median(figures[name]["cpu"]), new["cpu"], "s", what, goal)
            row(f"cold full pack, peak memory ({label})", median(figures[name]["mb"]), new["mb"], "MB",
                "≤ 1.10×", 1.10)
    if args.count:
        old_s, old_out = batch(args.count, "off", args.batch_lang)
        new_s, new_out = batch(args.count, "on", args.batch_lang)
        row(f"{args.count}-institution batch ({args.batch_lang})", old_s, new_s, "s", "under 5 minutes",
            300 / old_s)
        print(f"    off: {old_out}\n    on:  {new_out}")
    print()
    print(f"{'measure':<46} {'old':>12} {'new':>12} {'new/old':>7}")
    for line in rows:
        print(line)
    print("byte-identical output: tests/test_speed.py (stylesheets, renderer, warm watch, reloaded content, "
          "remembered compression), tests/test_split.py")


if __name__ == "__main__":
    main()
