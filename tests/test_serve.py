"""`policyprint serve`: output/ on 127.0.0.1, rebuilt on save, the open page reloaded; Ctrl-C stops."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WAIT_S = 120   # per step, on a loaded machine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, what: str):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def test_serve_reloads_the_open_page_after_a_rebuild_and_stops_on_ctrl_c(built, tmp_path, browser):
    root = tmp_path / "copy"
    shutil.copytree(built, root, symlinks=True)
    port = free_port()
    log = (tmp_path / "serve.log").open("w+", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "--root", str(root), "serve",
                             "--institution", "eksempel-klub", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    base = f"http://127.0.0.1:{port}/"
    try:
        wait_for(lambda: "rebuilt" in Path(log.name).read_text(encoding="utf-8"), "the first build")
        page = get(base + "index.html").decode()
        assert '<script src="/__policyprint/reload.js"></script>' in page
        # The file on disk keeps its own CSP and no reload script: only the server's response has them.
        on_disk = (root / "output" / "index.html").read_text(encoding="utf-8")
        assert "reload.js" not in on_disk and "__policyprint" not in on_disk
        assert get(base + "da/policy.screen.pdf") == (root / "output" / "da" / "policy.screen.pdf").read_bytes()
        generation = int(get(base + "__policyprint/generation"))
        browser.get(base + "index.html")
        browser.execute_script("window.policyprintMarker = 1")
        # A save: the server rebuilds, and the open page reloads itself (the marker is gone).
        with (root / "content" / "site.yaml").open("a", encoding="utf-8") as f:
            f.write("\n# a save\n")
        wait_for(lambda: int(get(base + "__policyprint/generation")) > generation, "the rebuild")
        wait_for(lambda: browser.execute_script("return window.policyprintMarker === undefined"), "the reload")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=WAIT_S) == 0
        assert "Stopped serving." in Path(log.name).read_text(encoding="utf-8")
        try:
            get(base + "index.html")
            raise AssertionError("still serving after Ctrl-C")
        except OSError:
            pass
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
