"""Screen files as a screen reader and a text extractor meet them (issue 11, points 9–14)."""

from __future__ import annotations

import html
import re
import subprocess

import pytest
from pypdf import PdfReader

from policyprint import verapdf
from test_policy_pdf import seed_sentences

POLICY = "output/da/policy.screen.pdf"
PAGE_LABEL = re.compile(r"Side \d+ af \d+")


def typeset(sentence: str) -> str:
    """A seed sentence as the typesetter publishes it: »« quotes, en dashes (issue 11, point 18).
    Soft hyphens are break points, not text: a reader never sees them."""
    from policyprint.render import Typesetter

    published = html.unescape(re.sub(r"<[^>]+>", "", Typesetter([])(sentence, hyphenate=False)))
    return " ".join(published.replace("\u00ad", "").split())


def whitespace_folded(text: str) -> str:
    return " ".join(text.split())


def structure_elements(reader: PdfReader) -> list:
    """Every structure element in the file, listed by a parent or not."""
    numbers = set(reader.xref_objStm) | {n for table in reader.xref.values() for n in table}
    found = []
    for number in sorted(numbers):
        obj = reader.get_object(number)
        if isinstance(obj, dict) and obj.get("/Type") == "/StructElem":
            found.append((number, obj))
    return found


def kids(element) -> list:
    k = element.get("/K")
    return k if isinstance(k, list) else [k] if k is not None else []


def walk(element):
    for kid in kids(element):
        obj = kid.get_object() if hasattr(kid, "get_object") else kid
        if isinstance(obj, dict) and "/S" in obj:
            yield obj
            yield from walk(obj)


def tagged_text(path) -> str:
    """The text a reader of the tags meets: marked content that is not an artifact, in order."""
    out = []
    for page in PdfReader(path).pages:
        stack: list[bool] = []

        def before(op, args, cm, tm):
            if op in (b"BDC", b"BMC"):
                stack.append(bool(args) and args[0] == "/Artifact" or any(stack))
            elif op == b"EMC" and stack:
                stack.pop()

        def text(t, cm, tm, font, size):
            if not any(stack):
                out.append(t)

        page.extract_text(visitor_operand_before=before, visitor_text=text)
        out.append("\n")
    return "".join(out)


# ---- 9: whole words in the text layer -----------------------------------------------

def test_pdftotext_has_every_seed_sentence_with_whole_words(built):
    text = subprocess.run(["pdftotext", str(built / POLICY), "-"], capture_output=True, text=True,
                          check=True).stdout
    # Poppler reads pagination artifacts as text, at the page end: drop those lines, which a
    # tag-aware reader skips (test_no_page_label_in_the_tagged_text), and nothing else.
    text = whitespace_folded(re.sub(r"(?m)^(Side \d+ af \d+|Børne- og Ungepolitik)$", "", text))
    missing = [s for s in map(typeset, seed_sentences()) if s not in text]
    assert missing == []


def test_automatic_hyphens_are_not_u2010_in_the_text_layer(built):
    text = "".join(page.extract_text() for page in PdfReader(built / POLICY).pages)
    assert "\u2010" not in text


# ---- 10: running heads and page numbers are artifacts ----------------------------------

def test_every_structure_element_is_listed_by_its_parent(built):
    orphans = []
    for path in sorted((built / "output").rglob("*.screen.pdf")):
        reader = PdfReader(path)
        for number, element in structure_elements(reader):
            parent = element["/P"].get_object()
            listed = [k.idnum for k in kids(parent) if hasattr(k, "idnum")]
            if number not in listed:
                orphans.append(f"{path.name}: {element['/S']} {number} (parent {parent.get('/S')})")
    assert orphans == []


def test_no_page_label_in_the_tagged_text(built):
    text = tagged_text(built / POLICY)
    assert PAGE_LABEL.findall(text) == []
    # … while the pages still show them.
    assert "Side 6 af 12" in PdfReader(built / POLICY).pages[5].extract_text()


# ---- 11: one link per contents entry, described in words -------------------------------

def test_contents_has_one_link_per_entry_described_in_words(built):
    reader = PdfReader(built / POLICY)
    links = [a.get_object() for a in reader.pages[1].get("/Annots", [])]
    assert [str(a["/Contents"]) for a in links] == [
        "Visionen om deltagelse i fællesskaber, side 3",
        "Sådan forstår vi fællesskaber, side 4",
        "Det gode børne- og ungeliv, side 6",
        "Det fælles børne- og ungesyn, side 8",
        "Samarbejdet med forældrene, side 9",
        "I Ballerup Kommune arbejder vi på denne måde, side 10",
        "Forpligtende samarbejder, side 11",
    ]
    tops = [float(a["/Rect"][3]) for a in links]
    bottoms = [float(a["/Rect"][1]) for a in links]
    assert all(b >= t for b, t in zip(bottoms, tops[1:])), "entries' links overlap"


def test_contents_is_tagged_toc_and_toci(built):
    reader = PdfReader(built / POLICY)
    root = reader.trailer["/Root"]["/StructTreeRoot"]
    tocs = [e for e in walk(root) if e["/S"] == "/TOC"]
    assert len(tocs) == 1
    items = [k.get_object() for k in kids(tocs[0])]
    assert [i["/S"] for i in items] == ["/TOCI"] * 7
    for item in items:
        assert [e["/S"] for e in walk(item)] == ["/Reference", "/Link"]


# ---- 12: a list or paragraph split by a break is one element ----------------------------

def _lists(path) -> list[int]:
    root = PdfReader(path).trailer["/Root"]["/StructTreeRoot"]
    return [sum(1 for k in kids(e) if k.get_object().get("/S") == "/LI") for e in walk(root) if e["/S"] == "/L"]


def test_parents_themes_are_one_list_of_four(built):
    # "Fire temaer" runs from page 2 to page 3; a reader must meet one list of four.
    assert 4 in _lists(built / "output/da/leaflet-parents.screen.pdf")
    assert 1 not in _lists(built / "output/da/leaflet-parents.screen.pdf")


def test_no_paragraph_is_split_in_two_elements(built):
    reader = PdfReader(built / POLICY)
    root = reader.trailer["/Root"]["/StructTreeRoot"]
    starts = []
    for element in walk(root):
        if element["/S"] == "/P":
            objs = [kid.get_object() if hasattr(kid, "get_object") else kid for kid in kids(element)]
            pages = {o.raw_get("/Pg").idnum for o in objs if isinstance(o, dict) and "/Pg" in o}
            starts.append(len(pages))
    # A paragraph continued on the next page or column is one P with content on both pages.
    assert max(starts) >= 2


# ---- 13: figure boxes in PDF points --------------------------------------------------

@pytest.mark.parametrize("name", ["policy", "poster-vision", "leaflet-staff"])
def test_figure_boxes_lie_on_their_page_in_points(built, name):
    reader = PdfReader(built / f"output/da/{name}.screen.pdf")
    root = reader.trailer["/Root"]["/StructTreeRoot"]
    figures = [e for e in walk(root) if e["/S"] == "/Figure"]
    assert figures
    for figure in figures:
        page = figure["/Pg"].get_object()
        width, height = float(page["/MediaBox"][2]), float(page["/MediaBox"][3])
        x1, y1, x2, y2 = (float(v) for v in figure["/A"]["/BBox"])
        assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height, (name, figure.get("/Alt"), [x1, y1, x2, y2])
    # The poster's QR code sits in the lower part of the page: y grows upwards.
    if name == "poster-vision":
        qr = next(f for f in figures if "QR" in str(f.get("/Alt")))
        assert float(qr["/A"]["/BBox"][3]) < float(figures[0]["/Pg"].get_object()["/MediaBox"][3]) / 2


# ---- 14: PDF/A-2a and PDF/UA-1 in every screen file -------------------------------------

def test_screen_files_claim_pdf_a_2a_and_pdf_ua_1_in_one_rdf_block(built):
    for path in sorted((built / "output").rglob("*.screen.pdf")):
        xmp = PdfReader(path).trailer["/Root"]["/Metadata"].get_object().get_data().decode()
        assert xmp.count("<rdf:RDF") == 1, path
        assert 'pdfaid:part="2"' in xmp and 'pdfaid:conformance="A"' in xmp, path
        assert 'pdfuaid:part="1"' in xmp, path
        assert "<pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>" in xmp, path


def test_every_screen_file_passes_verapdf_pdf_ua_1_and_pdf_a_2a(built):
    paths = sorted((built / "output").rglob("*.screen.pdf"))
    assert len(paths) >= 10
    for flavour in ("ua1", "2a"):
        verdicts = verapdf.validate(paths, flavour, cache=built / ".cache")
        failed = [(v.path, v.failures[:3]) for v in verdicts if not v.passed]
        assert failed == [], flavour


# ---- 20: leaflets and posters use their space ---------------------------------------------

def _render(root, product: str):
    from policyprint.plan import Job
    from policyprint.project import load_project
    from policyprint.runner import JobRunner

    runner = JobRunner(load_project(root))
    job = Job(product, "da", "screen")
    result, _ = runner.run(job)
    return result, runner


def test_half_empty_inside_page_fails_the_leaflet(project_copy):
    from policyprint import build
    from policyprint.errors import BuildError

    path = project_copy / "content/leaflets.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("        new_page: true\n", "", 1), encoding="utf-8")
    with pytest.raises(BuildError) as err:
        build(project_copy, products=("leaflet-parents",), variants=("screen",))
    assert re.search(r"leaflet-parents / da / screen: content/leaflets\.yaml:\d+: leaflets\.parents\.blocks: "
                     r"page 3 fills \d+% of its type area, under 60%; balance the inside spread, or list the "
                     r"page under leaflets\.parents\.breathe if it is designed to breathe", str(err.value))


def test_a_page_designed_to_breathe_may_stay_light(project_copy):
    from policyprint import build

    path = project_copy / "content/leaflets.yaml"
    text = path.read_text(encoding="utf-8").replace("        new_page: true\n", "", 1)
    path.write_text(text.replace("  parents:\n", "  parents:\n    breathe: [3]\n", 1), encoding="utf-8")
    build(project_copy, products=("leaflet-parents",), variants=("screen",))


def test_poster_text_running_under_the_footer_fails(project_copy):
    template = project_copy / "templates/poster.html.j2"
    text = template.read_text(encoding="utf-8")
    template.write_text(re.sub(r"format\([\d.]+ \* fit_pt", "format(4.0 * fit_pt", text), encoding="utf-8")
    result, _ = _render(project_copy, "poster-boernesyn")
    assert any(re.fullmatch(r"page 1: the text runs \d+\.\d mm under the footer rule; the footer's room "
                            r"\(\.poster-foot-space\) is too small", e) for e in result.errors), result.errors


def test_begreber_poster_uses_its_page(project_copy):
    from policyprint.plan import Job

    _, runner = _render(project_copy, "poster-vision")
    rendered, errors = runner.render_fitted(Job("poster-begreber", "da", "screen"))
    assert errors == []
    places = rendered.anchor_y
    top, end, foot = (places[i][1] for i in ("poster-body", "poster-body-end", "poster-foot"))
    # Between the header band and the footer rule, the text takes at least 92 % of the height
    # (as three plain paragraphs it stopped at 85 %, at the brand's maximum size of 40 pt).
    assert (end - top) / (foot - top) >= 0.92, (top, end, foot)
