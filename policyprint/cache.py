"""Cache stage: a key per job from every input it reads, and the state of earlier builds.

A job's key hashes its rendered HTML, which already holds every content key
and template it uses, plus what the HTML only links: the stylesheets and the
logos and images under content/ it names. Then the font files, the CMYK profile
(press files), the settings that steer fitting and preflight, the job itself and
the tool's version. Nothing else: an unused asset or another product's stylesheet
changes no key, and --strict is a check on the same render, not part of the key.
Rendering HTML with Jinja takes milliseconds; only jobs whose key changed reach
WeasyPrint.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from . import __version__
from .plan import Job
from .project import Project
from .validate import brand_font_files

STATE_FILE = ".cache/state.json"


def _hash_files(h, paths: list[Path], root: Path | None = None) -> None:
    for path in paths:
        name = path.relative_to(root).as_posix() if root and path.is_relative_to(root) else path.name
        h.update(name.encode() + b"\0" + path.read_bytes() + b"\0")


class Keyer:
    """Computes job keys. One per build, in the main process."""

    def __init__(self, project: Project):
        from .render import Renderer

        self.project = project
        self.renderer = Renderer.shared(project)
        h = hashlib.sha256(f"policyprint {__version__}\0".encode())
        root = project.root
        # Files that steer every job without appearing in its HTML. Stylesheets and
        # content files (logos, images) count only for the jobs whose HTML links them.
        _hash_files(h, [root / "content" / name for name in ("products.yaml", "brand.yaml", "print.yaml")], root)
        for paths in brand_font_files(project).values():
            _hash_files(h, paths)
        self.base = h.hexdigest()
        profile = project.cmyk_profile()
        self.press = hashlib.sha256(profile.read_bytes()).hexdigest() if profile.is_file() else "missing"
        plan = [(s["id"], s["page"]) for s in project.policy["sections"]]
        self.page_plan = json.dumps(plan)
        self._html: dict[tuple, str] = {}
        self._files: dict[str, str] = {}

    def html(self, job: Job) -> str:
        """The job's HTML. Screen and booklet jobs render the same HTML (only print differs), so once."""
        context = (job.product, job.lang, job.institution, job.size, job.variant == "print")
        if context not in self._html:
            self._html[context] = self.renderer.html(job)
        return self._html[context]

    def key(self, job: Job) -> str:
        h = hashlib.sha256(self.base.encode())
        h.update(json.dumps(job.fields()).encode())
        if job.variant == "print":
            h.update(self.press.encode())
        if self.project.product(job.product)["kind"] == "policy":
            h.update(self.page_plan.encode())
            h.update(json.dumps(self.project.page_plan(job.lang)[:2]).encode())   # a language's own plan
        if job.variant == "booklet":   # every sheet carries the printing instruction
            from .plan import PRINTING

            kind = self.project.product(job.product)["kind"]
            h.update(self.renderer.sheet_note_html(job.lang, PRINTING[kind][1]).encode())
        try:
            html = self.html(job)
        except Exception:  # noqa: BLE001 - the job itself reports the template error
            return "unrenderable"
        h.update(html.encode())
        for rel in linked_files(html, self.project.root):
            h.update(rel.encode() + b"\0" + self._file_hash(rel).encode())
        return h.hexdigest()

    def _file_hash(self, rel: str) -> str:
        if rel not in self._files:
            try:
                self._files[rel] = hashlib.sha256((self.project.root / rel).read_bytes()).hexdigest()
            except OSError:
                self._files[rel] = "unreadable"   # the job itself reports it
        return self._files[rel]


_LINKS = re.compile(r'href="(styles/[^"]+)"|file://(/[^"\'\s)]+)')


def linked_files(html: str, root: Path) -> list[str]:
    """The project files an HTML document links (stylesheets, logos and images under content/),
    relative to the project root, sorted. Inline content (SVG, brand tokens) is in the HTML itself."""
    found = set()
    content = (root / "content").resolve()
    for sheet, uri in _LINKS.findall(html):
        if sheet:
            found.add(sheet)
            continue
        path = Path(unquote(uri))
        if path.is_relative_to(content):
            found.add(path.relative_to(root.resolve()).as_posix())
    return sorted(found)


@dataclass
class State:
    """What earlier builds wrote: per output path, the job key and the manifest entry."""

    path: Path
    entries: dict[str, dict] = field(default_factory=dict)
    last: dict = field(default_factory=dict)  # the last build: for the no-change fast path

    @classmethod
    def load(cls, project: Project) -> "State":
        path = project.root / STATE_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            entries = data["entries"] if data.get("tool") == __version__ else {}
        except (OSError, ValueError, KeyError, TypeError):
            entries = {}
        return cls(path, entries)

    def fresh(self, output: Path, rel: str, key: str) -> dict | None:
        """The stored manifest entry if `rel` was built from `key` and the file is unchanged."""
        entry = self.entries.get(rel)
        target = output / rel
        if not entry or entry.get("key") != key or not target.is_file():
            return None
        artifact = entry["artifact"]
        if target.stat().st_size != artifact["bytes"]:
            return None
        if hashlib.sha256(target.read_bytes()).hexdigest() != artifact["sha256"]:
            return None
        return artifact

    def record(self, job: Job, key: str, artifact: dict) -> None:
        self.entries[job.path.as_posix()] = {"key": key, "job": job.fields(), "artifact": artifact}

    def forget(self, rel: str) -> None:
        self.entries.pop(rel, None)

    def save(self, write) -> None:
        data = {"tool": __version__, "entries": dict(sorted(self.entries.items())), "last": self.last}
        write(self.path, (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode())
