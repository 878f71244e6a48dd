"""Cache stage: a key per job from every input it reads, and the state of earlier builds.

A job's key hashes its rendered HTML, which already holds every content key
and template it uses, plus what the HTML only points at: the stylesheets,
the assets, the font files, the CMYK profile, the settings that steer fitting
and preflight, the build options and the tool's version. Rendering HTML with
Jinja takes milliseconds; only jobs whose key changed reach WeasyPrint.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

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

    def __init__(self, project: Project, marks: bool = False, strict: bool = False):
        from .render import Renderer

        self.project = project
        self.renderer = Renderer(project)
        h = hashlib.sha256(f"policyprint {__version__}\0marks={marks}\0strict={strict}\0".encode())
        root = project.root
        # Files that steer every job without appearing in its HTML.
        _hash_files(h, sorted((root / "styles").glob("*.css")), root)
        _hash_files(h, sorted(p for p in (root / "content" / "assets").rglob("*") if p.is_file()), root)
        _hash_files(h, [root / "content" / name for name in ("products.yaml", "brand.yaml", "print.yaml")], root)
        for paths in brand_font_files(project).values():
            _hash_files(h, paths)
        self.base = h.hexdigest()
        profile = project.cmyk_profile()
        self.press = hashlib.sha256(profile.read_bytes()).hexdigest() if profile.is_file() else "missing"
        plan = [(s["id"], s["page"]) for s in project.policy["sections"]]
        self.page_plan = json.dumps(plan)
        self._html: dict[tuple, str] = {}

    def html(self, job: Job) -> str:
        """The job's HTML. Screen and booklet jobs render the same HTML (only print differs), so once."""
        context = (job.product, job.lang, job.institution, job.size, job.variant == "print")
        if context not in self._html:
            self._html[context] = self.renderer.html(job)
        return self._html[context]

    def key(self, job: Job) -> str:
        h = hashlib.sha256(self.base.encode())
        h.update(json.dumps([job.product, job.lang, job.variant, job.institution, job.size]).encode())
        if job.variant == "print":
            h.update(self.press.encode())
        if self.project.product(job.product)["kind"] == "policy":
            h.update(self.page_plan.encode())
        if job.variant == "booklet":   # every sheet carries the printing instruction
            from .impose import PRINTING

            kind = self.project.product(job.product)["kind"]
            h.update(self.renderer.sheet_note_html(job.lang, PRINTING[kind][1]).encode())
        try:
            h.update(self.html(job).encode())
        except Exception:  # noqa: BLE001 - the job itself reports the template error
            return "unrenderable"
        return h.hexdigest()


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

    def record(self, rel: str, key: str, artifact: dict) -> None:
        self.entries[rel] = {"key": key, "artifact": artifact}

    def forget(self, rel: str) -> None:
        self.entries.pop(rel, None)

    def save(self, write) -> None:
        data = {"tool": __version__, "entries": dict(sorted(self.entries.items())), "last": self.last}
        write(self.path, (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode())
