"""The command line: parse, call the library, map errors to exit codes.

Exit codes: 0 success, 1 a build or preflight failure, 2 bad content or usage.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import click

from .errors import ContentError, PolicyprintError


def _root(ctx: click.Context) -> Path:
    """The project folder: --root (or build.py's own folder), else the nearest one upward from here.

    A folder that is not a project is a usage error: one line, exit 2.
    """
    from .project import MARKER, find_root, is_project

    root = ctx.obj["root"]
    if root is None:
        try:
            here = Path.cwd()
        except OSError:   # the current folder was deleted
            here = Path("/")
        root = find_root(here)
        if root is None:
            _usage(f"no project here: neither {here} nor any folder above it holds {MARKER}; "
                   "give the project folder with --root")
    elif not is_project(root):
        try:
            reason = f"it has no {MARKER}" if root.is_dir() else "no such folder"
        except OSError as exc:
            reason = exc.strerror or str(exc)
        shown = str(root) if len(str(root)) <= 120 else \
            f"{str(root)[:60]}…{str(root)[-40:]} ({len(str(root)):,} characters)"
        _usage(f"--root {shown} is not a project folder: {reason}")
    return root


def _usage(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def _fail(exc: PolicyprintError) -> None:
    report = getattr(exc, "report", None)
    if report is not None and report.failed:   # the summary has listed each failure with its path
        n = len(report.failed)
        click.echo(f"error: {n} file{'s' if n != 1 else ''} failed (listed above as FAILED)", err=True)
        sys.exit(exc.exit_code)
    if isinstance(exc, ContentError):
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        n = len(exc.problems)
        click.echo(f"{n} problem{'s' if n != 1 else ''} in the content; nothing was built.", err=True)
    else:
        click.echo(f"error: {exc}", err=True)
    sys.exit(exc.exit_code)


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The project folder (holds content/, templates/, styles/). Default: the folder that "
                   "holds build.py; for `policyprint`, the nearest folder upward from here with "
                   "content/products.yaml. Example: --root ~/policy-pack")
@click.pass_context
def main(ctx: click.Context, root: Path) -> None:
    """Build Ballerup Kommune's Børne- og Ungepolitik print pack.

    Without a command, builds everything (same as `build`).

    \b
    Examples:
      ./build.py                 # build everything into output/
      ./build.py check           # validate the content only
      ./build.py build --product policy
      ./build.py watch
    """
    if root is not None:
        try:
            root = root.resolve()
        except OSError:   # checked, with one clear line, where a command needs it
            root = Path(os.path.abspath(root))
    ctx.obj = {"root": root}
    # A kill (SIGTERM) stops like Ctrl-C: temporary files are removed, finished files stay whole.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    if ctx.invoked_subcommand is None:
        ctx.invoke(build_cmd)


def _build_options(f):
    """The options that choose what to build, shared by `build` and `watch`."""
    options = [
        click.option("--product", "products", multiple=True, metavar="ID",
                     help="Build only this product (repeatable). Example: --product leaflet-parents"),
        click.option("--lang", "langs", multiple=True, metavar="LANG",
                     help="Build only this language (repeatable): a code of content/languages.yaml "
                          "(da, en, uk, ar) or all; default: every language that has content. "
                          "Example: --lang da --lang ar"),
        click.option("--variant", "variants", multiple=True, metavar="VARIANT",
                     help="Build only this variant: screen, print or booklet (repeatable). "
                          "Example: --variant print"),
        click.option("--institution", "institutions", multiple=True, metavar="ID|all",
                     help="Also build personalised leaflets and posters for this institution from "
                          "content/institutions.yaml, or for all of them. Example: --institution all"),
        click.option("--only-institutions", is_flag=True,
                     help="Build only the institutions' own files, not the municipality's generic ones. "
                          "Example: --institution troldehuset --only-institutions"),
        click.option("--size", type=click.Choice(["A4", "A3", "A2"]), default=None,
                     help="Build posters at this size (default A3); the file name carries a size other "
                          "than A3. Example: --size A4"),
        click.option("--marks", is_flag=True, help="Add crop marks to press (print) files, outside the "
                     "bleed. Example: --variant print --marks"),
        click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None, metavar="N",
                     help="Worker processes (default: the number of cores). Example: --jobs 2"),
        click.option("--strict", is_flag=True, help="Treat warnings (WeasyPrint's, missing translations) "
                     "as errors. Example: --strict"),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _selection(products, langs, variants, institutions, only_institutions, size, marks, jobs, strict) -> dict:
    return dict(products=products or None, langs=langs or None, variants=variants or None,
                institutions=institutions or None, only_institutions=only_institutions, size=size,
                marks=marks, jobs=jobs, strict=strict)


def _human_size(n: int) -> str:
    return f"{n / 1024:.0f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


OUTDATED_SHOWN = 10


def _summary(report, seconds: float) -> None:
    """A table of the files (or a count per product when there are many), the institution
    folders, a one-line total, then every failure with its path."""
    from collections import defaultdict

    rows = report.results
    if len(rows) <= 40:
        width = max((len(str(r.job.path)) for r in rows), default=4)
        click.echo(f"{'file':<{width}}  {'pages':>5}  {'size':>8}  {'time':>7}  notes")
        for r in rows:
            took = "cached" if r.cached else f"{r.seconds:.1f} s"
            notes = "; ".join(r.warnings) if r.ok else "FAILED (see below)"
            click.echo(f"{str(r.job.path):<{width}}  {r.pages:>5}  {_human_size(r.bytes):>8}  {took:>7}  {notes}")
    else:
        per = defaultdict(lambda: [0, 0, 0, 0.0, 0, 0])
        for r in rows:
            row = per[r.job.product]
            row[0] += 1
            row[1] += r.bytes
            row[2] += r.cached
            row[3] += 0 if r.cached else r.seconds
            row[4] += len(r.warnings)
            row[5] += not r.ok
        click.echo(f"{'product':<22}  {'files':>5}  {'size':>8}  {'cached':>6}  {'time':>7}  {'warnings':>8}  failed")
        for product, (n, size, cached, took, warns, failed) in sorted(per.items()):
            click.echo(f"{product:<22}  {n:>5}  {_human_size(size):>8}  {cached:>6}  {took:>5.1f} s  "
                       f"{warns:>8}  {failed}")
    folders = defaultdict(int)
    for r in rows:
        if r.job.institution:
            folders[r.job.path.parent.as_posix()] += 1
    for folder, n in sorted(folders.items()):
        click.echo(f"institution: output/{folder}/ ({n} file{'s' if n != 1 else ''})")
    failed = len(report.failed)
    cached = sum(r.cached and r.ok for r in rows)
    line = (f"{len(rows)} file(s): {len(rows) - cached - failed} built, {cached} unchanged, {failed} failed, "
            f"{_human_size(sum(r.bytes for r in rows))}, {seconds:.1f} s")
    click.echo(line)
    for r in report.failed:
        click.echo(f"FAILED: output/{r.job.path} ({r.job.describe()}): {'; '.join(r.errors)}", err=True)
    for rel in report.stale:
        click.echo(f"stale: output/{rel} (no job produces it any more; remove with --prune)")
    for rel in report.pruned:
        click.echo(f"pruned: output/{rel}")
    for rel in report.outdated[:OUTDATED_SHOWN]:
        click.echo(f"out of date: output/{rel} (its inputs changed; build it again to update it)")
    if len(report.outdated) > OUTDATED_SHOWN:
        click.echo(f"out of date: {len(report.outdated) - OUTDATED_SHOWN} more file(s); output/manifest.json marks "
                   "each with \"status\": \"out-of-date\"")
    not_done = report.not_done
    for job in not_done[:10]:
        click.echo(f"not built: output/{job.path}")
    if len(not_done) > 10:
        click.echo(f"not built: {len(not_done) - 10} more file(s)")


def close_bar(state: dict) -> None:
    """Finish the progress bar once, which shows the cursor again."""
    bar, state["bar"] = state.get("bar"), None
    if bar is not None:
        bar.__exit__(None, None, None)


def _run_build(root: Path, selection: dict, force=False, prune=False, quiet=False):
    """Run one build with progress and a summary; return the report, or raise PolicyprintError."""
    from .build import Interrupted, build
    from .errors import BuildError

    interactive = sys.stderr.isatty() and not quiet
    state = {"bar": None}

    def on_plan(total, to_render):
        if interactive and to_render:
            state["bar"] = click.progressbar(length=total, label=f"Building {to_render} of {total} file(s)",
                                             file=sys.stderr, show_pos=True)
            state["bar"].__enter__()

    def on_result(result):
        if state["bar"]:
            state["bar"].update(1)

    def on_wait(holder):
        click.echo(f"Another build (pid {holder}) is writing output/; waiting for it to finish…", err=True)

    start = time.perf_counter()
    try:
        report = build(root, force=force, prune=prune, on_plan=on_plan, on_result=on_result, on_wait=on_wait,
                       **selection)
    except (BuildError, Interrupted) as exc:
        close_bar(state)
        report = getattr(exc, "report", None)
        if report is not None and not quiet:
            _summary(report, time.perf_counter() - start)
        raise
    finally:
        close_bar(state)   # always: the bar hides the terminal's cursor while it runs
    if not quiet:
        _summary(report, time.perf_counter() - start)
    return report


@main.command("build")
@_build_options
@click.option("--force", is_flag=True, help="Rebuild every file, even unchanged ones. Example: --force")
@click.option("--prune", is_flag=True, help="Delete files in output/ that no job produces any more. "
              "Example: --prune")
@click.pass_context
def build_cmd(ctx: click.Context, products, langs, variants, institutions, only_institutions, size, marks,
              jobs, strict, force, prune) -> None:
    """Build PDFs into output/ and update output/manifest.json.

    Only files whose inputs changed are rendered again; --force renders all.
    A failing file is reported with its product, language, variant and
    institution; the others are still built, and the exit code is 1.

    \b
    Examples:
      ./build.py build --product policy --lang da
      ./build.py build --product leaflet-parents --institution eksempel-boernehus
      ./build.py build --institution all --jobs 2
    """
    try:
        _run_build(_root(ctx), _selection(products, langs, variants, institutions, only_institutions, size,
                                          marks, jobs, strict), force=force, prune=prune)
    except PolicyprintError as exc:
        _fail(exc)
    except KeyboardInterrupt:
        click.echo("interrupted before any file was written; output/ is as it was", err=True)
        sys.exit(130)
    except OSError as exc:
        _os_error(exc)


def _os_error(exc: OSError) -> None:
    """A system refusal outside the write layer (a path too long, a folder not readable): one line."""
    import errno

    from .output import describe_os_error

    click.echo(f"error: {describe_os_error(exc, 'cannot use')}", err=True)
    sys.exit(2 if exc.errno == errno.ENAMETOOLONG else 1)


@main.command("watch")
@_build_options
@click.pass_context
def watch_cmd(ctx: click.Context, products, langs, variants, institutions, only_institutions, size, marks,
              jobs, strict) -> None:
    """Rebuild what changed whenever content, templates or styles are saved. Ctrl-C stops.

    \b
    Example:
      ./build.py watch --product leaflet-parents --variant screen
    """
    root = _root(ctx)
    selection = _selection(products, langs, variants, institutions, only_institutions, size, marks, jobs, strict)
    try:
        _watch(root, selection)
    except KeyboardInterrupt:
        click.echo("Stopped watching.")


def _watch(root: Path, selection: dict, after=None) -> None:
    """Build, then rebuild on every save in content/, templates/ or styles/ (calling `after` after
    each build) until Ctrl-C, which raises KeyboardInterrupt."""
    from watchfiles import watch

    from .build import Interrupted

    folders = [root / d for d in ("content", "templates", "styles")]

    def once():
        try:
            report = _run_build(root, selection, quiet=True)
            rebuilt = [str(r.job.path) for r in report.rendered]
            click.echo(f"{time.strftime('%H:%M:%S')} rebuilt {len(rebuilt)} file(s)"
                       + (": " + ", ".join(rebuilt) if rebuilt else ""))
        except Interrupted:
            raise KeyboardInterrupt from None   # Ctrl-C during a rebuild stops watching
        except ContentError as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            click.echo(f"{time.strftime('%H:%M:%S')} content has {len(exc.problems)} problem(s); waiting for a fix",
                       err=True)
        except PolicyprintError as exc:
            click.echo(f"{time.strftime('%H:%M:%S')} error: {exc}", err=True)
        if after:
            after()

    click.echo(f"Watching {', '.join(f.name + '/' for f in folders)} (Ctrl-C stops)")
    once()
    for _changes in watch(*folders, debounce=300, step=100):
        once()


@main.command("serve")
@_build_options
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True,
              help="The port on 127.0.0.1. Example: --port 8080")
@click.pass_context
def serve_cmd(ctx: click.Context, products, langs, variants, institutions, only_institutions, size, marks,
              jobs, strict, port) -> None:
    """Build, then serve output/ (the catalogue) on 127.0.0.1, rebuilding on every save; the open page
    reloads itself after a rebuild. Ctrl-C stops.

    \b
    Example:
      ./build.py serve --port 8080
    """
    from .errors import UsageError
    from .serve import Generation, start

    root = _root(ctx)
    selection = _selection(products, langs, variants, institutions, only_institutions, size, marks, jobs, strict)
    generation = Generation()
    (root / "output").mkdir(exist_ok=True)
    try:
        server = start(root / "output", port, generation)
    except OSError as exc:
        raise UsageError(f"cannot serve on 127.0.0.1:{port}: {exc.strerror or exc}; choose another --port") \
            from None
    click.echo(f"Serving output/ at http://127.0.0.1:{port}/ (Ctrl-C stops)")
    try:
        _watch(root, selection, after=generation.bump)
    except KeyboardInterrupt:
        click.echo("Stopped serving.")
    finally:
        server.shutdown()
        server.server_close()


@main.command("check")
@click.option("--verify", is_flag=True, help="Compare every file in output/ with the sha256 in "
              "output/manifest.json; exit 1 on a difference. Example: --verify")
@click.option("--pdf", "pdfs", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              metavar="FILE", help="Preflight this PDF instead (repeatable): fonts, colours, boxes, "
                                    "output intent, tags. Example: --pdf from-designer.pdf")
@click.option("--press", "kind", flag_value="press", help="Check --pdf files as press files (PDF/X-4, CMYK, "
              "bleed). Example: --pdf poster.print.pdf --press")
@click.option("--screen", "kind", flag_value="screen", help="Check --pdf files as screen files (tags, "
              "language, title). Example: --pdf policy.screen.pdf --screen")
@click.option("--booklet", "kind", flag_value="booklet", help="Check --pdf files as office booklets (A4 "
              "landscape sheets, fonts embedded). Example: --pdf policy.booklet.pdf --booklet")
@click.pass_context
def check_cmd(ctx: click.Context, verify, pdfs, kind) -> None:
    """Validate the content and print every problem with file:line. Writes nothing.

    With --pdf, run the press, screen or booklet preflight on any PDF instead,
    such as a file that came back from a designer; --press, --screen or
    --booklet chooses the check, otherwise it is guessed. Exit 1 if it finds
    problems.

    With --verify, check output/ instead: every file's sha256 against
    output/manifest.json (a build trusts size and modification time), and no
    file there that policyprint did not write. Exit 1 on a difference.

    \b
    Examples:
      ./build.py check
      ./build.py check --pdf output/da/policy.print.pdf
      ./build.py check --verify
    """
    from .project import load_project

    if kind and not pdfs:
        raise click.UsageError("--press, --screen and --booklet choose the check for --pdf files; "
                               "give one with --pdf FILE")
    if verify:
        from .build import TOOL
        from .output import Output

        try:
            out = Output.open(_root(ctx), TOOL, create=False)
            problems = out.verify() if out.path.is_dir() else []   # nothing built yet: nothing differs
        except PolicyprintError as exc:
            _fail(exc)
        except OSError as exc:
            _os_error(exc)
        for problem in problems:
            click.echo(problem, err=True)
        n = len(out.entries)
        click.echo(f"{len(problems)} difference(s) between output/ and output/manifest.json" if problems
                   else f"output/: all {n} file(s) match output/manifest.json")
        sys.exit(1 if problems else 0)

    if pdfs:
        import logging

        from . import finish

        logging.getLogger("pypdf").setLevel(logging.ERROR)   # pypdf's repair notes are not findings

        failed = 0
        for pdf in pdfs:
            try:
                facts, findings = finish.preflight_any(pdf.read_bytes(), kind)
            except finish.NotAPdf as exc:
                facts, findings = [], [str(exc)]
            except Exception as exc:  # noqa: BLE001 - a damaged file is a finding, not a traceback
                facts, findings = [], [f"cannot be read as a PDF: {exc}"]
            click.echo(f"{pdf}: {'; '.join(facts)}")
            for finding in findings:
                click.echo(f"  {pdf}: {finding}", err=True)
            click.echo(f"  {'OK' if not findings else f'{len(findings)} problem(s)'}")
            failed += bool(findings)
        sys.exit(1 if failed else 0)

    from .validate import advice

    try:
        project = load_project(_root(ctx))
    except PolicyprintError as exc:
        _fail(exc)
    except OSError as exc:
        _os_error(exc)
    from . import translations

    warnings = advice(project)
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"Content OK: {len(project.sources) + len(project.strings) + len(project.translations)} files checked"
               + (f", {len(warnings)} warning(s)." if warnings else "."))
    # Translations: a count per language, then every entry that is missing, stale or not
    # approved, with the file:line of the translation and of the Danish.
    for line in translations.summary(project):
        click.echo(f"translations {line}")
    for line in translations.check_lines(project):
        click.echo(f"translation: {line}")


@main.command("list")
@_build_options
@click.pass_context
def list_cmd(ctx: click.Context, products, langs, variants, institutions, only_institutions, size, marks,
             jobs, strict) -> None:
    """Show the files a build with the same options would write.

    \b
    Examples:
      ./build.py list
      ./build.py list --institution troldehuset --only-institutions
    """
    from .plan import plan
    from .project import load_project

    try:
        jobs = plan(load_project(_root(ctx)), products or None, langs or None, variants or None,
                    institutions or None, size, marks, only_institutions)
    except PolicyprintError as exc:
        _fail(exc)
    for job in jobs:
        click.echo(f"output/{job.path}")


@main.group("translations", invoke_without_command=True)
@click.pass_context
def translations_cmd(ctx: click.Context) -> None:
    """The state of every translation: per language and product, how many entries are
    approved, draft, stale (the Danish changed since) or missing.

    \b
    Examples:
      ./build.py translations
      ./build.py translations export --lang uk
      ./build.py translations import uk.po
    """
    if ctx.invoked_subcommand is not None:
        return
    from . import translations
    from .project import SOURCE_LANG, load_project

    try:
        project = load_project(_root(ctx))
    except PolicyprintError as exc:
        _fail(exc)
    for lang in project.langs:
        if lang == SOURCE_LANG:
            continue
        rows = translations.table(project, lang)
        width = max(len(name) for name, _ in rows)
        click.echo(f"{lang} ({project.language(lang)['name']}): content/translations/{lang}.yaml")
        click.echo(f"  {'product':<{width}}  {'entries':>7}  {'approved':>8}  {'draft':>5}  {'stale':>5}  {'missing':>7}")
        for name, c in rows:
            click.echo(f"  {name:<{width}}  {c['entries']:>7}  {c['approved']:>8}  {c['draft']:>5}  {c['stale']:>5}  "
                       f"{c['missing']:>7}")


@translations_cmd.command("export")
@click.option("--lang", required=True, metavar="LANG", help="The language to export. Example: --lang uk")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FILE",
              help="Where to write the PO file (default: <lang>.po in the current folder). Example: -o uk.po")
@click.pass_context
def translations_export(ctx: click.Context, lang: str, output: Path | None) -> None:
    """Write a gettext PO file for translators' tools (Poedit, Weblate, OmegaT, Lokalize):
    each entry has the id as msgctxt, the Danish as msgid, the current translation as msgstr,
    and `fuzzy` when it is stale.

    \b
    Example:
      ./build.py translations export --lang uk -o uk.po
    """
    from . import translations
    from .project import SOURCE_LANG, load_project

    try:
        project = load_project(_root(ctx))
    except PolicyprintError as exc:
        _fail(exc)
    if lang not in project.langs or lang == SOURCE_LANG:
        _usage(f"unknown language {lang!r}; translated languages: "
               f"{', '.join(c for c in project.langs if c != SOURCE_LANG) or 'none'}")
    output = output or Path(f"{lang}.po")
    output.write_text(translations.export_po(project, lang), encoding="utf-8")
    counts = translations.summary(project)
    click.echo(f"wrote {output} ({next((c for c in counts if c.startswith(lang + ':')), lang)})")


@translations_cmd.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--lang", default=None, metavar="LANG",
              help="The file's language, if its header does not say (Language:). Example: --lang uk")
@click.pass_context
def translations_import(ctx: click.Context, file: Path, lang: str | None) -> None:
    """Read a PO file back into content/translations/<lang>.yaml. Every entry whose words
    changed becomes a draft translated from the Danish the file shows; entries still
    marked fuzzy stay stale; everything else is left as it was.

    \b
    Example:
      ./build.py translations import uk.po
    """
    from . import translations
    from .project import SOURCE_LANG, load_project

    root = _root(ctx)
    try:
        project = load_project(root)
        found, entries = translations.read_po(file.read_text(encoding="utf-8"))
    except PolicyprintError as exc:
        _fail(exc)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        _usage(f"{file}: cannot be read as a PO file: {exc}")
    lang = lang or found
    if not lang or lang not in project.langs or lang == SOURCE_LANG:
        _usage(f"{file}: unknown language {lang!r} (give --lang; translated languages: "
               f"{', '.join(c for c in project.langs if c != SOURCE_LANG) or 'none'})")
    report = translations.import_entries(project, lang, entries)
    for name, ids in (("new", report.new), ("changed", report.changed), ("confirmed", report.confirmed)):
        for ident in ids:
            click.echo(f"{name}: {ident}")
    for ident in report.unknown:
        click.echo(f"skipped: {ident}: no Danish text has this id", err=True)
    click.echo(f"{lang}: {len(report.new)} new, {len(report.changed)} changed, {len(report.confirmed)} confirmed "
               f"(now translated from the current Danish), {len(report.unchanged)} unchanged, "
               f"{len(report.empty)} empty, {len(report.unknown)} skipped; every imported entry is a draft")
