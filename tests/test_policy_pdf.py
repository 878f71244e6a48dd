"""The full policy brochure: pages, text, contents, metadata, fonts, tags, PDF/UA-1."""

from __future__ import annotations

import re

import pytest
from pypdf import PdfReader

from conftest import FIXTURES, FOOTER_RE, flow_text, normalise, page_texts
from policyprint import finish, verapdf

PDF = "output/da/policy.screen.pdf"
SEED = FIXTURES / "seed" / "policy-clean.txt"


# The seed's display titles keep the original's line-break hyphens
# ("Unge- politik", "fælles- skaber"). A Danish compound hyphen is followed by
# "og"/"eller" ("Børne- og"); any other "- " inside a word is a line break.
LINE_BREAK_HYPHEN = re.compile(r"(?<=\w)- (?!og\b|eller\b)(?=[a-zæøå])")


def seed_sentences() -> list[str]:
    """Every sentence of the municipality's clean text, minus the contents list."""
    paragraphs, current, previous = [], [], ""
    for raw in SEED.read_text(encoding="utf-8").splitlines():
        line = raw.replace("**", "").strip()
        if "\t" in raw:  # the contents list: checked by test_contents_page_numbers
            continue
        # A list item is its own unit; "- " only marks a bullet at the start of a list.
        item = re.match(r"^(?:- |\d+\. )(.*)", line)
        if item and (not previous or re.match(r"^(?:- |\d+\. )", previous)):
            paragraphs += [" ".join(current), item.group(1)]
            current = []
        elif not line:
            paragraphs.append(" ".join(current))
            current = []
        else:
            current.append(line)
        previous = line
    paragraphs.append(" ".join(current))
    sentences = []
    from policyprint.render import dashes

    for para in paragraphs:
        # The typesetter sets the municipality's hyphens as en dashes where Danish typography
        # wants them (0–25 år, "livsduelighed – at"): the expected text is the seed, typeset.
        para = normalise(dashes(LINE_BREAK_HYPHEN.sub("", normalise(para))))
        if para:
            sentences += [s for s in re.split(r"(?<=[.:;?!])\s+(?=[A-ZÆØÅ\"»])", para) if s]
    return sentences


def test_twelve_a4_pages(built):
    reader = PdfReader(built / PDF)
    assert len(reader.pages) == 12
    for page in reader.pages:
        assert finish.trim_size_mm(page) == (210.0, 297.0)
        assert [round(float(v), 1) for v in page.mediabox] == [0.0, 0.0, 595.3, 841.9]


def test_every_sentence_of_the_seed_is_in_the_pdf(built):
    text = flow_text(built / PDF)
    sentences = seed_sentences()
    assert len(sentences) > 120 and "Det illustrerer vi således:" in sentences   # the seed was read
    missing = [s for s in sentences if s not in text]
    assert missing == []


def test_quotes_are_danish(built):
    text = " ".join(page_texts(built / PDF))
    assert "»Fællesskaber for alle – Alle i fællesskab«" in text.replace("\n", " ")
    assert '"' not in text


def test_contents_page_numbers_are_the_heading_pages(built):
    pages = page_texts(built / PDF)
    toc = FOOTER_RE.sub("", pages[1])
    assert toc.startswith("Indhold")
    entries = re.findall(r"^(.+?)\s*(\d+)$", toc, re.M)
    expected = {title.strip(): None for title, _ in entries}
    # The seed's contents list gives the original's pages; the layout must match it.
    for line in SEED.read_text(encoding="utf-8").splitlines():
        if "\t" in line:
            title, page = line.split("\t")
            assert title in expected, title
            expected[title] = int(page)
    assert len(entries) == 7
    for title, number in entries:
        heading_page = int(number)
        # The section's heading is the first text on the page it names.
        page_start = normalise(pages[heading_page - 1]).replace("\u00ad", "")
        assert page_start.startswith(normalise(title)), (title, heading_page, page_start[:80])
        if expected[title.strip()] is not None:
            assert heading_page == expected[title.strip()], title


def test_contents_numbers_come_from_the_layout(built):
    """The HTML the renderer makes has no page numbers in its contents: the layout fills them in
    (target-counter), and test_contents_page_numbers_are_the_heading_pages checks them in the PDF."""
    from policyprint.plan import Job
    from policyprint.project import load_project
    from policyprint.render import Renderer

    html = Renderer(load_project(built)).html(Job("policy", "da", "screen"))
    toc = re.search(r'<nav class="toc".*?</nav>', html, re.S).group(0)
    entries = re.findall(r'<a href="#([^"]+)"[^>]*>(.*?)</a>', toc, re.S)
    assert len(entries) == 7
    assert [re.sub(r"<[^>]+>", "", title) for _, title in entries if re.search(r"\d", re.sub(r"<[^>]+>", "", title))] == []


def test_footer_says_side_n_af_m(built):
    pages = page_texts(built / PDF)
    assert "Side 3 af 12" in pages[2]
    assert "Side 11 af 12" in pages[10]
    assert "Side" not in pages[0] and "Side" not in pages[11]   # covers have no footer


def test_metadata_language_title_and_viewer_prefs(built):
    reader = PdfReader(built / PDF)
    meta = reader.metadata
    assert meta.title == "Børne- og Ungepolitik: Fællesskaber for alle – Alle i fællesskab"
    assert meta.author == "Ballerup Kommune"
    assert meta.subject.startswith("Ballerup Kommunes politik for alle børn og unge")
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "da"
    assert root["/ViewerPreferences"]["/DisplayDocTitle"]
    assert "/StructTreeRoot" in root
    assert root["/MarkInfo"]["/Marked"]
    assert "/Encrypt" not in reader.trailer


def test_bookmarks_for_every_section(built):
    reader = PdfReader(built / PDF)
    titles = []

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                titles.append(item.title)
    walk(reader.outline)
    for title in ("Indhold", "Visionen om deltagelse i fællesskaber", "Det gode børne- og ungeliv",
                  "Dannelse", "Læring", "Trivsel", "Samarbejdet med forældrene",
                  "Forpligtende samarbejder"):
        assert title in titles


def test_all_fonts_embedded(built):
    reader = PdfReader(built / PDF)
    assert finish.check_fonts_embedded(reader) == []
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    # The brand's one family, in the weights the styles use; nothing else (no Noto Sans Thai, no fallback).
    assert {n.split("+", 1)[1] for n in names} == {"Noto-Sans", "Noto-Sans-Medium", "Noto-Sans-Semi-Bold",
                                                  "Noto-Sans-Bold", "Noto-Sans-Ultra-Bold"}, names
    assert all(re.fullmatch(r"/[A-Z]{6}\+[A-Za-z-]+", n) for n in names), names   # subsets


def _struct_types(reader) -> list[str]:
    found = []

    def walk(node):
        node = node.get_object()
        if hasattr(node, "get") and "/S" in node:
            found.append(str(node["/S"]).lstrip("/"))
        kids = node.get("/K") if hasattr(node, "get") else None
        if kids is None:
            return
        for kid in kids if isinstance(kids, list) else [kids]:
            if hasattr(kid.get_object(), "get"):
                walk(kid)
    walk(reader.trailer["/Root"]["/StructTreeRoot"])
    return found


def test_structure_has_headings_lists_and_figures(built):
    reader = PdfReader(built / PDF)
    types = _struct_types(reader)
    for tag in ("H1", "H2", "H3", "L", "LI", "Figure", "Link"):
        assert tag in types, tag


def test_figures_have_alt_text(built):
    reader = PdfReader(built / PDF)
    alts = []

    def walk(node):
        node = node.get_object()
        if not hasattr(node, "get"):
            return
        if node.get("/S") == "/Figure":
            alts.append(str(node.get("/Alt", "")))
        kids = node.get("/K")
        for kid in (kids if isinstance(kids, list) else [kids]) if kids is not None else []:
            walk(kid)
    walk(reader.trailer["/Root"]["/StructTreeRoot"])
    assert alts and all(alts), alts
    joined = " ".join(alts)
    assert "Den sammenhængende Børne- og Ungepolitik" in joined
    assert "Dagtilbud (0–5 år)" in joined
    assert "QR-kode" in joined
    assert "Ballerup Kommune" in joined


def test_passes_verapdf_pdf_ua_1(built):
    try:
        verdicts = verapdf.validate([built / PDF], "ua1", cache=built / ".cache")
    except verapdf.VeraPDFUnavailable as exc:
        pytest.fail(f"veraPDF must run in this suite: {exc}")
    assert [(v.passed, v.failures) for v in verdicts] == [(True, [])]
