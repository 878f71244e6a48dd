"""The pack in four languages: translation ids, status, the stale flip, PO round trip,
missing entries, the draft watermark, Arabic right to left, a fifth language from data."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
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
    assert len(texts) == 171
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


def test_approved_file_has_no_watermark_and_turns_stale_after_a_danish_edit(languages_copy):
    root = languages_copy
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


def test_a_missing_entry_fails_that_product_only(languages_copy):
    root = languages_copy
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


def test_po_export_import_round_trip(languages_copy, tmp_path):
    root = languages_copy
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
    assert len(entries) == 171
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
    assert re.search(r"leaflet-parents\s+35\s+0\s+35\s+0\s+0", result.output)
    assert re.search(r"\(all texts\)\s+171\s+0\s+171\s+0\s+0", result.output)


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


# An Arabic word or a number: what a reader hears, in the order written.
_WORD = re.compile(r"[\u0600-\u06ff]+|[0-9]+")


def _printed(typeset, text: str) -> str:
    """A translation as the typesetter prints it: its quotation marks and dashes, without its
    markup (**…**), its spans and its word joiners (U+2060, which print nothing), white space
    made one space."""
    import html

    marked = re.sub(r"<br>", " ", str(typeset(text)))   # a line break is white space
    return _flat(html.unescape(re.sub(r"<[^>]+>", "", marked)).replace("\u2060", ""))


def test_arabic_text_extracts_as_written(built):
    """Every translated sentence of every Arabic file (screen, print and booklet) is found in
    the text pypdf extracts.

    The only normalisation: runs of white space (line ends, spaces) are one space, and the
    sentence is compared as printed (quotation marks «…», en dashes, no markup); a screen
    reader reads a line end as a space, and reads the marks that are printed.

    Every sentence is found exactly. pypdf reverses each right-to-left run of a text box, but
    takes a neutral character at the box's visual start (its last character) in the direction
    of the box extracted before it: the typesetter sets a full stop, a guillemet, and the space
    before a Latin name or a number as boxes of their own (the space read "من 0 إلى25"). And
    pypdf reads a kerning gap of nearly half a space as a word gap, added at the end of the
    box ("أكثر ."): such gaps are glyph advances (fonts.widen_kerned_glyphs, tested below).
    No glyph maps to another letter or to two letters (see the next test). When a sentence is
    not found exactly, the words and numbers are looked for in order, to tell a misplaced
    neutral character from a lost word. The press files are untagged: their text boxes are
    text objects of their own all the same (press._text_object_per_box), or pypdf read boxes
    drawn one after another as one run (75 of 212 sentences exact)."""
    project = load_project(built)
    from policyprint.render import Renderer

    renderer = Renderer(project)
    typeset = renderer.typesetter("ar")
    ar = project.translations["ar"].data
    page_word = renderer.strings("ar")["page"]   # صفحة
    exact, inexact, variants = 0, [], set()
    for pdf in sorted((built / "output/ar").glob("*.pdf")):
        variants.add(pdf.name.split(".")[-2])
        product = pdf.name.split(".")[0]
        # The running footer's line ("صفحة 6 من 12 سياسة الأطفال والشباب", an artifact a screen
        # reader skips) is left out, so that a sentence that runs over a page break is found whole.
        extracted = _flat(" ".join(line for text in _texts(pdf) for line in text.splitlines()
                                   if not (page_word in line and re.search(r"\d", line) and len(line.split()) <= 8)))
        assert not re.search("[\ufb50-\ufdff\ufe70-\ufeff]", extracted), pdf.name
        words = " " + " ".join(_WORD.findall(extracted)) + " "
        for ident in sorted(renderer.used_ids(product)):
            if ".age_bands." in ident or ident.endswith(".concept") or ident.startswith(
                    ("products.", "policy.meta.keywords", "policy.meta.subject")):
                continue   # diagram labels are outlines (the figure's alt text carries them); class names; metadata
            sentence = _printed(typeset, ar[ident]["text"])
            if sentence in extracted:
                exact += 1
                continue
            assert " " + " ".join(_WORD.findall(sentence)) + " " in words, (pdf.name, ident, sentence)
            inexact.append((pdf.name, ident))
    assert variants == {"screen", "print", "booklet"}, variants
    assert exact > 600 and not inexact, (exact, inexact)   # 3 × 212; screen 202 before the space boxes and wider glyphs
    assert "طفل" in _flat(" ".join(_texts(built / "output/ar/leaflet-parents.screen.pdf")))


def test_arabic_glyphs_stand_for_one_letter_each(built):
    """No glyph of an Arabic file stands for two letters: IBM Plex Sans Arabic's two-letter
    ligatures (lam-alef, noon-yeh, fa-yeh, …) are set as two glyphs (fonts.split_ligatures).
    A two-letter ToUnicode entry made pypdf move the pair out of its run ("إلى" read "إ … لى")
    and poppler reverse it ("في" read "يف", "الأطفال" read "األطفال")."""
    import subprocess

    for pdf in sorted((built / "output/ar").glob("*.screen.pdf")):
        reader = PdfReader(pdf)
        for page in reader.pages:
            for font in page["/Resources"].get("/Font", {}).values():
                font = font.get_object()
                if "/ToUnicode" not in font:
                    continue
                cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
                for target in re.findall(r"<[0-9a-fA-F]+>\s*<([0-9a-fA-F]{8,})>", cmap):
                    letters = bytes.fromhex(target).decode("utf-16-be")
                    assert not re.search("[\u0600-\u06ff]", letters), (pdf.name, font["/BaseFont"], letters)
        poppler = re.sub("[\u202a-\u202e]", "", subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout)
        assert "الأطفال" in poppler and "األطفال" not in poppler and "إىل" not in poppler, pdf.name


def test_arabic_kerning_gaps_are_glyph_advances_and_the_text_is_shaped_as_before(tmp_path):
    """WeasyPrint writes a kerning gap as a number in the TJ array, and pypdf reads a number of
    nearly half a space as a word gap (IBM Plex Sans Arabic opens "أكثر" by 140/1000 em
    between alef and kaf: pypdf read "أكثر ."). fonts.widen_kerned_glyphs sets each such
    right-to-left pair (from 0.4 space) as a wider copy of the second glyph. Every Arabic
    translation, shaped by HarfBuzz in every weight, has its glyphs where the kerned font put
    them (an empty ligature part aside: it draws nothing), and no glyph but a mark is moved
    that far any more."""
    import uharfbuzz as hb
    from fontTools.ttLib import TTFont

    from policyprint import fonts

    project = load_project(Path(__file__).resolve().parent.parent)
    texts = [entry["text"] for entry in project.translations["ar"].data.values()]

    def shaped(path: Path, text: str) -> list[tuple[str, int, int]]:
        font = hb.Font(hb.Face(hb.Blob.from_file_path(str(path))))
        buf = hb.Buffer()
        buf.add_str(text)
        buf.guess_segment_properties()
        hb.shape(font, buf, {})
        x, glyphs = 0, []
        for info, pos in zip(buf.glyph_infos, buf.glyph_positions):
            glyphs.append((info.codepoint, x + pos.x_offset, pos.x_offset))
            x += pos.x_advance
        return glyphs + [(-1, x, 0)]

    sources = [s for s in fonts.package_font_files("fontpkg_ibm_plex_sans_arabic")
               if fonts.static_weight(s.name) in fonts.WEIGHTS["normal"]]
    assert len(sources) >= 4
    for source in sources:
        font = TTFont(source)
        fonts.split_ligatures(font)
        font.save(tmp_path / "split.ttf")
        assert fonts.widen_kerned_glyphs(font) > 20, source.name
        font.save(tmp_path / "widened.ttf")
        widened = TTFont(tmp_path / "widened.ttf")
        names, classes = widened.getGlyphOrder(), widened["GDEF"].table.GlyphClassDef.classDefs
        least = 0.4 * widened["hmtx"]["space"][0]
        wider = 0
        for text in texts:
            before, after = shaped(tmp_path / "split.ttf", text), shaped(tmp_path / "widened.ttf", text)
            assert [x for g, x, _ in before if g < 0 or not names[g].endswith(".ligpart")] == \
                   [x for g, x, _ in after if g < 0 or not names[g].endswith(".ligpart")], (source.name, text)
            assert not [names[g] for g, _, offset in after if offset >= least and classes.get(names[g]) != 3], text
            wider += sum(".gap" in names[g] for g, _, _ in after if g >= 0)
        assert wider > 0, source.name   # the translations have such pairs ("أكثر")


def test_arabic_texts_end_with_two_words_on_their_last_line(built):
    """Arabic is not hyphenated, so a lone last word is common ("معا" alone under the vision
    poster's title): the typesetter keeps the last two words of a text together."""
    from policyprint.render import Renderer

    typeset = Renderer(load_project(built)).typesetter("ar")
    assert str(typeset("مجتمعات للجميع – الجميع معا", hyphenate=False)).endswith("الجميع \u2060معا")
    assert str(typeset("يجب أن تتاح لجميع الأطفال والشباب.")).count(" \u2060") >= 2   # أن too
    assert "\u2060" not in str(typeset("الرؤية"))
    title = subprocess.run(["pdftotext", "-l", "1", str(built / "output/ar/poster-vision.screen.pdf"), "-"],
                           capture_output=True, text=True, check=True).stdout
    lines = [line.strip("\u202b\u202c \u2060") for line in title.splitlines()]   # pdftotext's embedding marks
    assert "الجميع معا" in lines and "معا" not in lines, lines[:6]
    # A short left-to-right run in Arabic text is not broken either: "Ballerup / Kommune" split over
    # two lines of the brochure (the logo's two lines are the logo's own).
    for pdf in sorted((built / "output/ar").glob("*.screen.pdf")):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        for line in text.splitlines():
            line = line.strip("\u202a\u202b\u202c\u202d\u202e \u2060")
            assert not re.search(r"[\u0600-\u06ff].*\bBallerup$|^Kommune\b.*[\u0600-\u06ff]", line), (pdf.name, line)


def test_arabic_phone_number_stays_on_one_line(built):
    back = _texts(built / "output/ar/leaflet-parents.screen.pdf")[3]
    assert any("44 77 20 00" in line for line in back.splitlines()), back
    html = (built / "templates/partials/blocks.html.j2").read_text(encoding="utf-8")
    assert '<span class="ltr" dir="ltr">' in html


def test_fifth_language_from_data_only(languages_copy):
    """Turkish, added from a fixture with no code change, builds its youth leaflet."""
    root = languages_copy
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


def test_fit_failure_names_language_file_and_key(languages_copy):
    root = languages_copy
    path = root / "content/translations/en.yaml"
    project = load_project(root)
    lead = project.translations["en"].data["policy.sections.foraeldre.lead.0"]["text"]
    text = path.read_text(encoding="utf-8").replace(f"  text: {lead}\n", f"  text: {' '.join([lead] * 5)}\n", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BuildError) as caught:
        build(root, products=("leaflet-parents",), langs=("en",), variants=("screen",))
    errors = " ".join(e for r in caught.value.report.failed for e in r.errors)
    found = re.search(r"content/leaflets\.yaml:\d+: leaflets\.parents\.blocks\[(\d)\] \(in en: "
                      r"content/translations/en\.yaml:(\d+): leaflets\.parents\.blocks\.(\d)\.heading\): the text runs "
                      r"over the inside pages \(2–3\) from this block \('([^']+)'\) on", errors)
    assert found, errors
    block, line, block_again, heading = found.groups()
    assert block == block_again
    assert text.splitlines()[int(line) - 1] == f"leaflets.parents.blocks.{block}.heading:"
    assert heading == project.translations["en"].data[f"leaflets.parents.blocks.{block}.heading"]["text"]


def test_a_character_the_fonts_lack_is_found_in_a_translation(languages_copy):
    from fontTools.ttLib import TTFont

    from policyprint.validate import brand_font_files

    covered = set()
    for paths in brand_font_files(load_project(languages_copy)).values():
        for path in paths:
            covered |= set(TTFont(path, lazy=True).getBestCmap())
    # A letter outside the brand fonts (they cover Cyrillic in full: Georgian, Tibetan, Cherokee).
    lacking = next(chr(c) for c in [*range(0x10D0, 0x10FA), *range(0x0F40, 0x0F6C), *range(0x13A0, 0x13F5)]
                   if c not in covered)
    path = languages_copy / "content/translations/uk.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("  text: Політика щодо дітей і молоді\n", f"  text: Політика щодо дітей і молоді {lacking}\n", 1)
    path.write_text(text, encoding="utf-8")
    line = next(n for n, l in enumerate(text.splitlines(), 1) if lacking in l)
    result = CliRunner().invoke(main, ["--root", str(languages_copy), "check"])
    assert result.exit_code == 2
    assert (f"content/translations/uk.yaml:{line}: policy.meta.title.text: character '{lacking}' "
            f"(U+{ord(lacking):04X}) has no glyph in the brand fonts") in result.stderr


def test_every_ukrainian_character_has_a_glyph_in_the_brand_font():
    from fontTools.ttLib import TTFont

    from policyprint.fonts import package_font_files

    cmap = set()
    for path in package_font_files("fontpkg_noto_sans"):
        cmap |= set(TTFont(path, lazy=True).getBestCmap())
    root = Path(__file__).resolve().parent.parent
    used = set((root / "content/translations/uk.yaml").read_text(encoding="utf-8"))
    used |= set((root / "content/strings/uk.yaml").read_text(encoding="utf-8"))
    cyrillic = {ch for ch in used if "\u0400" <= ch <= "\u04ff"}
    assert len(cyrillic) > 50
    assert {ch for ch in cyrillic if ord(ch) not in cmap} == set()


def test_dates_and_page_labels_per_language(built):
    from policyprint.render import date_long

    import datetime as dt

    day = dt.date(2026, 1, 1)
    assert [date_long(day, loc).replace("\u00a0", " ").replace("\u202f", " ") for loc in ("da_DK", "en_GB", "uk_UA")] == \
        ["1. januar 2026", "1 January 2026", "1 січня 2026 р."]
    for lang, label in {"en": "Page 3 of 14", "uk": "Сторінка 3 з 13"}.items():
        page = _flat(_texts(built / f"output/{lang}/policy.screen.pdf")[2])
        assert page.endswith(label), (lang, page[-200:])
    # Arabic: "صفحة 3 من 12", set right to left in the left-hand margin box; pypdf gives the
    # runs of a mixed Arabic and digit line in another order, so its words are compared.
    footer = _texts(built / "output/ar/policy.screen.pdf")[2].splitlines()[-1]
    assert {"صفحة", "3", "12"} <= set(re.findall(r"[\u0600-\u06ff]+|\d+", footer)) and "من" in footer, footer
    back = _flat(_texts(built / "output/en/policy.screen.pdf")[-1])
    assert "1 January 2026" in back
    back = _flat(_texts(built / "output/uk/policy.screen.pdf")[-1]).replace("\u202f", " ")
    assert "1 січня 2026 р." in back and "р.." not in back   # the date's own full stop ends the sentence


def test_an_institution_gets_its_leaflets_in_the_languages_it_lists(languages_copy):
    """eksempel-boernehus lists `languages: [da, ar]`: its leaflet in Danish and Arabic only."""
    report = build(languages_copy, products=("leaflet-parents",), variants=("screen",),
                   institutions=("eksempel-boernehus",), only_institutions=True)
    assert sorted(str(r.job.path) for r in report.results) == [
        "ar/institutions/eksempel-boernehus/leaflet-parents.screen.pdf",
        "da/institutions/eksempel-boernehus/leaflet-parents.screen.pdf"]
    back = _texts(languages_copy / "output/ar/institutions/eksempel-boernehus/leaflet-parents.screen.pdf")[3]
    assert "11 22 33 44" in back and "Børnehuset Eksempel" in back


@pytest.mark.parametrize("first", ["leaflet-staff", "leaflet-parents"])
def test_a_translated_job_keeps_its_font_and_typography_when_its_ids_are_found_first(languages_copy, first):
    """A fresh renderer finds which translation ids a product uses by rendering the Danish
    product inside the Arabic job's render. The Arabic job must then still draw its diagram
    labels and watermark from the Arabic font (outlines) and set Arabic quotation marks.
    Before: the nested Danish render left the Latin font behind, and every Arabic label and
    the watermark were empty groups."""
    from policyprint.plan import Job
    from policyprint.render import Renderer

    renderer = Renderer(load_project(languages_copy))
    html = renderer.html(Job(first, "ar", "screen"))
    assert renderer.font_role == "arabic"
    assert not re.search(r'<g fill="[^"]*"></g>', html)
    if first == "leaflet-staff":   # the age-band diagram: Arabic labels as glyph outlines
        svg = html[html.index('class="age-bands'):]
        assert svg[:svg.index("</svg>")].count("<path ") > 100
    assert not re.search("»[^«»]*«", html)   # Danish »quotes« stay in Danish; Arabic sets «…»


def test_each_language_is_typeset_by_its_own_typesetter_in_imported_templates(languages_copy):
    """Imported templates (partials/blocks.html.j2) keep, in their cached module, the `typo` filter
    they were first compiled with. Before: after a Danish render, English paragraphs got Danish
    »quotes« and Arabic ones the Danish hyphenation exceptions (each of "Ballerup" and "Kommune"
    in its own span, which the bidi layout then printed as "Kommune Ballerup")."""
    from policyprint.plan import Job
    from policyprint.render import Renderer

    renderer = Renderer(load_project(languages_copy))
    renderer.html(Job("policy", "da", "screen"))   # the partials are compiled for Danish first
    english = renderer.html(Job("policy", "en", "screen"))
    arabic = renderer.html(Job("policy", "ar", "screen"))
    assert "»" not in english and "«" not in english and "“" in english
    assert '<span class="nohyphen">Ballerup</span>' not in arabic
    assert "Ballerup Kommune" in arabic


def test_arabic_typesetter_boxes_runs_and_keeps_particles_with_their_word():
    """Right-to-left text: each Latin or digit run is a left-to-right box, each guillemet and
    punctuation mark a box (pypdf reads boxes in the order drawn), a short particle is kept
    with the next word by a word joiner, and no U+00A0 is set (pypdf reads it as a
    left-to-right letter and reorders the words around it)."""
    from policyprint.render import Renderer

    typeset = Renderer(load_project(Path(__file__).resolve().parent.parent)).typesetter("ar")
    html = str(typeset('أن نستقبل الأطفال في Ballerup Kommune من 0-25 سنة. "مجتمعات للجميع - الجميع معا"'))
    space = '<span>\u2060 </span>'   # the space before a box: a box of its own, drawn (see _RTL_SPACE)
    assert html == (f'أن \u2060نستقبل الأطفال في{space}<span dir="ltr" class="nowrap">Ballerup Kommune</span> من{space}'
                    f'<span dir="ltr">0–25</span> سنة<span>.</span>{space}<span>«</span>مجتمعات للجميع \u2060– الجميع '
                    '\u2060معا<span>»</span>')
    assert "\u00a0" not in str(typeset("في البيت - وفي المدرسة"))


def test_arabic_svg_labels_are_shaped_by_harfbuzz_in_bidi_order():
    """Diagram labels and the watermark: python-bidi orders the runs ("0–5" stays 0–5 at the
    right end of "0–5 سنوات"; it read "5–0" before), HarfBuzz shapes them with the font
    (lam-alef is the font's ligature glyph, not two letters side by side)."""
    from fontTools.ttLib import TTFont

    from policyprint import bidi
    from policyprint.render import Renderer

    renderer = Renderer(load_project(Path(__file__).resolve().parent.parent))
    renderer.font_role = "arabic"
    path = renderer._face_path(False)
    assert bidi.visual_runs("0–5 سنوات") == [(" سنوات", True), ("0–5", False)]
    glyphs, advance = bidi.shape("0–5 سنوات", path)
    assert [name for name, _, _ in glyphs[-3:]] == ["zero", "endash", "five"]
    assert [x for _, x, _ in glyphs] == sorted(x for _, x, _ in glyphs) and advance > 0
    cmap = TTFont(path).getBestCmap()
    lam_alef = [name for name, _, _ in bidi.shape("لا", path)[0]]
    assert cmap[ord("ل")] not in lam_alef and cmap[ord("ا")] not in lam_alef
    assert renderer.text_width("لا", 10) == bidi.width("لا", path, 10)
    svg = str(renderer.svg_label("مسودة", 0, 0, 10, "#000"))
    assert svg == str(renderer.svg_label("مسودة", 0, 0, 10, "#000")) and svg.count("<path ") == 5


def _chars(pdf: Path, page: int) -> list[tuple[str, tuple[float, float, float, float]]]:
    """The characters of a page with their boxes (left, bottom, right, top), in points."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        text = doc[page].get_textpage()
        return [(text.get_text_range(i, 1), text.get_charbox(i)) for i in range(text.count_chars())]
    finally:
        doc.close()


def test_arabic_leaflets_are_mirrored_where_the_review_found_them_left_to_right(built):
    """An Arabic reader's review: the parents' theme tiles ran left to right (1 at the top left),
    the commitment cards' numbers stood outside the cards at the right, and the URL under the
    back page's QR code ran out of the type area towards the page's left edge."""
    tiles = {ch: box for ch, box in _chars(built / "output/ar/leaflet-parents.screen.pdf", 1) if ch in "1234"}
    assert tiles["1"][0] > tiles["2"][0] and tiles["3"][0] > tiles["4"][0]      # 1 right of 2, 3 right of 4
    assert tiles["1"][1] > tiles["3"][1] and abs(tiles["1"][1] - tiles["2"][1]) < 1   # two rows of two

    chars = _chars(built / "output/ar/leaflet-staff.screen.pdf", 1)
    type_right = max(box[2] for ch, box in chars if "\u0600" <= ch <= "\u06ff")
    badges = [box for ch, box in chars if ch.isdigit()]
    assert len(badges) >= 9
    assert all(box[2] <= type_right - 4 for box in badges), (type_right, badges)   # inside the cards' padding

    # In every language (left to right, the URL ran 3 mm into the right-hand margin).
    for lang in ("ar", "da", "en", "uk"):
        for product in ("leaflet-parents", "leaflet-staff", "leaflet-youth"):
            chars = _chars(built / f"output/{lang}/{product}.screen.pdf", 3)
            text = "".join(ch for ch, _ in chars)
            start = text.index("ballerup.dk/boerne")
            url = [box for _, box in chars[start:start + len("ballerup.dk/boerne-og-ungepolitik")]]
            margin = 13 * 72 / 25.4   # the leaflets' page margin (styles/leaflet.css)
            assert min(box[0] for box in url) >= margin - 0.5, (lang, product)   # it was 12 pt from the edge
            assert max(box[2] for box in url) <= 419.53 - margin + 0.5, (lang, product)


def test_draft_watermark_is_drawn_over_the_content_as_an_artifact(built):
    """The watermark was the pages' background, hidden by every card and band of the posters:
    on a poster it is drawn over the content, as an artifact (no text, not read out). (A
    document of several pages keeps it as the background: tests/test_speed.py, the lists.)"""
    for lang, name in (("ar", "poster-vision"), ("ar", "poster-begreber"), ("en", "poster-foraeldre")):
        reader = PdfReader(built / f"output/{lang}/{name}.screen.pdf")
        for page in reader.pages:
            data = page.get_contents().get_data().decode("latin-1")
            # After every tagged content (marked with an MCID); only the running footer (an
            # artifact, in the margin) is drawn after it.
            last = data.rfind(" Do")
            assert last > data.rfind("/MCID"), name
            # Drawn inside an /Artifact marked-content sequence (here, or in the form it draws).
            before = data[:last]
            form = page["/Resources"]["/XObject"][re.findall(r"(/\S+) Do", data)[-1]].get_object()
            assert before.rfind("/Artifact") > before.rfind("EMC") or \
                re.search(rb"/Artifact\s+BMC", form.get_data()), name


def test_arabic_brochure_columns_fill_the_right_column_first(built):
    """The brochure's two-column running text ("Det gode børne- og ungeliv") and the lead
    beside the body (the vision) are mirrored: the section's first paragraph starts in the
    right column, and the vision's lead stands at the right of its commitments."""
    pdf = built / "output/ar/policy.screen.pdf"
    width = float(PdfReader(pdf).pages[0].mediabox.width)
    pages = _texts(pdf)
    for first, second in (("يتخذ اللعب", None), ("الانتماء إلى المجتمعات جزء", "تعني سياسة")):
        page = next(i for i, text in enumerate(pages) if first in _flat(text))
        chars = _chars(pdf, page)
        text = "".join(ch for ch, _ in chars)
        right = chars[text.index(first)][1][2]
        assert right > width / 2, first                                   # in the right-hand column
        if second:                                                        # right of the commitments
            assert right > chars[text.index(second)][1][2] + 50, (first, second)
