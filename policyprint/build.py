"""Orchestration: load → validate → plan → (cache) → render in workers → write (policyprint.output).

The main process plans, keys and writes; worker processes render. Every file
is written atomically by the main process, under a lock on output/, and the
manifest is kept true as each file lands (see policyprint/output.py).
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import re
import signal
import tempfile
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path

from . import __version__
from .cache import Keyer, State
from .errors import BuildError, PolicyprintError
from .output import Output, OutputFault, close_inherited_lock, contained, refuse_link
from .output import build_lock as _output_lock
from .plan import ALL_VARIANTS, BOOKLET_SHEET_MM, PAGE_SIZES_MM, POSTER_SIZES, Job, plan
from .project import SOURCE_LANG, Project, load_project
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
    not_done: list[Job] = field(default_factory=list)  # planned jobs an interrupted build did not finish

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


def build_lock(output: Path, timeout: float = LOCK_TIMEOUT_S, on_wait=None):
    """Hold an exclusive lock on output/ so that two builds never interleave their writes."""
    return _output_lock(output, timeout=timeout, on_wait=on_wait)


class Interrupted(PolicyprintError):
    """Ctrl-C or SIGTERM stopped the build; `report` says what was finished and what not (exit 130)."""

    exit_code = 130

    def __init__(self, report: BuildReport):
        self.report = report
        done = sum(not r.cached and r.ok for r in report.results)
        super().__init__(f"interrupted: {done} file(s) written, {len(report.not_done)} not built; "
                         "earlier files are whole and output/manifest.json matches the disk")


# ---- workers ---------------------------------------------------------------

_RUNNER: JobRunner | None = None
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
    close_inherited_lock()
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process handles Ctrl-C
    project = _PROJECT if _PROJECT is not None and str(_PROJECT.root) == root else load_project(root)
    _RUNNER = JobRunner(project)


def _run_group(jobs: list[Job]) -> list[tuple[JobResult, bytes | None]]:
    """Run a group's jobs. After each document's last variant, collect its garbage at once: a
    layout leaves thousands of boxes in reference cycles, which Python's collector would free
    only at its next full collection, so the next document's layout would lie on top of them
    (the build's peak memory). Then freeze what is left (the worker's caches: fonts, parsed
    stylesheets, fitted sizes, generic layouts), as run_jobs froze what the worker inherited, so
    that no later collection walks them again: the collections cost less CPU than before. A cache
    entry dropped later is still freed by its reference count; only a cycle would be kept."""
    results = []
    for i, job in enumerate(jobs):
        results.append(_RUNNER.run_safely(job))
        if i + 1 == len(jobs) or _document(jobs[i + 1]) != _document(job):
            gc.collect()
            gc.freeze()
    return results


VARIANT_ORDER = {"screen": 0, "print": 1, "booklet": 2}  # a booklet reuses the screen render


def _document(job: Job) -> tuple:
    """The document a job is a variant of."""
    return (job.product, job.lang, job.size or "", job.institution or "")


GROUP_DOCUMENTS = 12   # documents per group: institutions' copies of a product share a worker's fitted sizes


def _groups(jobs: list[Job]) -> list[list[Job]]:
    """Jobs that share work go to one worker: a document's variants (a booklet imposes the
    screen render), and the institutions' copies of a product (a poster's fitted size),
    in groups of up to GROUP_DOCUMENTS documents so that the workers stay balanced."""
    ordered = sorted(jobs, key=lambda j: (_document(j), VARIANT_ORDER.get(j.variant, 9)))
    groups = []
    for _, same_product in groupby(ordered, key=lambda j: _document(j)[:3]):
        documents = [list(g) for _, g in groupby(same_product, key=_document)]
        for i in range(0, len(documents), GROUP_DOCUMENTS):
            groups.append([job for doc in documents[i:i + GROUP_DOCUMENTS] for job in doc])
    return groups


SIGNAL_POLL_S = 0.2


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

    from .render import release_cldr

    release_cldr()   # the keys' dates are formatted: the workers need none of Babel's data
    global _PROJECT
    _PROJECT = project  # forked workers inherit it instead of loading the YAML again
    context = multiprocessing.get_context("fork")
    # Python's advice for a fork without exec (the gc module's freeze()): what the workers inherit
    # is left out of their garbage collections, which would otherwise write to every inherited
    # object and so copy its page; and their collections after each document stay short.
    gc.freeze()
    pool = ProcessPoolExecutor(max_workers=min(workers, len(groups)), mp_context=context,
                               initializer=_init_worker, initargs=(str(project.root),))
    finished = False
    try:
        pending = {pool.submit(_run_group, group) for group in groups}
        while pending:
            # Wait in short steps: a Ctrl-C that the kernel hands to one of the executor's
            # threads must still reach this (main) thread's handler at once.
            done, pending = wait(pending, timeout=SIGNAL_POLL_S, return_when=FIRST_COMPLETED)
            for future in done:
                yield from future.result()
        finished = True
    finally:
        if not finished:   # Ctrl-C, a kill or a write fault: stop now, not after the running renders
            _kill_workers(pool)
        pool.shutdown(wait=True, cancel_futures=True)
        gc.unfreeze()   # this process's garbage from before the fork can be collected again


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    """Kill the pool's workers at once: they only render, and nothing of theirs reaches output/."""
    from multiprocessing.connection import wait

    # ProcessPoolExecutor has no public way to stop running work before Python 3.14 (kill_workers()).
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        try:
            process.kill()
        except (OSError, AttributeError):
            pass
    wait([p.sentinel for p in processes], timeout=5)
    # A worker killed while it sent a result leaves half a message in the result pipe, and the
    # executor's manager thread would wait for the rest forever (this process holds the pipe's
    # write end too). With the workers dead, close that end: the thread reads EOF and ends.
    writer = getattr(getattr(pool, "_result_queue", None), "_writer", None)
    if writer is not None:
        writer.close()


# ---- the build ---------------------------------------------------------------

# ---- the no-change fast path ---------------------------------------------------

WATCHED_PACKAGES = ("weasyprint", "pydyf", "pyphen", "fonttools", "pypdf", "jinja2", "pyyaml", "segno",
                    "fontpkg-noto-sans", "fontpkg-noto-sans-arabic", "fontpkg-ibm-plex-sans-arabic", "babel",
                    "uharfbuzz", "python-bidi")


def package_versions(names=WATCHED_PACKAGES) -> str:
    """'name=version;…' of the installed packages, from the names of their `<name>-<version>.dist-info`
    folders (the wheel standard): one listing of each folder on sys.path, where a metadata lookup
    per package scanned the path again each time (6 ms of a 150 ms no-change build)."""
    import sys

    def norm(name: str) -> str:
        return re.sub(r"[-_.]+", "_", name).lower()

    wanted = {norm(name): name for name in names}
    found: dict[str, str] = {}
    for folder in sys.path:
        try:
            entries = os.listdir(folder or ".")
        except OSError:
            continue
        for entry in entries:
            if entry.endswith(".dist-info"):
                name, _, version = entry[:-len(".dist-info")].partition("-")
                if norm(name) in wanted:
                    found.setdefault(wanted[norm(name)], version)   # the first on the path is imported
    return ";".join(f"{name}={found.get(name, 'missing')}" for name in names)


def fingerprint(root: Path, options: dict, inputs: str) -> str:
    """A hash of everything a build reads: inputs (`inputs_hash`), options, engine code, packages, profile."""
    h = hashlib.sha256(inputs.encode() + json.dumps(options, sort_keys=True, default=list).encode())
    for path in sorted(Path(__file__).parent.rglob("*.py")):   # the engine itself
        st = path.stat()
        h.update(f"{path.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    h.update(package_versions().encode())
    found = re.search(r"^\s*profile:\s*(\S+)", (root / "content/print.yaml").read_text(encoding="utf-8"), re.M)
    name = found.group(1) if found else "FOGRA39"
    profile = root / ".cache/icc/FOGRA39.icc" if name == "FOGRA39" else (root / name)
    if profile.is_file():
        st = profile.stat()
        h.update(f"icc:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()


LISTED = (".pdf", ".html", ".css", ".png")   # the PDFs and the catalogue's files


def _output_listing(output: Path) -> dict[str, list[int]]:
    return {p.relative_to(output).as_posix(): [p.stat().st_size, p.stat().st_mtime_ns]
            for p in sorted(output.rglob("*")) if p.suffix in LISTED and p.is_file()}


def _unchanged(root: Path, options: dict) -> BuildReport | None:
    """The last build's report if nothing it read or wrote has changed since; else None."""
    from .cache import STATE_FILE

    try:
        last = json.loads((root / STATE_FILE).read_text(encoding="utf-8"))["last"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    output = root / "output"
    if output.is_symlink():
        return None   # the full path refuses it
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
        out = Output.open(project.root, TOOL)
        out.refuse_foreign()   # never overwrite or delete a file this tool did not write
        out.settle()           # a killed build's temporary files and half-recorded entries
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
                out.keep(rel, artifact)
            else:
                todo.append(job)
        if on_plan:
            on_plan(len(planned), len(todo))
        for result in results:
            if on_result:
                on_result(result)
        stopped: BaseException | None = None
        rendered = run_jobs(project, todo, workers)
        try:
            out.begin({"building": True})
            for result, pdf in rendered:
                result.key = keys[result.job]
                _strict(result, strict)
                _finish(project, out, state, result, pdf)
                results.append(result)
                if on_result:
                    on_result(result)
        except (KeyboardInterrupt, OutputFault) as exc:
            stopped = exc
        finally:
            rendered.close()   # on a stop, this kills the workers at once
        stale, pruned, outdated = [], [], []
        if stopped is None:
            producible = producible_paths(project)
            stale = stale_files(out, producible)
            if prune:
                for rel in stale:
                    out.delete(rel)
                    state.forget(rel)
                    pruned.append(rel)
                stale = []
            outdated = out_of_date(state, keyer, {job.path.as_posix() for job in planned}, producible)
            out.finish(inputs, set(stale), set(outdated))
            from .catalogue import write_catalogue   # not on the no-change fast path
            write_catalogue(project, out)   # output/index.html and the institutions' pages, from the manifest
        else:
            out.flags = {"interrupted": True}
            try:
                out.save()
            except OutputFault:
                pass   # the manifest on disk is still true: every entry was settled as its file landed
        ok = stopped is None and all(r.ok for r in results)
        state.last = {
            "fingerprint": fp if ok else "", "outputs": _output_listing(output), "stale": stale,
            "outdated": outdated,
            "results": [{"job": r.job.fields(),
                         "pages": r.pages, "bytes": r.bytes, "sha256": r.sha256, "warnings": r.warnings}
                        for r in sorted(results, key=lambda r: r.job.path)],
        }
        try:
            state.save(write_atomic)
        except OSError:
            if stopped is None:
                raise
    done = {r.job for r in results}
    report = BuildReport(output, sorted(results, key=lambda r: r.job.path), stale, pruned, outdated=outdated,
                         not_done=[job for job in planned if job not in done])
    if isinstance(stopped, KeyboardInterrupt):
        raise Interrupted(report) from None
    if stopped is not None:
        written = sum(not r.cached and r.ok for r in results)
        raise OutputFault(f"{stopped}; {written} file(s) written, {len(report.not_done)} not; "
                          "output/manifest.json lists what is on disk") from None
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


def _finish(project: Project, out: Output, state: State, result: JobResult, pdf: bytes | None) -> None:
    """Write a finished job's PDF (or keep a rejected one aside) and record it."""
    job = result.job
    rel = job.path.as_posix()
    if result.ok:
        result.bytes = len(pdf)
        result.sha256 = hashlib.sha256(pdf).hexdigest()
        entry = artifact(project, result)
        out.write(rel, pdf, entry)
        state.record(job, result.key, entry)
    elif pdf is not None:
        # Keep the rejected file out of output/, where it can be inspected.
        folder = project.root / ".cache" / "rejected"
        refuse_link(folder)
        rejected = contained(folder, rel)
        write_atomic(rejected, pdf)
        result.errors.append(f"the rejected PDF is kept at {rejected.relative_to(project.root)}")


_PRODUCIBLE: dict[str, set[str]] = {}


def producible_paths(project: Project) -> set[str]:
    """Every output path some job of this project can write (any variant, institution or size).
    With the levers on, remembered per process for the same products, languages and institutions
    (`watch` asks after every save)."""
    from . import levers

    if not levers.on():
        return _producible_paths(project)
    key = json.dumps([str(project.root), project.data("products"), project.products, project.data("languages"),
                      project.institutions,
                      sorted(project.strings)], sort_keys=True, default=str)
    if key not in _PRODUCIBLE:
        _PRODUCIBLE.clear()
        _PRODUCIBLE[key] = _producible_paths(project)
    return set(_PRODUCIBLE[key])


def _producible_paths(project: Project) -> set[str]:
    all_institutions = tuple(i["id"] for i in project.institutions) or None
    paths = set()
    for size in (None, *POSTER_SIZES):
        for job in plan(project, variants=None, institutions=all_institutions, size=size):
            for variant in ALL_VARIANTS:
                for marks in (False, True) if variant == "print" else (False,):
                    paths.add(Job(job.product, job.lang, variant, job.institution, job.size, marks).path.as_posix())
    return paths


def stale_files(out: Output, producible: set[str]) -> list[str]:
    """Files this tool wrote into output/ (its manifest says so) that no job produces any more."""
    return sorted(rel for rel in out.entries if rel not in producible)


def translation_record(project: Project, job) -> dict:
    """A translated file's entries, for the manifest: how many it uses, how many of them are
    draft and how many stale (the catalogue says why a file is a draft)."""
    if job.lang == SOURCE_LANG:
        return {}
    from .render import Renderer

    renderer = Renderer.shared(project)
    missing, unapproved = renderer.translation_state(job)
    stale = renderer.stale_ids(job)
    return {"translation": {"file": f"content/translations/{job.lang}.yaml",
                            "entries": len(renderer.used_ids(job.product)), "missing": len(missing),
                            "draft": len(set(unapproved) - set(stale)), "stale": len(stale)}}


def artifact(project: Project, result: JobResult) -> dict:
    job = result.job
    product = project.product(job.product)
    return {
        "path": job.path.as_posix(), "product": job.product, "kind": product["kind"],
        "audience": product.get("audience"), "lang": job.lang, "variant": job.variant,
        "institution": job.institution, "status": "draft" if any(w.startswith("draft translation:")
                                                                  for w in result.warnings) else "approved",
        "pages": result.pages,
        "marks": job.marks, "trim_mm": list(BOOKLET_SHEET_MM if job.variant == "booklet"
                                            else PAGE_SIZES_MM[job.size or product["size"]]),
        "bytes": result.bytes,
        "sha256": result.sha256, "warnings": result.warnings,
        **translation_record(project, job),
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
