"""The pack in four languages: translation ids, status, the stale flip, PO round trip,
missing entries, the draft watermark, Arabic right to left, a fifth language from data."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from pypdf import PdfReader

from conftest import FIXTURES
from policyprint import build, translations, verapdf
from policyprint.cli import main
from policyprint.errors import BuildError
from policyprint.project import load_project

LANGS = ("en", "uk", "ar")
DRAFT = {"en": "DRAFT", "uk": "ЧЕРНЕТКА", "ar": "مسودة"}


def test_ids_are_dotted_paths_named_by_list_ids():
    project = load_project(Path(__file__).resolve().parent.parent)
    texts = translations.source_texts(project)
    assert len(texts) == 169
    for ident in ("policy.meta.title", "policy.meta.keywords.0",
                  "policy.sections.vision.lists.vision.items.vision-faellesskaber.text",
                  "policy.age_bands.bands.dagtilbud.label", "leaflets.youth.blocks.1.text.0",
                  "posters.vision.kicker", "products.leaflet-parents.title", "site.publisher.logo_alt"):
        assert ident in texts
    item = texts["policy.sections.vision.lists.vision.items.vision-faellesskaber.text"]
    assert item.text.startswith("Alle børn og unge skal kunne indgå")
    assert translations.where_source(project, item).startswith("content/policy.yaml:")


@pytest.mark.parametrize("lang", LANGS)
def test_every_language_has_every_entry_as_a_draft(lang):
    project = load_project(Path(__file__).resolve().parent.parent)
    states = translations.entry_states(project, lang)
    assert {s.state for s in states.values()} == {"draft"}   # nobody here can approve
    assert translations.unknown_ids(project, lang) == []


def _approve(root: Path, lang: str, ids: set[str]) -> None:
    project = load_project(root)
    src = project.translations[lang]
    texts = translations.source_texts(project)
    changed = {i: {**src.data[i], "status": "approved", "approved_by": "Test Person",
                   "date": __import__("datetime").date(2026, 2, 1)} for i in ids}
    translations.write_entries(root / src.file, changed, list(texts))


def _texts(pdf: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(pdf).pages]


def manifest_entry(root: Path, rel: str) -> dict:
    data = json.loads((root / "output/manifest.json").read_text(encoding="utf-8"))
    entries = data["artifacts"]
    if isinstance(entries, dict):
        return entries[rel]
    return next(e for e in entries if e["path"] == rel)


def test_approved_file_has_no_watermark_and_turns_stale_after_a_danish_edit(project_copy):
    root = project_copy
    project = load_project(root)
    from policyprint.render import Renderer

    used = Renderer(project).used_ids("leaflet-youth")
    _approve(root, "en", used)
    pdf = root / "output/en/leaflet-youth.screen.pdf"
    report = build(root, products=("leaflet-youth",), langs=("en",), variants=("screen",), strict=True)
    assert all(r.ok for r in report.results)
    reader = PdfReader(pdf)
    assert reader.metadata.title == "Children and Youth Policy – for 13 to 25-year-olds" or \
        not reader.metadata.title.endswith("DRAFT")
    assert not any("DRAFT" in text for text in _texts(pdf))
    assert manifest_entry(root, "en/leaflet-youth.screen.pdf")["status"] == "approved"

    # The Danish source of the youth cover changes: the English entry is stale at once.
    leaflets = root / "content/leaflets.yaml"
    old = "Alle skal have et sted at høre til. Her kan du læse, hvad det betyder for dig."
    leaflets.write_text(leaflets.read_text(encoding="utf-8").replace(old, old + " Læs med."), encoding="utf-8")
    danish_line = next(n for n, line in enumerate(leaflets.read_text(encoding="utf-8").splitlines(), 1)
                       if "Læs med." in line)
    result = CliRunner().invoke(main, ["--root", str(root), "check"])
    assert result.exit_code == 0, result.output
    en_line = next(n for n, line in enumerate((root / "content/translations/en.yaml").read_text(
        encoding="utf-8").splitlines(), 1) if line == "leaflets.youth.cover.text.0:")
    assert (f"content/translations/en.yaml:{en_line}: leaflets.youth.cover.text.0: en stale: the Danish changed "
            f"since it was translated (Danish: content/leaflets.yaml:{danish_line})") in result.output

    report = build(root, products=("leaflet-youth",), langs=("en",), variants=("screen",))
    texts = _texts(pdf)
    assert len(texts) == 4 and all("DRAFT" in text for text in texts)   # every page
    assert PdfReader(pdf).metadata.title.endswith(" – DRAFT")
    assert manifest_entry(root, "en/leaflet-youth.screen.pdf")["status"] == "draft"
    # The watermark is an artifact: the tagged file still passes PDF/UA-1.
    verdicts = verapdf.validate([pdf], "ua1", cache=Path(__file__).resolve().parent.parent / ".cache")
    assert [(v.passed, v.failures) for v in verdicts] == [(True, [])]
    with pytest.raises(BuildError, match="draft translation"):
        build(root, products=("leaflet-youth",), langs=("en",), variants=("screen",), strict=True)


def test_a_missing_entry_fails_that_product_only(project_copy):
    root = project_copy
    path = root / "content/translations/en.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("leaflets.parents.cover.kicker:\n")
    end = text.index("leaflets.parents.cover.title:\n")
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    with pytest.raises(BuildError) as caught:
        build(root, products=("leaflet-parents", "leaflet-youth"), langs=("en",), variants=("screen",))
    report = caught.value.report
    failed = {r.job.product: r.errors for r in report.results if not r.ok}
    assert list(failed) == ["leaflet-parents"]
    assert failed["leaflet-parents"] == [
        "1 translation(s) missing in content/translations/en.yaml: leaflets.parents.cover.kicker"]
    assert (root / "output/en/leaflet-youth.screen.pdf").is_file()
    assert not (root / "output/en/leaflet-parents.screen.pdf").exists()
    result = CliRunner().invoke(main, ["--root", str(root), "check"])
    assert "content/translations/en.yaml: leaflets.parents.cover.kicker: en missing (Danish: content/leaflets.yaml:" \
        in result.output


def test_po_export_import_round_trip(project_copy, tmp_path):
    root = project_copy
    yaml_path = root / "content/translations/uk.yaml"
    yaml_path.write_text(yaml_path.read_text(encoding="utf-8").replace(
        "policy.meta.subtitle:\n", "# Checked with the Ukrainian community worker.\npolicy.meta.subtitle:\n"),
        encoding="utf-8")
    # Make one entry stale: the Danish of the title changes.
    policy = root / "content/policy.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace(
        "  title: Børne- og Ungepolitik\n", "  title: Børne- og ungepolitik\n", 1), encoding="utf-8")
    po = tmp_path / "uk.po"
    result = CliRunner().invoke(main, ["--root", str(root), "translations", "export", "--lang", "uk", "-o", str(po)])
    assert result.exit_code == 0, result.output
    import polib

    entries = {e.msgctxt: e for e in polib.pofile(str(po))}
    assert len(entries) == 169
    assert entries["policy.meta.title"].msgid == "Børne- og ungepolitik"
    assert "fuzzy" in entries["policy.meta.title"].flags           # stale
    assert "fuzzy" not in entries["policy.meta.subtitle"].flags    # draft, current
    before = yaml_path.read_text(encoding="utf-8")
    # A translator changes one entry and confirms the stale one.
    entries["posters.vision.kicker"].msgstr = "Бачення спільнот"
    entries["policy.meta.title"].flags.remove("fuzzy")
    pofile = polib.pofile(str(po))
    for e in pofile:
        e.msgstr, e.flags = entries[e.msgctxt].msgstr, entries[e.msgctxt].flags
    pofile.save(str(po))
    result = CliRunner().invoke(main, ["--root", str(root), "translations", "import", str(po)])
    assert result.exit_code == 0, result.output
    assert "changed: posters.vision.kicker" in result.output
    assert "confirmed: policy.meta.title" in result.output
    assert "uk: 0 new, 1 changed, 1 confirmed" in result.output
    after = yaml_path.read_text(encoding="utf-8")
    assert "# Checked with the Ukrainian community worker.\npolicy.meta.subtitle:\n" in after
    changed = [a for a, b in zip(before.splitlines(), after.splitlines()) if a != b]
    assert len(before.splitlines()) == len(after.splitlines())
    assert len(changed) == 2   # the kicker's text and the title's fingerprint; nothing else
    project = load_project(root)
    states = translations.entry_states(project, "uk")
    assert states["policy.meta.title"].state == "draft"
    assert project.translations["uk"].data["posters.vision.kicker"]["text"] == "Бачення спільнот"
    # A second import of the same file changes nothing.
    result = CliRunner().invoke(main, ["--root", str(root), "translations", "import", str(po)])
    assert "uk: 0 new, 0 changed, 0 confirmed" in result.output
    assert yaml_path.read_text(encoding="utf-8") == after


def test_translations_table():
    result = CliRunner().invoke(main, ["--root", str(Path(__file__).resolve().parent.parent), "translations"])
    assert result.exit_code == 0, result.output
    assert "en (English): content/translations/en.yaml" in result.output
    assert re.search(r"leaflet-parents\s+33\s+0\s+33\s+0\s+0", result.output)
    assert re.search(r"\(all texts\)\s+169\s+0\s+169\s+0\s+0", result.output)


@pytest.mark.parametrize("lang", LANGS)
def test_translated_files_carry_their_language_title_and_watermark(built, lang):
    for product in ("leaflet-parents", "leaflet-staff", "leaflet-youth", "policy", "poster-vision"):
        pdf = built / f"output/{lang}/{product}.screen.pdf"
        reader = PdfReader(pdf)
        assert str(reader.trailer["/Root"]["/Lang"]) == lang
        assert reader.metadata.title.endswith(f" – {DRAFT[lang]}")
        expected = {"policy": {"en": 14, "uk": 13, "ar": 12}[lang]}.get(product, 4 if "leaflet" in product else 1)
        assert len(reader.pages) == expected


def test_translated_screen_files_pass_verapdf(built):
    paths = sorted((built / "output").glob("[eua][nkr]/*.screen.pdf"))
    assert len(paths) == 30
    for flavour in ("ua1", "2a"):
        verdicts = verapdf.validate(paths, flavour, cache=built / ".cache")
        assert [(v.passed, v.failures) for v in verdicts] == [(True, [])] * len(paths), flavour


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00ad", "")).strip()


def test_arabic_text_extracts_as_written(built):
    """Every Arabic paragraph a file shows is in the text pypdf extracts from it, letter for
    letter (IBM Plex Sans Arabic; Noto Sans Arabic's ToUnicode map turned ف into ن)."""
    project = load_project(built)
    from policyprint.render import Renderer

    renderer = Renderer(project)
    ar = project.translations["ar"].data
    for pdf in sorted((built / "output/ar").glob("*.screen.pdf")):
        product = pdf.name.split(".")[0]
        extracted = _flat(" ".join(_texts(pdf)))
        words = set(extracted.split())
        for ident in renderer.used_ids(product):
            if ".age_bands." in ident or ident.startswith(("products.", "policy.meta.keywords", "policy.meta.subject")):
                continue   # diagram labels are drawn (the figure's alt text carries them); metadata
            for sentence in re.split(r"(?<=[.!؟:])\s+", ar[ident]["text"]):
                for word in re.findall(r"[\u0600-\u06ff]+", sentence):
                    assert word in words or word in extracted, (pdf.name, ident, word)
    assert "طفل" in _flat(" ".join(_texts(built / "output/ar/leaflet-parents.screen.pdf")))


def test_arabic_phone_number_stays_on_one_line(built):
    back = _texts(built / "output/ar/leaflet-parents.screen.pdf")[3]
    assert any("44 77 20 00" in line for line in back.splitlines()), back
    html = (built / "templates/partials/blocks.html.j2").read_text(encoding="utf-8")
    assert '<span class="ltr" dir="ltr">' in html


def test_fifth_language_from_data_only(project_copy):
    """Turkish, added from a fixture with no code change, builds its youth leaflet."""
    root = project_copy
    fixture = FIXTURES / "turkish"
    (root / "content/languages.yaml").write_text(
        (root / "content/languages.yaml").read_text(encoding="utf-8")
        + (fixture / "languages-entry.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    shutil.copy(fixture / "strings-tr.yaml", root / "content/strings/tr.yaml")
    shutil.copy(fixture / "translations-tr.yaml", root / "content/translations/tr.yaml")
    build(root, products=("leaflet-youth",), langs=("tr",), variants=("screen",))
    pdf = root / "output/tr/leaflet-youth.screen.pdf"
    reader = PdfReader(pdf)
    assert str(reader.trailer["/Root"]["/Lang"]) == "tr"
    assert len(reader.pages) == 4
    text = _flat(" ".join(_texts(pdf)))
    assert "Herkes için topluluklar" in text
    assert reader.metadata.title.endswith(" – TASLAK")
