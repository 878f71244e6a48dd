"""Orchestration: load → validate → plan → (cache) → render/write in workers → manifest.

The main process plans, keys and writes; worker processes render. Every file
is written atomically by the main process, under a lock on output/.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import signal
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path

from . import __version__
from .cache import Keyer, State
from .errors import BuildError
from .plan import ALL_VARIANTS, BOOKLET_SHEET_MM, PAGE_SIZES_MM, POSTER_SIZES, Job, plan
from .project import Project, load_project
from .runner import JobResult, JobRunner

TOOL = f"policyprint {__version__}"
LOCK_TIMEOUT_S = 600.0


@dataclass
class BuildReport:
    output: Path
    results: list[JobResult]
    stale: list[str] = field(default_factory=list)    # files no job produces any more
    pruned: list[str] = field(default_factory=list)
    outdated: list[str] = field(default_factory=list)  # files outside this build whose inputs changed

    @property
    def failed(self) -> list[JobResult]:
        return [r for r in self.results if not r.ok]

    @property
    def rendered(self) -> list[JobResult]:
        return [r for r in self.results if not r.cached]


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, then rename over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def inputs_hash(root: Path) -> str:
    """A hash of every input file (content, templates, styles) and the tool version: `built_from`."""
    from .assets import hash_input

    h = hashlib.sha256(TOOL.encode())
    for folder in ("content", "templates", "styles"):
        for path in sorted(p for p in (root / folder).rglob("*") if p.is_file()):
            # An unreadable file hashes as its error, never raises: `check` names it.
            h.update(path.relative_to(root).as_posix().encode() + b"\0")
            hash_input(h, path)
            h.update(b"\0")
    return h.hexdigest()


@contextmanager
def build_lock(output: Path, timeout: float = LOCK_TIMEOUT_S, on_wait=None):
    """Hold an exclusive lock on output/ so that two builds never interleave their writes."""
    global _LOCK_FILE
    output.mkdir(parents=True, exist_ok=True)
    path = output / ".lock"
    with open(path, "a+") as f:
        _LOCK_FILE = f
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            f.seek(0)
            holder = f.read().strip() or "unknown"
            if on_wait:
                on_wait(holder)
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise BuildError(f"another build (pid {holder}) is still writing {output}; "
                                         f"gave up after {timeout:g} s") from None
                    time.sleep(0.2)
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        try:
            yield
        finally:
            _LOCK_FILE = None
            f.seek(0)
            f.truncate()
            fcntl.flock(f, fcntl.LOCK_UN)


# ---- workers ---------------------------------------------------------------

_RUNNER: JobRunner | None = None
_LOCK_FILE = None  # the open lock file of the running build, if any
_PROJECT: Project | None = None  # the loaded project, inherited by forked workers


def _die_with_parent() -> None:
    """Ask Linux to kill this worker when the main process dies (PR_SET_PDEATHSIG)."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _init_worker(root: str) -> None:
    """Each worker loads the project once and keeps one runner (fonts, caches) for all its jobs."""
    global _RUNNER
    # A forked worker shares the lock's open file: close its copy, so that a
    # killed build's workers can never keep output/ locked; and die with the parent.
    if _LOCK_FILE is not None:
        os.close(_LOCK_FILE.fileno())
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process handles Ctrl-C
    project = _PROJECT if _PROJECT is not None and str(_PROJECT.root) == root else load_project(root)
    _RUNNER = JobRunner(project)


def _run_group(jobs: list[Job]) -> list[tuple[JobResult, bytes | None]]:
    return [_RUNNER.run_safely(job) for job in jobs]


VARIANT_ORDER = {"screen": 0, "print": 1, "booklet": 2}  # a booklet reuses the screen render


GROUP_DOCUMENTS = 12   # documents per group: institutions' copies of a product share a worker's fitted sizes


def _groups(jobs: list[Job]) -> list[list[Job]]:
    """Jobs that share work go to one worker: a document's variants (a booklet imposes the
    screen render), and the institutions' copies of a product (a poster's fitted size),
    in groups of up to GROUP_DOCUMENTS documents so that the workers stay balanced."""
    def document(job):
        return (job.product, job.lang, job.size or "", job.institution or "")
    ordered = sorted(jobs, key=lambda j: (document(j), VARIANT_ORDER.get(j.variant, 9)))
    groups = []
    for _, same_product in groupby(ordered, key=lambda j: document(j)[:3]):
        documents = [list(g) for _, g in groupby(same_product, key=document)]
        for i in range(0, len(documents), GROUP_DOCUMENTS):
            groups.append([job for doc in documents[i:i + GROUP_DOCUMENTS] for job in doc])
    return groups


def run_jobs(project: Project, jobs: list[Job], workers: int):
    """Yield (result, pdf) for each job as it finishes."""
    if not jobs:
        return  # nothing to render: do not even import WeasyPrint
    groups = _groups(jobs)
    if workers <= 1 or len(groups) <= 1:
        runner = JobRunner(project)
        for group in groups:
            for job in group:
                yield runner.run_safely(job)
        return
    import multiprocessing

    from . import pdf  # noqa: F401 - points fontconfig at the brand fonts before WeasyPrint loads
    import weasyprint  # noqa: F401 - imported once here, so forked workers start ready

    global _PROJECT
    _PROJECT = project  # forked workers inherit it instead of loading the YAML again
    context = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(max_workers=min(workers, len(groups)), mp_context=context,
                               initializer=_init_worker, initargs=(str(project.root),))
    try:
        futures = [pool.submit(_run_group, group) for group in groups]
        for future in as_completed(futures):
            yield from future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# ---- the build ---------------------------------------------------------------

# ---- the no-change fast path ---------------------------------------------------

WATCHED_PACKAGES = ("weasyprint", "pydyf", "pyphen", "fonttools", "pypdf", "jinja2", "pyyaml", "segno",
                    "fontpkg-noto-sans", "fontpkg-noto-sans-arabic")


def fingerprint(root: Path, options: dict, inputs: str) -> str:
    """A hash of everything a build reads: inputs (`inputs_hash`), options, engine code, packages, profile."""
    import importlib.metadata
    import re

    h = hashlib.sha256(inputs.encode() + json.dumps(options, sort_keys=True, default=list).encode())
    for path in sorted(Path(__file__).parent.rglob("*.py")):   # the engine itself
        st = path.stat()
        h.update(f"{path.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    for package in WATCHED_PACKAGES:
        try:
            h.update(f"{package}={importlib.metadata.version(package)}".encode())
        except importlib.metadata.PackageNotFoundError:
            h.update(f"{package}=missing".encode())
    found = re.search(r"^\s*profile:\s*(\S+)", (root / "content/print.yaml").read_text(encoding="utf-8"), re.M)
    name = found.group(1) if found else "FOGRA39"
    profile = root / ".cache/icc/FOGRA39.icc" if name == "FOGRA39" else (root / name)
    if profile.is_file():
        st = profile.stat()
        h.update(f"icc:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()


def _output_listing(output: Path) -> dict[str, list[int]]:
    return {p.relative_to(output).as_posix(): [p.stat().st_size, p.stat().st_mtime_ns]
            for p in sorted(output.rglob("*.pdf"))}


def _unchanged(root: Path, options: dict) -> BuildReport | None:
    """The last build's report if nothing it read or wrote has changed since; else None."""
    from .cache import STATE_FILE

    try:
        last = json.loads((root / STATE_FILE).read_text(encoding="utf-8"))["last"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    output = root / "output"
    if last.get("fingerprint") != fingerprint(root, options, inputs_hash(root)) or \
            last.get("outputs") != _output_listing(output):
        return None
    results = [JobResult(Job(*item["job"]), ok=True, pages=item["pages"], bytes=item["bytes"],
                         sha256=item["sha256"], warnings=item["warnings"], cached=True)
               for item in last["results"]]
    return BuildReport(output, results, last.get("stale", []), [], last.get("outdated", []))


def build(root: Path | str, products=None, langs=None, variants=None, institutions=None,
          size=None, marks=False, only_institutions=False, jobs: int | None = None, force=False,
          strict=False, prune=False,
          on_plan=None, on_result=None, on_wait=None, lock_timeout: float = LOCK_TIMEOUT_S) -> BuildReport:
    """Build the planned jobs into root/output, reusing unchanged files, and update the manifest.

    Raises BuildError listing every failed job after all other jobs have run.
    """
    root = Path(root).resolve()
    options = {"products": products, "langs": langs, "variants": variants, "institutions": institutions,
               "size": size, "marks": marks, "only_institutions": only_institutions, "strict": strict}
    if not force and not prune:
        report = _unchanged(root, options)
        if report is not None:
            if on_plan:
                on_plan(len(report.results), 0)
            for result in report.results:
                if on_result:
                    on_result(result)
            return report
    inputs = inputs_hash(root)   # before rendering: an edit during the build means "changed"
    fp = fingerprint(root, options, inputs)
    project = load_project(root)
    planned = plan(project, products, langs, variants, institutions, size, marks, only_institutions)
    output = project.root / "output"
    workers = jobs or os.cpu_count() or 1
    with build_lock(output, timeout=lock_timeout, on_wait=on_wait):
        _remove_temporary_files(output)
        state = State.load(project)
        keyer = Keyer(project)
        results, todo, keys = [], [], {}
        for job in planned:
            rel = job.path.as_posix()
            keys[job] = keyer.key(job)
            artifact = None if force else state.fresh(output, rel, keys[job])
            if artifact:
                result = JobResult(job, ok=True, pages=artifact["pages"], bytes=artifact["bytes"],
                                   sha256=artifact["sha256"], warnings=artifact["warnings"], cached=True,
                                   key=keys[job], checks=artifact["preflight"]["checks"])
                results.append(_strict(result, strict))
            else:
                todo.append(job)
        if on_plan:
            on_plan(len(planned), len(todo))
        for result in results:
            if on_result:
                on_result(result)
        for result, pdf in run_jobs(project, todo, workers):
            result.key = keys[result.job]
            _strict(result, strict)
            _finish(project, output, state, result, pdf)
            results.append(result)
            if on_result:
                on_result(result)
        producible = producible_paths(project)
        stale = stale_files(output, producible)
        pruned = []
        if prune:
            for rel in stale:
                (output / rel).unlink(missing_ok=True)
                state.forget(rel)
                pruned.append(rel)
            stale = []
        outdated = out_of_date(state, keyer, {job.path.as_posix() for job in planned}, producible)
        write_manifest(project, output, state, producible, inputs, outdated)
        ok = all(r.ok for r in results)
        state.last = {
            "fingerprint": fp if ok else "", "outputs": _output_listing(output), "stale": stale,
            "outdated": outdated,
            "results": [{"job": r.job.fields(),
                         "pages": r.pages, "bytes": r.bytes, "sha256": r.sha256, "warnings": r.warnings}
                        for r in sorted(results, key=lambda r: r.job.path)],
        }
        state.save(write_atomic)
    report = BuildReport(output, sorted(results, key=lambda r: r.job.path), stale, pruned, outdated)
    if report.failed:
        error = BuildError("\n".join(f"{r.job.describe()}: {e}" for r in report.failed for e in r.errors))
        error.report = report
        raise error
    return report


def _strict(result: JobResult, strict: bool) -> JobResult:
    """--strict checks the same render: a file with warnings fails (and a new one is not written)."""
    if strict and result.ok and result.warnings:
        result.errors += [f"warning (--strict): {w}" for w in result.warnings]
        result.ok = False
    return result


def _finish(project: Project, output: Path, state: State, result: JobResult, pdf: bytes | None) -> None:
    """Write a finished job's PDF (or keep a rejected one aside) and record it."""
    job = result.job
    if result.ok:
        write_atomic(output / job.path, pdf)
        result.bytes = len(pdf)
        result.sha256 = hashlib.sha256(pdf).hexdigest()
        state.record(job, result.key, artifact(project, result))
    elif pdf is not None:
        # Keep the rejected file out of output/, where it can be inspected.
        rejected = project.root / ".cache" / "rejected" / job.path
        write_atomic(rejected, pdf)
        result.errors.append(f"the rejected PDF is kept at {rejected.relative_to(project.root)}")


def _remove_temporary_files(output: Path) -> None:
    """Remove temporary files a killed build left behind (never a finished PDF)."""
    for tmp in output.rglob(".*.tmp"):
        tmp.unlink(missing_ok=True)


def producible_paths(project: Project) -> set[str]:
    """Every output path some job of this project can write (any variant, institution or size)."""
    all_institutions = tuple(i["id"] for i in project.institutions) or None
    paths = set()
    for size in (None, *POSTER_SIZES):
        for job in plan(project, variants=None, institutions=all_institutions, size=size):
            for variant in ALL_VARIANTS:
                for marks in (False, True) if variant == "print" else (False,):
                    paths.add(Job(job.product, job.lang, variant, job.institution, job.size, marks).path.as_posix())
    return paths


def stale_files(output: Path, producible: set[str]) -> list[str]:
    """PDFs in output/ that no job produces any more."""
    return sorted(p.relative_to(output).as_posix() for p in output.rglob("*.pdf")
                  if p.relative_to(output).as_posix() not in producible)


def artifact(project: Project, result: JobResult) -> dict:
    job = result.job
    product = project.product(job.product)
    return {
        "path": job.path.as_posix(), "product": job.product, "kind": product["kind"],
        "audience": product.get("audience"), "lang": job.lang, "variant": job.variant,
        "institution": job.institution, "status": "approved", "pages": result.pages,
        "marks": job.marks, "trim_mm": list(BOOKLET_SHEET_MM if job.variant == "booklet"
                                            else PAGE_SIZES_MM[job.size or product["size"]]),
        "bytes": result.bytes,
        "sha256": result.sha256, "warnings": result.warnings,
        "type_pt": round(result.fit_pt, 2) if result.fit_pt else None,  # a poster's fitted type size
        # A written file passed every check; a failed one is never written.
        "preflight": {"checks": result.checks, "findings": []},
    }


def out_of_date(state: State, keyer: Keyer, planned: set[str], producible: set[str]) -> list[str]:
    """Files an earlier build wrote, outside this build's selection, whose inputs have changed since."""
    outdated = []
    for rel, entry in sorted(state.entries.items()):
        if rel in planned or rel not in producible or "job" not in entry:
            continue
        if keyer.key(Job(*entry["job"])) != entry["key"]:
            outdated.append(rel)
    return outdated


def write_manifest(project: Project, output: Path, state: State, producible: set[str], inputs: str,
                   outdated: list[str] = ()) -> None:
    """Describe every PDF in output/: built ones from the build state (out-of-date ones marked),
    others as stale."""
    artifacts = []
    for pdf in sorted(output.rglob("*.pdf")):
        rel = pdf.relative_to(output).as_posix()
        entry = state.entries.get(rel)
        if entry and rel in producible:
            artifact = entry["artifact"]
            if rel in outdated:   # its inputs changed; the next build that selects it rebuilds it
                artifact = {**artifact, "status": "out-of-date"}
            artifacts.append(artifact)
        else:
            data = pdf.read_bytes()
            artifacts.append({"path": rel, "stale": True, "bytes": len(data),
                              "sha256": hashlib.sha256(data).hexdigest()})
    manifest = {"tool": TOOL, "built_from": inputs, "artifacts": artifacts}
    write_atomic(output / "manifest.json", (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode())
