"""Build selection, honest rebuilds and the summary: one institution alone, `list` with build
options, crop-marked files under their own name, keys that cover what a job reads and no more,
out-of-date files reported, failures shown as failures."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from policyprint import build
from policyprint.cli import main

INSTITUTION = "eksempel-klub"


def manifest(root) -> dict:
    data = json.loads((root / "output/manifest.json").read_text(encoding="utf-8"))
    return {a["path"]: a for a in data["artifacts"]}


def cli(root, *args):
    return CliRunner().invoke(main, ["--root", str(root), *args])


def test_one_institution_alone_builds_nothing_else_and_list_prints_exactly_that(project_copy):
    options = ["--institution", INSTITUTION, "--only-institutions", "--product", "leaflet-parents",
               "--variant", "screen"]
    listed = cli(project_copy, "list", *options)
    assert listed.exit_code == 0, listed.output
    assert listed.output.split() == [f"output/da/institutions/{INSTITUTION}/leaflet-parents.screen.pdf"]
    result = cli(project_copy, "build", *options)
    assert result.exit_code == 0, result.output
    written = sorted(p.relative_to(project_copy).as_posix() for p in (project_copy / "output").rglob("*.pdf"))
    assert written == [line for line in listed.output.split()]
    assert f"institution: output/da/institutions/{INSTITUTION}/ (1 file)" in result.output
    help_text = " ".join(cli(project_copy, "build", "--help").output.split())
    assert "--only-institutions" in help_text and "not the municipality's generic ones" in help_text


def test_only_institutions_without_one_is_a_usage_error(project_copy):
    result = cli(project_copy, "list", "--only-institutions")
    assert result.exit_code == 2
    assert "--only-institutions needs --institution ID" in result.stderr


def test_list_takes_the_build_options(project_copy):
    result = cli(project_copy, "list", "--product", "poster-vision", "--size", "A2", "--variant", "print",
                 "--marks", "--institution", INSTITUTION)
    assert result.exit_code == 0, result.output
    assert result.output.split() == ["output/da/poster-vision.A2.print-marks.pdf",
                                     f"output/da/institutions/{INSTITUTION}/poster-vision.A2.print-marks.pdf"]


def test_crop_marked_files_have_their_own_name_and_the_manifest_says_so(project_copy):
    build(project_copy, products=("leaflet-parents",), variants=("print",))
    plain = project_copy / "output/da/leaflet-parents.print.pdf"
    before = plain.read_bytes()
    build(project_copy, products=("leaflet-parents",), variants=("print",), marks=True)
    assert plain.read_bytes() == before            # the plain press file is not replaced
    marked = project_copy / "output/da/leaflet-parents.print-marks.pdf"
    assert PdfReader(marked).pages[0].mediabox.width > PdfReader(plain).pages[0].mediabox.width
    entries = manifest(project_copy)
    assert entries["da/leaflet-parents.print-marks.pdf"]["marks"] is True
    assert entries["da/leaflet-parents.print.pdf"]["marks"] is False
    again = build(project_copy, products=("leaflet-parents",), variants=("print",))
    assert not again.rendered and marked.is_file()   # neither build replaces the other's file


def test_keys_cover_what_a_job_reads_and_no_more(project_copy):
    selection = dict(products=("leaflet-parents", "poster-vision"), variants=("screen",),
                     institutions=(INSTITUTION,))
    build(project_copy, **selection)
    # An unused file in content/assets/ changes no job.
    shutil.copy(project_copy / "content/assets/wordmark.svg", project_copy / "content/assets/unused.svg")
    assert build(project_copy, **selection).rendered == []
    # --strict checks the same render: nothing is rendered again.
    assert build(project_copy, strict=True, **selection).rendered == []
    # A poster stylesheet edit rebuilds the posters only.
    sheet = project_copy / "styles/poster.css"
    sheet.write_text(sheet.read_text(encoding="utf-8") + "\n.unused-rule { color: #000; }\n", encoding="utf-8")
    rebuilt = {r.job.path.as_posix() for r in build(project_copy, **selection).rendered}
    assert rebuilt == {"da/poster-vision.screen.pdf", f"da/institutions/{INSTITUTION}/poster-vision.screen.pdf"}
    # A stylesheet every document links (base.css) rebuilds everything.
    base = project_copy / "styles/base.css"
    base.write_text(base.read_text(encoding="utf-8") + "\n.unused-rule { color: #000; }\n", encoding="utf-8")
    assert len(build(project_copy, **selection).rendered) == 4


def test_strict_fails_a_cached_file_with_warnings_without_rendering_it(project_copy):
    sheet = project_copy / "styles/leaflet.css"
    sheet.write_text(sheet.read_text(encoding="utf-8") + "\n.x { colour: red; }\n", encoding="utf-8")
    first = build(project_copy, products=("leaflet-parents",), variants=("screen",))
    assert first.results[0].warnings, "the unknown CSS property should give a warning"
    result = cli(project_copy, "build", "--product", "leaflet-parents", "--variant", "screen", "--strict")
    assert result.exit_code == 1
    assert "0 built, 0 unchanged, 1 failed" in result.output
    assert "FAILED: output/da/leaflet-parents.screen.pdf (leaflet-parents / da / screen): warning (--strict):" \
        in result.stderr


def test_files_whose_inputs_changed_are_reported_out_of_date(project_copy):
    build(project_copy, products=("leaflet-parents",), variants=("screen",), institutions=(INSTITUTION,))
    brand = project_copy / "content/brand.yaml"
    text = brand.read_text(encoding="utf-8")
    assert '{rgb: "#0077ad"' in text
    brand.write_text(text.replace('{rgb: "#0077ad"', '{rgb: "#006a9a"', 1), encoding="utf-8")
    result = cli(project_copy, "build", "--product", "leaflet-parents", "--variant", "screen")
    assert result.exit_code == 0, result.output
    rel = f"da/institutions/{INSTITUTION}/leaflet-parents.screen.pdf"
    assert f"out of date: output/{rel} (its inputs changed; build it again to update it)" in result.output
    assert manifest(project_copy)[rel]["status"] == "out-of-date"
    assert manifest(project_copy)["da/leaflet-parents.screen.pdf"]["status"] == "approved"
    build(project_copy, products=("leaflet-parents",), variants=("screen",), institutions=(INSTITUTION,))
    assert manifest(project_copy)[rel]["status"] == "approved"


def test_a_booklet_trim_is_its_sheet(built):
    entries = manifest(built)
    assert entries["da/leaflet-parents.booklet.pdf"]["trim_mm"] == [297.0, 210.0]
    assert entries["da/policy.booklet.pdf"]["trim_mm"] == [297.0, 210.0]
    assert entries["da/leaflet-parents.screen.pdf"]["trim_mm"] == [148.0, 210.0]
