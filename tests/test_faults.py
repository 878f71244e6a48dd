"""Faults survived (issue 10, points 8–10): a read-only or full output/, a very long --root, Ctrl-C,
kills at random moments. Each ends with one clear line and a manifest true to the files on disk.

Mount tests use a real tmpfs (or `chattr +i`) and skip when the machine does not permit it.
Slow renders are simulated by patching the job runner in the subprocess, so a test proves that
the build stops without waiting for them, without measuring time.
"""

from __future__ import annotations

import hashlib
import json
import os
import pty
import random
import re
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest

from conftest import ROOT
from test_security import assert_no_traceback, cli

SLEEPY = """
import sys, time
sys.path.insert(0, {root!r})
import policyprint.runner as runner
real = runner.JobRunner.run_safely
def run_safely(self, job):
    if job.product in {slow!r}:
        time.sleep(600)   # a render far longer than any test waits
    return real(self, job)
runner.JobRunner.run_safely = run_safely
from policyprint.cli import main
main()
"""


def default_ctrl_c() -> None:
    """In the child: Ctrl-C as a terminal gives it. A test run started in the background by a
    shell without job control inherits SIGINT ignored, and Python keeps it ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def cli_process(root: Path, *args: str, slow=(), **popen) -> subprocess.Popen:
    """Start `policyprint --root ROOT ARGS`; jobs of the `slow` products never finish rendering."""
    code = SLEEPY.format(root=str(ROOT), slow=set(slow))
    return subprocess.Popen([sys.executable, "-c", code, "--root", str(root), *args], cwd=root,
                            preexec_fn=default_ctrl_c, **popen)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest(output: Path) -> dict:
    return json.loads((output / "manifest.json").read_text(encoding="utf-8"))


def disagreements(output: Path) -> list[str]:
    """Where output/manifest.json is not true to the files on disk (entries marked as changing aside)."""
    pdfs = {p.relative_to(output).as_posix() for p in output.rglob("*.pdf")}
    if not (output / "manifest.json").exists():
        return [f"no manifest.json, but {len(pdfs)} PDF(s)"] if pdfs else []
    problems, listed = [], set()
    for entry in manifest(output)["artifacts"]:
        rel = entry["path"]
        listed.add(rel)
        if entry.get("state"):
            continue   # marked "writing" or "deleting": either version may be on disk
        if not (output / rel).is_file():
            problems.append(f"{rel}: listed but missing")
        elif sha(output / rel) != entry["sha256"]:
            problems.append(f"{rel}: sha256 differs")
    problems += [f"{rel}: on disk but not listed" for rel in sorted(pdfs - listed)]
    return problems


def wait_for(condition, timeout: float = 120, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(0.05)


def settled(output: Path, rel: str) -> bool:
    try:
        entry = next((a for a in manifest(output)["artifacts"] if a["path"] == rel), None)
    except (OSError, ValueError, KeyError):
        return False
    return bool(entry) and not entry.get("state") and "sha256" in entry and manifest(output).get("building")


@contextmanager
def tmpfs(target: Path, options: str):
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],
                          capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=True)


@contextmanager
def immutable(folder: Path):
    done = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"cannot make a folder immutable here: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


LEAFLETS_PRINT = ("build", "--product", "leaflet-youth", "--product", "leaflet-staff", "--product",
                  "leaflet-parents", "--variant", "print", "--jobs", "1")


# ---- 8. read-only, full, too long ---------------------------------------------------------

def test_a_read_only_output_mount_gives_one_line(project_copy):
    """Old: a raw `OSError: [Errno 30] Read-only file system` traceback."""
    with tmpfs(project_copy / "output", "size=1m,ro"):
        result = cli(project_copy, *LEAFLETS_PRINT)
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip() == "error: cannot open the lock output/.lock: Read-only file system (EROFS)"


def test_a_read_only_output_folder_writes_nothing_the_manifest_does_not_say(project_copy):
    """Old: with output/ itself read-only (its subfolders not), the PDFs were written but manifest.json
    was not (a traceback), so the manifest named the old checksums."""
    first = cli(project_copy, *LEAFLETS_PRINT)
    assert first.returncode == 0, first.stderr
    output = project_copy / "output"
    leaflets = project_copy / "content/leaflets.yaml"
    leaflets.write_text(leaflets.read_text(encoding="utf-8").replace("Skriv eller ring til os.",
                                                                     "Skriv eller ring til os i dag."),
                        encoding="utf-8")
    with immutable(output):
        result = cli(project_copy, *LEAFLETS_PRINT)
        assert disagreements(output) == []
    assert result.returncode == 1, result.stderr
    assert_no_traceback(result)
    assert result.stderr.strip() == ("error: cannot write output/manifest.json: Operation not permitted (EPERM); "
                                     "0 file(s) written, 1 not; output/manifest.json lists what is on disk")


def test_a_full_disk_gives_one_line_and_a_true_manifest(project_copy):
    """Old: an `OSError: [Errno 28] No space left on device` traceback, PDFs written, no manifest.json."""
    with tmpfs(project_copy / "output", "size=400k"):
        result = cli(project_copy, *LEAFLETS_PRINT)
        output = project_copy / "output"
        assert disagreements(output) == []
        assert not list(output.rglob("*.tmp"))
        written = [a["path"] for a in manifest(output)["artifacts"]]
    assert result.returncode == 1, result.stderr
    assert_no_traceback(result)
    line = result.stderr.strip()
    assert re.fullmatch(r"error: cannot write output/(manifest\.json|da/leaflet-\w+\.print\.pdf): No space left on device \(ENOSPC\); "
                        r"(\d) file\(s\) written, (\d) not; output/manifest\.json lists what is on disk", line), line
    assert int(re.search(r"(\d) file\(s\) written", line).group(1)) == len(written) >= 1


def test_a_write_error_at_any_file_leaves_a_true_manifest(project_copy, monkeypatch):
    """The same without a mount: the disk fills up at the second file's write."""
    from policyprint import build
    from policyprint.output import OutputFault

    calls = []
    real = os.fsync

    def fsync(fd):
        calls.append(fd)
        if len(calls) == 2:    # the second PDF (manifest saves during a build are not synced)
            raise OSError(28, "No space left on device")
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(OutputFault) as err:
        build(project_copy, products=("leaflet-youth",), variants=("screen", "print"), jobs=1)
    assert "No space left on device (ENOSPC); 1 file(s) written, 1 not;" in str(err.value)
    assert disagreements(project_copy / "output") == []
    assert len(manifest(project_copy / "output")["artifacts"]) == 1


def test_a_root_of_120000_characters_gives_one_line(tmp_path):
    """Old: an `OSError: [Errno 36] File name too long` traceback."""
    root = tmp_path / ("x" * 120_000)
    result = subprocess.run([sys.executable, str(ROOT / "build.py"), "--root", str(root), "build"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert_no_traceback(result)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and len(lines[0]) < 300, lines
    assert lines[0].startswith(f"error: --root {str(tmp_path)[:20]}") and \
        lines[0].endswith("characters) is not a project folder: File name too long")


# ---- 9. Ctrl-C -----------------------------------------------------------------------------

def test_ctrl_c_stops_at_once_shows_the_cursor_and_says_what_is_left(project_copy):
    """Old: Ctrl-C waited for the running renders (here: forever), printed only `Aborted!`, exit 1,
    and left the cursor hidden; the manifest kept the checksums of the build before."""
    output = project_copy / "output"
    master, slave = pty.openpty()   # a terminal, so that the progress bar is drawn
    proc = cli_process(project_copy, "build", "--product", "leaflet-youth", "--product", "leaflet-staff",
                       "--product", "leaflet-parents", "--variant", "screen", "--jobs", "2",
                       slow=("leaflet-staff", "leaflet-youth"), stdout=slave, stderr=slave)
    os.close(slave)
    chunks = []
    reader = threading.Thread(target=lambda: _drain(master, chunks), daemon=True)
    reader.start()
    try:
        wait_for(lambda: settled(output, "da/leaflet-parents.screen.pdf"), what="the first file to land")
        workers = [p.pid for p in psutil.Process(proc.pid).children()]
        assert workers
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)   # the slow renders would take 600 s
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    reader.join(10)
    text = b"".join(chunks).decode(errors="replace")
    assert code == 130, text
    assert "\x1b[?25l" in text and text.rindex("\x1b[?25h") > text.rindex("\x1b[?25l"), repr(text)
    assert "Aborted!" not in text and "Traceback" not in text
    assert "da/leaflet-parents.screen.pdf" in text
    assert "not built: output/da/leaflet-youth.screen.pdf" in text
    assert "not built: output/da/leaflet-staff.screen.pdf" in text
    assert ("interrupted: 1 file(s) written, 2 not built; earlier files are whole and output/manifest.json "
            "matches the disk") in text
    assert not [pid for pid in workers if psutil.pid_exists(pid)
                and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
    assert disagreements(output) == []
    assert manifest(output).get("interrupted") is True


TORN = """
import gc, multiprocessing.queues, os, struct, sys, time
sys.path.insert(0, {root!r})
import policyprint.runner as runner
def run_safely(self, job):
    # This worker dies while it sends its result: half a message is in the result pipe.
    queue = next(o for o in gc.get_objects() if isinstance(o, multiprocessing.queues.SimpleQueue))
    os.write(queue._writer.fileno(), struct.pack("!i", 1 << 20) + b"half a result")
    open({marker!r}, "w").close()
    time.sleep(600)
runner.JobRunner.run_safely = run_safely
from policyprint.cli import main
main()
"""


def test_ctrl_c_stops_even_when_a_worker_was_sending_its_result(project_copy, tmp_path):
    """Killing a worker in the middle of sending a result (a PDF) left the pool's reader thread waiting
    for the rest of the message forever: the build hung after Ctrl-C (found by `timeout -s INT 5`)."""
    marker = tmp_path / "torn"
    code = TORN.format(root=str(ROOT), marker=str(marker))
    proc = subprocess.Popen([sys.executable, "-c", code, "--root", str(project_copy), "build", "--product",
                             "leaflet-youth", "--product", "leaflet-staff", "--variant", "screen", "--jobs", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, preexec_fn=default_ctrl_c)
    try:
        wait_for(marker.exists, what="a worker to send half a result")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "interrupted: 0 file(s) written, 2 not built" in err


def _drain(fd: int, chunks: list) -> None:
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:
            return
        if not data:
            return
        chunks.append(data)


# ---- 10. the manifest is always true ---------------------------------------------------------

def test_the_manifest_is_true_after_kills_at_random_moments(project_copy):
    """Old: kill -9 during the write phase left manifest.json with the sha256s of the build before."""
    output = project_copy / "output"
    args = ("build", "--product", "leaflet-youth", "--product", "poster-vision", "--product", "poster-begreber",
            "--variant", "screen", "--variant", "print", "--jobs", "2")
    leaflets = project_copy / "content/leaflets.yaml"
    text = leaflets.read_text(encoding="utf-8")
    start = time.monotonic()
    assert cli(project_copy, *args).returncode == 0
    whole = time.monotonic() - start
    rng = random.Random(20261129)
    in_write_phase = 0
    for i in range(20):
        # Every build changes every file's bytes, so a stale checksum cannot pass for a true one.
        leaflets.write_text(text.replace("Skriv eller ring til os.", f"Skriv eller ring til os ({i})."),
                            encoding="utf-8")
        posters = project_copy / "content/posters.yaml"
        posters.write_text(re.sub(r"(title: [^\n]*?)( \(\d+\))?\n", rf"\1 ({i})\n", posters.read_text(
            encoding="utf-8")), encoding="utf-8")
        proc = cli_process(project_copy, *args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if i % 2:   # any moment of the whole build
            time.sleep(rng.uniform(0, whole))
        else:       # a moment of the write phase
            try:
                wait_for(lambda: proc.poll() is not None or manifest(output).get("building"), timeout=whole * 3)
            except (AssertionError, ValueError, OSError):
                pass
            time.sleep(rng.uniform(0, whole / 2))
        proc.kill()
        proc.wait()
        in_write_phase += bool(manifest(output).get("building"))
        assert disagreements(output) == [], f"kill {i}"
    assert in_write_phase >= 5
    final = cli(project_copy, *args)
    assert final.returncode == 0, final.stderr
    assert not list(output.rglob("*.tmp"))
    verify = cli(project_copy, "check", "--verify")
    assert verify.returncode == 0 and "output/: all 6 file(s) match output/manifest.json" in verify.stdout


def test_check_verify_finds_a_same_size_edit_the_fast_path_trusts(project_copy):
    """Old: `check` had no --verify; a same-size edit with its mtime restored went unnoticed."""
    args = ("build", "--product", "leaflet-youth", "--variant", "screen")
    assert cli(project_copy, *args).returncode == 0
    ok = cli(project_copy, "check", "--verify")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "output/: all 1 file(s) match output/manifest.json"
    pdf = project_copy / "output/da/leaflet-youth.screen.pdf"
    st = pdf.stat()
    data = bytearray(pdf.read_bytes())
    data[200] ^= 1
    pdf.write_bytes(bytes(data))
    os.utime(pdf, ns=(st.st_atime_ns, st.st_mtime_ns))
    again = cli(project_copy, *args)
    assert "0 built, 1 unchanged" in again.stdout   # the documented trade-off of the fast path
    bad = cli(project_copy, "check", "--verify")
    assert bad.returncode == 1
    assert re.search(r"^output/da/leaflet-youth\.screen\.pdf: sha256 \w{12}… differs from manifest\.json's \w{12}… "
                     r"\(\d+ bytes; edited after the build\?\)$", bad.stderr, re.M), bad.stderr
    (project_copy / "output/notes.txt").write_text("mine", encoding="utf-8")
    assert "output/notes.txt: not in manifest.json (policyprint did not write it)" in \
        cli(project_copy, "check", "--verify").stderr


# ---- issue 16: guards that must be seen to work --------------------------------------------------

KILL_AT_RENAME = """
import os, signal, sys
sys.path.insert(0, {root!r})
real = os.replace
def replace(src, dst, *a, **k):
    if str(dst).endswith(".pdf"):
        os.kill(os.getpid(), signal.SIGKILL)   # killed with the new file written, before its rename
    return real(src, dst, *a, **k)
os.replace = replace
from policyprint.cli import main
main()
"""


def test_leftover_temporary_files_are_cleaned_up(project_copy):
    """A build killed between writing a file and renaming it leaves a temporary file and an entry marked
    "writing"; the next build removes the one and settles the other."""
    output = project_copy / "output"
    args = ("--root", str(project_copy), "build", "--product", "leaflet-youth", "--variant", "screen")
    killed = subprocess.run([sys.executable, "-c", KILL_AT_RENAME.format(root=str(ROOT)), *args],
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL
    leftovers = [p.relative_to(output).as_posix() for p in output.rglob("*.tmp")]
    assert leftovers == ["da/.leaflet-youth.screen.pdf.policyprint.tmp"]
    assert [a.get("state") for a in manifest(output)["artifacts"]] == ["writing"]
    assert disagreements(output) == []
    # Another file this time, so that only the clean-up (not a rewrite of the same file) removes it.
    result = cli(project_copy, "build", "--product", "leaflet-youth", "--variant", "print")
    assert result.returncode == 0, result.stderr
    assert not list(output.rglob("*.tmp"))
    assert [a["path"] for a in manifest(output)["artifacts"]] == ["da/leaflet-youth.print.pdf"]
    assert disagreements(output) == [] and not any(a.get("state") for a in manifest(output)["artifacts"])


def test_workers_die_with_the_build(project_copy):
    """kill -9 of the build kills its workers too, even in the middle of a render."""
    proc = cli_process(project_copy, "build", "--product", "leaflet-staff", "--product", "leaflet-parents",
                       "--variant", "screen", "--jobs", "2", slow=("leaflet-staff", "leaflet-parents"),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers = []
    try:
        wait_for(lambda: len(psutil.Process(proc.pid).children()) >= 2, what="two workers rendering")
        workers = psutil.Process(proc.pid).children()
        proc.kill()
        proc.wait()

        def gone():
            return all(not w.is_running() or w.status() == psutil.STATUS_ZOMBIE for w in workers)
        wait_for(gone, timeout=60, what="the workers to die")   # a render here takes 600 s
    finally:
        for worker in workers:
            if worker.is_running():
                worker.kill()
