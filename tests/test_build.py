"""Whole builds: the manifest, byte-identical rebuilds, the page plan gate, atomic output."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from click.testing import CliRunner

from policyprint import build
from policyprint.cli import main
from policyprint.errors import BuildError


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_manifest_describes_the_policy(built):
    manifest = json.loads((built / "output" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["tool"] == "policyprint 0.3.1"
    assert len(manifest["built_from"]) == 64
    entry = next(a for a in manifest["artifacts"] if a["path"] == "da/policy.screen.pdf")
    pdf = built / "output" / "da" / "policy.screen.pdf"
    assert entry["preflight"] == {"checks": ["page count", "page size", "fonts embedded", "brand fonts only",
                                             "text clear of text, rules and shapes", "no missing glyphs",
                                             "tags, language, title", "type sizes", "page plan"],
                                  "findings": []}
    del entry["preflight"]
    assert entry == {
        "path": "da/policy.screen.pdf", "product": "policy", "kind": "policy", "audience": None,
        "lang": "da", "variant": "screen", "institution": None, "status": "approved", "pages": 12, "marks": False,
        "trim_mm": [210.0, 297.0], "bytes": pdf.stat().st_size, "sha256": sha(pdf), "warnings": [],
        "type_pt": None}


def test_two_builds_are_byte_identical(built, project_copy):
    build(project_copy)
    first = built / "output" / "da" / "policy.screen.pdf"
    second = project_copy / "output" / "da" / "policy.screen.pdf"
    assert sha(first) == sha(second)


def test_overflowing_section_fails_and_keeps_the_earlier_pdf(project_copy):
    build(project_copy)
    pdf = project_copy / "output" / "da" / "policy.screen.pdf"
    before = sha(pdf)
    policy = project_copy / "content" / "policy.yaml"
    text = policy.read_text(encoding="utf-8")
    long = "Formålet er at tilgodese børn og unges aktuelle situation. " * 40
    text = text.replace("      - Formålet er at tilgodese", f"      - {long}\n      - Formålet er at tilgodese", 1)
    policy.write_text(text, encoding="utf-8")
    with pytest.raises(BuildError) as err:
        build(project_copy)
    message = str(err.value)
    assert "policy / da / screen: has 13 pages, expected exactly 12" in message
    page_line = next(n for n, line in enumerate(text.splitlines(), 1) if line == "    page: 9")
    assert (f"content/policy.yaml:{page_line}: sections[4].page: section 'foraeldre' starts on page 10, "
            "planned for page 9") in message
    assert sha(pdf) == before
    assert not list(pdf.parent.glob(".*.tmp"))
    assert (project_copy / ".cache" / "rejected" / "da" / "policy.screen.pdf").is_file()


def test_cli_build_exit_codes(project_copy):
    runner = CliRunner()
    ok = runner.invoke(main, ["--root", str(project_copy), "build", "--product", "policy"])
    assert ok.exit_code == 0, ok.output
    assert re.search(r"^da/policy\.screen\.pdf\s+12\s+\d+ KB\s+[\d.]+ s", ok.output, re.M)
    assert "3 file(s): 3 built, 0 unchanged, 0 failed" in ok.output
    bad = runner.invoke(main, ["--root", str(project_copy), "build", "--product", "nope"])
    assert bad.exit_code == 2
    assert "error: unknown product 'nope'; known: policy" in bad.stderr


def test_list_shows_planned_files(project_copy):
    result = CliRunner().invoke(main, ["--root", str(project_copy), "list"])
    assert result.exit_code == 0
    assert "output/da/policy.screen.pdf" in result.output.splitlines()


def test_manifest_lists_press_checks(built):
    manifest = json.loads((built / "output" / "manifest.json").read_text(encoding="utf-8"))
    entry = next(a for a in manifest["artifacts"] if a["path"] == "da/poster-vision.print.pdf")
    assert entry["variant"] == "print"
    assert entry["preflight"]["checks"][-11:] == [
        "trim and bleed boxes", "output intent", "no RGB", "images at 150 ppi or more", "output intent condition",
        "no annotations", "black text 100 % K overprinting, small text in one ink", "reversed text",
        "no unused colour spaces or transparency groups", "bleed", "type sizes"]


def test_an_upgraded_package_is_not_a_no_change_build(project_copy, tmp_path, monkeypatch):
    """The no-change fingerprint holds every watched package's version (read from the installed
    `<name>-<version>.dist-info` folders): an upgrade, here a newer WeasyPrint found first on the
    path, builds again. Every watched package is installed, the shaping libraries included."""
    import importlib
    import importlib.metadata

    from packaging.version import Version   # pytest's own dependency

    engine = importlib.import_module("policyprint.build")   # the module (policyprint.build is also the function)
    versions = dict(item.split("=") for item in engine.package_versions().split(";"))
    assert "missing" not in versions.values() and {"uharfbuzz", "python-bidi", "weasyprint"} <= set(versions)
    assert all(Version(versions[name]) == Version(importlib.metadata.version(name)) for name in versions)
    before = engine.fingerprint(project_copy, {}, "inputs")
    newer = tmp_path / "site-packages"
    (newer / "weasyprint-99.0.dist-info").mkdir(parents=True)
    monkeypatch.syspath_prepend(str(newer))
    assert "weasyprint=99.0" in engine.package_versions()
    assert engine.fingerprint(project_copy, {}, "inputs") != before
