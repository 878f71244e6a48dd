"""The command line: parse, call the library, map errors to exit codes.

Exit codes: 0 success, 1 a build or preflight failure, 2 bad content or usage.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .errors import ContentError, PolicyprintError


def _root(ctx: click.Context) -> Path:
    return ctx.obj["root"]


def _fail(exc: PolicyprintError) -> None:
    if isinstance(exc, ContentError):
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        n = len(exc.problems)
        click.echo(f"{n} problem{'s' if n != 1 else ''} in the content; nothing was built.", err=True)
    else:
        click.echo(f"error: {exc}", err=True)
    sys.exit(exc.exit_code)


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=".",
              show_default=True, help="The project folder (holds content/, templates/, styles/).")
@click.pass_context
def main(ctx: click.Context, root: Path) -> None:
    """Build Ballerup Kommune's Børne- og Ungepolitik print pack.

    Without a command, builds everything (same as `build`).

    \b
    Examples:
      python build.py                 # build everything into output/
      python build.py check           # validate the content only
      python build.py build --product policy
    """
    ctx.obj = {"root": root.resolve()}
    if ctx.invoked_subcommand is None:
        ctx.invoke(build_cmd)


@main.command("build")
@click.option("--product", "products", multiple=True, metavar="ID",
              help="Build only this product (repeatable). Example: --product policy")
@click.option("--lang", "langs", multiple=True, metavar="LANG",
              help="Build only this language (repeatable). Example: --lang da")
@click.option("--variant", "variants", multiple=True, metavar="VARIANT",
              help="Build only this variant (repeatable). Example: --variant screen")
@click.option("--institution", "institutions", multiple=True, metavar="ID|all",
              help="Also build personalised leaflets for this institution from "
                   "content/institutions.yaml, or for all of them. Example: --institution all")
@click.option("--size", type=click.Choice(["A4", "A3", "A2"]), default=None,
              help="Build posters at this size (default A3); the file name carries a size other "
                   "than A3. Example: --size A4")
@click.option("--marks", is_flag=True, help="Add crop marks to press (print) files, outside the bleed. "
              "Example: --variant print --marks")
@click.pass_context
def build_cmd(ctx: click.Context, products, langs, variants, institutions, size, marks) -> None:
    """Build PDFs into output/ and update output/manifest.json.

    \b
    Examples:
      python build.py build --product policy --lang da
      python build.py build --product leaflet-parents --institution eksempel-boernehus
    """
    from .build import build

    def show(result):
        status = "ok  " if result.ok else "FAIL"
        fitted = f"  type {result.fit_pt:.1f} pt" if result.fit_pt else ""
        click.echo(f"{status} {result.job.path}  {result.pages} pages  {result.seconds:.1f} s{fitted}")
        for warning in result.warnings:
            click.echo(f"     warning: {warning}")

    try:
        report = build(_root(ctx), products=products or None, langs=langs or None,
                       variants=variants or None, institutions=institutions or None, size=size, marks=marks,
                       on_result=show)
    except PolicyprintError as exc:
        _fail(exc)
    click.echo(f"Built {len(report.results)} file(s) into {report.output}.")


@main.command("check")
@click.option("--pdf", "pdfs", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              metavar="FILE", help="Preflight this PDF instead (repeatable): fonts, colours, boxes, "
                                    "output intent, tags. Example: --pdf from-designer.pdf")
@click.pass_context
def check_cmd(ctx: click.Context, pdfs) -> None:
    """Validate the content and print every problem with file:line. Writes nothing.

    With --pdf, run the press or screen preflight on any PDF instead, such as
    a file that came back from a designer. Exit 1 if it finds problems.

    \b
    Examples:
      python build.py check
      python build.py check --pdf output/da/policy.print.pdf
    """
    from .project import load_project

    if pdfs:
        from . import finish

        failed = 0
        for pdf in pdfs:
            try:
                facts, findings = finish.preflight_any(pdf.read_bytes())
            except Exception as exc:  # an unreadable file is a finding, not a traceback
                facts, findings = [], [f"cannot be read as a PDF: {exc}"]
            click.echo(f"{pdf}: {'; '.join(facts)}")
            for finding in findings:
                click.echo(f"  {pdf}: {finding}", err=True)
            click.echo(f"  {'OK' if not findings else f'{len(findings)} problem(s)'}")
            failed += bool(findings)
        sys.exit(1 if failed else 0)

    try:
        project = load_project(_root(ctx))
    except PolicyprintError as exc:
        _fail(exc)
    click.echo(f"Content OK: {len(project.sources) + len(project.strings)} files checked.")


@main.command("list")
@click.pass_context
def list_cmd(ctx: click.Context) -> None:
    """Show the files a build would write.

    \b
    Example:
      python build.py list
    """
    from .plan import plan
    from .project import load_project

    try:
        jobs = plan(load_project(_root(ctx)))
    except PolicyprintError as exc:
        _fail(exc)
    for job in jobs:
        click.echo(f"output/{job.path}")
