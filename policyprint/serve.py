"""`policyprint serve`: output/ over HTTP on 127.0.0.1, rebuilt on save, the open page reloaded.

The pages in output/ carry no script and a Content-Security-Policy that allows none. Only
when served by this command does each HTML page get one small script of the server's own
(`/__policyprint/reload.js`, allowed by the page's CSP as rewritten in the response): it
asks `/__policyprint/generation` once a second and reloads the page when a rebuild has
finished. The files on disk never change for it. Standard library only.
"""

from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PREFIX = "/__policyprint/"
RELOAD_JS = b"""(function () {
  var seen = null;
  function poll() {
    fetch("/__policyprint/generation", {cache: "no-store"}).then(function (r) { return r.text(); })
      .then(function (g) { if (seen !== null && g !== seen) { location.reload(); } seen = g; })
      .catch(function () {}).then(function () { setTimeout(poll, 1000); });
  }
  poll();
})();
"""


class Generation:
    """A counter the rebuild loop raises after every build; pages poll it."""

    def __init__(self):
        self.value = 0
        self.lock = threading.Lock()

    def bump(self) -> None:
        with self.lock:
            self.value += 1


class Handler(SimpleHTTPRequestHandler):
    generation: Generation

    def log_message(self, format, *args):   # noqa: A002 - the base class's name
        pass   # quiet: the terminal shows the rebuilds

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def do_GET(self):   # noqa: N802 - http.server's name
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        if path == PREFIX + "generation":
            return self._send(str(self.generation.value).encode(), "text/plain; charset=utf-8")
        if path == PREFIX + "reload.js":
            return self._send(RELOAD_JS, "text/javascript; charset=utf-8")
        local = Path(self.translate_path(path))
        if local.is_dir():
            local = local / "index.html"
        if local.suffix == ".html" and local.is_file() and not path.endswith("/.."):
            html = local.read_text(encoding="utf-8")
            html = html.replace("script-src 'none'", "script-src 'self'", 1).replace("script-src &#39;none&#39;",
                                                                                    "script-src &#39;self&#39;", 1)
            html = html.replace("</body>", f'<script src="{PREFIX}reload.js"></script>\n</body>', 1)
            return self._send(html.encode(), "text/html; charset=utf-8")
        return super().do_GET()

    def _send(self, data: bytes, kind: str):
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def start(output: Path, port: int, generation: Generation) -> ThreadingHTTPServer:
    """Serve output/ on 127.0.0.1:port in a background thread; return the server (call shutdown())."""
    handler = type("BoundHandler", (Handler,), {"generation": generation})
    server = ThreadingHTTPServer(("127.0.0.1", port), partial(handler, directory=str(output)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="policyprint-serve", daemon=True).start()
    return server
