#!/usr/bin/env python3
"""The catalogue's and web edition's share of a cold build. Prints figures; asserts nothing.

On a copy of the project: a cold default build with `--institution all` (wall time), then the
post-build stage alone, from scratch on that output (its site files and kept versions removed): the
thumbnails (pypdfium2), the proofing view's share (a cold build only keeps each PDF's version; it
renders pages only to compare two versions), the HTML pages (catalogue, filters, institutions, web
edition), and the same stage again with nothing changed (what every later build pays when it runs the
full path). Last, the diff after an edit: one Danish paragraph of the policy changed and built again,
with the proofing view's page renders and comparison timed.

Usage: .venv/bin/python bench/catalogue.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from policyprint import build, catalogue, proof
    from policyprint.build import TOOL
    from policyprint.output import Output
    from policyprint.project import load_project

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "project"
        for name in ("content", "templates", "styles"):
            shutil.copytree(ROOT / name, root / name)
        shutil.copytree(ROOT / ".cache" / "icc", root / ".cache" / "icc")
        start = time.perf_counter()
        build(root, institutions=("all",))
        cold = time.perf_counter() - start
        out = Output.open(root, TOOL)
        for rel in list(out.site):
            (out.path / rel).unlink()
        out.site = {}
        shutil.rmtree(root / proof.PAGES_DIR)     # the proofing view's page renders, from scratch too
        (root / proof.STATE).unlink()
        project = load_project(root)
        timed = {"thumbnails": 0.0, "keep": 0.0, "pages": 0.0, "compare": 0.0}

        def timer(name, real):
            def counted(*args):
                t = time.perf_counter()
                try:
                    return real(*args)
                finally:
                    timed[name] += time.perf_counter() - t
            return counted
        catalogue.thumbnail_png = timer("thumbnails", catalogue.thumbnail_png)
        proof.keep = timer("keep", proof.keep)
        proof.page_images = timer("pages", proof.page_images)
        proof.compare = timer("compare", proof.compare)
        start = time.perf_counter()
        written = catalogue.write_catalogue(project, out)
        stage = time.perf_counter() - start
        start = time.perf_counter()
        again = catalogue.write_catalogue(project, out)
        unchanged = time.perf_counter() - start
        pages = sum(rel.endswith(".html") for rel in written)
        thumbs = sum(rel.endswith(".png") for rel in written)
        print(f"cold build (--institution all), catalogue included: {cold:6.2f} s, "
              f"{len(out.entries)} PDFs")
        print(f"catalogue stage from scratch:      {stage:6.2f} s ({100 * stage / cold:4.1f} % of the cold build)")
        print(f"  thumbnails ({thumbs:3d}, pypdfium2):    {timed['thumbnails']:6.2f} s")
        print(f"  proofing view: versions kept:     {timed['keep']:6.2f} s (pages rendered: {timed['pages']:.2f} s)")
        print(f"  HTML, CSS and writing ({pages} pages): "
              f"{stage - timed['thumbnails'] - timed['keep'] - timed['pages']:6.2f} s")
        print(f"catalogue stage, nothing changed:  {unchanged:6.3f} s ({len(again)} files written)")
        policy = root / "content" / "policy.yaml"
        text = policy.read_text(encoding="utf-8")
        policy.write_text(text.replace("Det er helt centralt for", "Det er meget centralt for", 1), encoding="utf-8")
        for key in timed:
            timed[key] = 0.0
        start = time.perf_counter()
        report = build(root, institutions=("all",))
        edit = time.perf_counter() - start
        changed = [p for p, e in Output.open(root, TOOL).entries.items() if e.get("changed_pages")]
        rebuilt = sum(not r.cached for r in report.results)
        print(f"build after one Danish edit:       {edit:6.2f} s ({rebuilt} files rebuilt, {len(changed)} with "
              f"changed pages)")
        print(f"  diff: pages rendered {timed['pages']:6.2f} s, compared {timed['compare']:6.2f} s "
              f"({100 * (timed['pages'] + timed['compare']) / edit:4.1f} % of that build)")


if __name__ == "__main__":
    main()
