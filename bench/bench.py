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

Usage: .venv/bin/python bench/bench.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
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
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="policyprint-bench-"))
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
    if not args.keep:
        shutil.rmtree(base)


if __name__ == "__main__":
    main()
