"""The build engine: cache, workers, failures, lock, atomic writes, stale files, CLI help."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from policyprint import build
from policyprint.build import build_lock, write_atomic
from policyprint.cli import main
from policyprint.errors import BuildError

POSTER_FILES = {"da/poster-vision.screen.pdf", "da/poster-vision.print.pdf", "da/poster-vision.booklet.pdf"}


def rendered(report) -> set[str]:
    return {r.job.path.as_posix() for r in report.rendered}


@pytest.fixture(scope="module")
def cached_project(tmp_path_factory):
    from conftest import copy_project

    root = copy_project(tmp_path_factory.mktemp("engine"))
    first = build(root, products=("policy", "leaflet-youth", "poster-vision", "poster-begreber"))
    assert len(first.rendered) == 12
    return root


def test_second_build_renders_nothing(cached_project):
    report = build(cached_project, products=("policy", "leaflet-youth", "poster-vision", "poster-begreber"))
    assert len(report.results) == 12
    assert rendered(report) == set()
    assert all(r.cached for r in report.results)


def test_editing_one_poster_rebuilds_only_its_files(cached_project):
    path = cached_project / "content/posters.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("    title: Fællesskaber for alle – Alle i fællesskab\n",
                                 "    title: Fællesskaber for alle – også dig\n", 1), encoding="utf-8")
    try:
        report = build(cached_project, products=("policy", "leaflet-youth", "poster-vision", "poster-begreber"))
        assert rendered(report) == POSTER_FILES
        assert "også dig" in PdfReader(cached_project / "output/da/poster-vision.screen.pdf").pages[0].extract_text()
    finally:
        path.write_text(text, encoding="utf-8")


def test_force_renders_everything(cached_project):
    report = build(cached_project, products=("leaflet-youth",), force=True)
    assert rendered(report) == {f"da/leaflet-youth.{v}.pdf" for v in ("screen", "print", "booklet")}


def test_a_changed_output_file_is_rebuilt(cached_project):
    target = cached_project / "output/da/leaflet-youth.screen.pdf"
    build(cached_project, products=("leaflet-youth",), variants=("screen",))   # the same build: the fast path
    good = target.read_bytes()
    target.write_bytes(good[:-100])          # someone truncated it
    report = build(cached_project, products=("leaflet-youth",), variants=("screen",))
    assert rendered(report) == {"da/leaflet-youth.screen.pdf"}
    assert target.read_bytes() == good


@pytest.mark.parametrize("rel", ["templates/leaflet.html.j2", "styles/leaflet.css"])
def test_a_template_edit_leaves_the_fast_path_and_rebuilds(cached_project, rel):
    """The no-change fast path hashes templates/ and styles/ too: an edit there is rebuilt."""
    selection = dict(products=("leaflet-youth",), variants=("screen",))
    build(cached_project, **selection)
    assert rendered(build(cached_project, **selection)) == set()
    path = cached_project / rel
    text = path.read_text(encoding="utf-8")
    assert '<p class="kicker">' in text or rel.endswith(".css")
    path.write_text(text.replace('<p class="kicker">', '<p class="kicker" data-edited="yes">') if rel.endswith(".j2")
                    else text + "\n.edited { color: #000; }\n", encoding="utf-8")
    try:
        assert rendered(build(cached_project, **selection)) == {"da/leaflet-youth.screen.pdf"}
    finally:
        path.write_text(text, encoding="utf-8")
        build(cached_project, **selection)


def test_a_failing_job_is_reported_and_the_others_are_built(project_copy):
    path = project_copy / "content/posters.yaml"
    text = path.read_text(encoding="utf-8")
    long = "".join(f'          - "{"Dannelse læring trivsel " * 15}"\n' for _ in range(12))
    path.write_text(text.replace("      - text:\n", "      - text:\n" + long, 1), encoding="utf-8")
    result = CliRunner().invoke(main, ["--root", str(project_copy), "build", "--product", "poster-begreber",
                                       "--product", "poster-vision", "--variant", "screen"])
    assert result.exit_code == 1
    # The failure is shown as a failure, with its path, never among the warnings.
    assert ("FAILED: output/da/poster-begreber.screen.pdf (poster-begreber / da / screen): "
            "content/posters.yaml:") in result.stderr
    assert "error: 1 file failed (listed above as FAILED)" in result.stderr
    assert "poster 'begreber' does not fit on one page" in result.stderr
    assert "2 file(s): 1 built, 0 unchanged, 1 failed" in result.output
    assert (project_copy / "output/da/poster-vision.screen.pdf").is_file()
    assert not (project_copy / "output/da/poster-begreber.screen.pdf").exists()


def test_one_and_two_workers_give_the_same_files(project_copy, tmp_path):
    from conftest import copy_project

    other = copy_project(tmp_path / "other")
    build(project_copy, products=("leaflet-staff", "poster-foraeldre"), jobs=1)
    build(other, products=("leaflet-staff", "poster-foraeldre"), jobs=2)
    for pdf in sorted((project_copy / "output").rglob("*.pdf")):
        twin = other / "output" / pdf.relative_to(project_copy / "output")
        assert hashlib.sha256(pdf.read_bytes()).digest() == hashlib.sha256(twin.read_bytes()).digest()


def test_a_second_build_waits_for_the_lock_or_fails_clearly(project_copy):
    output = project_copy / "output"
    with build_lock(output):
        with pytest.raises(BuildError) as err:
            build(project_copy, products=("leaflet-youth",), variants=("screen",), lock_timeout=0.5)
    assert f"another build (pid {os.getpid()}) is still writing {output}; gave up after 0.5 s" in str(err.value)
    assert not (output / "da/leaflet-youth.screen.pdf").exists()

    waited = []
    release = threading.Event()

    def hold():
        with build_lock(output):
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.2)
    threading.Timer(0.5, release.set).start()
    report = build(project_copy, products=("leaflet-youth",), variants=("screen",), on_wait=waited.append)
    holder.join()
    assert waited and report.results[0].ok


def test_an_interrupted_write_leaves_the_earlier_file_whole(tmp_path, monkeypatch):
    target = tmp_path / "out" / "x.pdf"
    write_atomic(target, b"%PDF earlier, complete")

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, b"%PDF new but cut short")
    assert target.read_bytes() == b"%PDF earlier, complete"
    assert [p.name for p in target.parent.iterdir()] == ["x.pdf"]


def test_a_killed_build_leaves_earlier_pdfs_byte_identical(project_copy):
    build(project_copy, products=("policy", "leaflet-parents"), variants=("screen",))
    before = {p: p.read_bytes() for p in (project_copy / "output").rglob("*.pdf")}
    policy = project_copy / "content/policy.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace("Det illustrerer vi således:",
                                                                 "Det viser vi således:"), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(Path(__file__).parents[1] / "build.py"), "--root",
                             str(project_copy), "build", "--product", "policy", "--product", "leaflet-parents",
                             "--variant", "screen", "--force"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Kill when a write is known to be under way: the first file has just landed (a new inode), the
    # other is still being rendered or written. A kill after a fixed time could come before any write.
    inodes = {p: p.stat().st_ino for p in before}
    deadline = time.monotonic() + 300
    while all(p.stat().st_ino == inodes[p] for p in before) and proc.poll() is None:
        assert time.monotonic() < deadline, "no file landed"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # No worker outlives the killed build (they would keep output/ locked).
    import psutil
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and [p for p in psutil.process_iter(["cmdline"])
                                           if str(project_copy) in " ".join(p.info["cmdline"] or [])]:
        time.sleep(0.1)
    assert not [p.pid for p in psutil.process_iter(["cmdline"]) if str(project_copy) in " ".join(p.info["cmdline"] or [])]
    for path, data in before.items():
        now = path.read_bytes()
        # Each file is either the earlier one, byte for byte, or a complete new one.
        if now != data:
            assert now.rstrip().endswith(b"%%EOF") and len(PdfReader(path).pages) > 0
    assert not [p for p in (project_copy / "output").rglob("*.pdf") if p not in before]
    # The next build cleans up any temporary file the kill left, and finishes the job.
    report = build(project_copy, products=("policy", "leaflet-parents"), variants=("screen",))
    assert not list((project_copy / "output").rglob("*.tmp"))
    assert all(r.ok for r in report.results)


@pytest.mark.parametrize("command", [[], ["build"], ["check"], ["list"], ["watch"]])
def test_help_explains_with_an_example(command):
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output


def test_console_script_is_the_same_cli():
    script = Path(sys.executable).with_name("policyprint")
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "Build Ballerup Kommune's Børne- og Ungepolitik print pack" in result.stdout


def test_no_change_build_loads_nothing_heavy(cached_project):
    build(cached_project, products=("leaflet-youth",))
    # The fast path parses no YAML (load_project is never called) and imports no renderer.
    probe = ("import sys, policyprint; b = sys.modules['policyprint.build']; calls = []; real = b.load_project; "
             "b.load_project = lambda *a, **k: calls.append(1) or real(*a, **k); "
             f"r = b.build({str(cached_project)!r}, products=('leaflet-youth',)); "
             "print(len(r.rendered), len(r.results), bool(calls) or "
             "any(m in sys.modules for m in ('weasyprint', 'jinja2', 'pypdf')))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["0", "3", "False"]
    # Any edit leaves the fast path, and only the affected files are rendered.
    path = cached_project / "content/leaflets.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("Vil du vide mere?\n      text:\n        - Skriv eller ring til os.",
                                 "Vil du vide mere?\n      text:\n        - Skriv eller ring til os nu."), encoding="utf-8")
    try:
        out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
        assert out == ["3", "3", "True"]
    finally:
        path.write_text(text, encoding="utf-8")


def test_watch_rebuilds_on_save_and_reports_errors_without_exiting(project_copy):
    def wait_for(lines, needle, timeout=90):   # generous: a loaded 2-core machine starts slowly
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = (project_copy / "watch.log").read_text(encoding="utf-8")
            if text.count(needle) >= lines:
                return text
            time.sleep(0.2)
        raise AssertionError(f"watch never printed {needle!r}:\n{text}")

    log = open(project_copy / "watch.log", "w", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(Path(__file__).parents[1] / "build.py"), "--root",
                             str(project_copy), "watch", "--product", "leaflet-youth", "--variant", "screen"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(1, "rebuilt 1 file(s): da/leaflet-youth.screen.pdf")
        path = project_copy / "content/leaflets.yaml"
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("Skriv eller ring til os.", "Skriv eller ring til os i dag."), encoding="utf-8")
        wait_for(2, "rebuilt 1 file(s): da/leaflet-youth.screen.pdf")
        path.write_text(text.replace("    max_lix: 35\n", "    max_lix: [35]\n", 1), encoding="utf-8")
        out = wait_for(1, "content has 1 problem(s); waiting for a fix")
        assert "content/leaflets.yaml:" in out and "leaflets.youth.max_lix: expected a number, got a list" in out
        path.write_text(text, encoding="utf-8")
        wait_for(3, "rebuilt 1 file(s): da/leaflet-youth.screen.pdf")
        assert proc.poll() is None   # still watching
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
