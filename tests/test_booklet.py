"""Office-printer variant (booklet): sheets, page order per half-sheet, tiles, identical rebuilds."""

from __future__ import annotations

import hashlib
import subprocess

import pytest
from pypdf import PdfReader

from policyprint import build, finish
from policyprint.impose import saddle_stitch_order

SHEET_W, SHEET_H = 842, 595  # A4 landscape, points


def half_text(pdf, side: int, half: str) -> str:
    """The text on the left or right half of sheet side `side` (1-based), via poppler."""
    x = 0 if half == "left" else SHEET_W // 2
    out = subprocess.run(["pdftotext", "-f", str(side), "-l", str(side), "-x", str(x), "-y", "0",
                          "-W", str(SHEET_W // 2), "-H", str(SHEET_H), str(pdf), "-"],
                         capture_output=True, text=True, check=True)
    return " ".join(out.stdout.split())


def test_saddle_stitch_order_pads_to_a_multiple_of_four():
    assert saddle_stitch_order(8) == [[7, 0], [1, 6], [5, 2], [3, 4]]
    assert saddle_stitch_order(6) == [[None, 0], [1, None], [5, 2], [3, 4]]
    assert saddle_stitch_order(12)[:2] == [[11, 0], [1, 10]]


@pytest.mark.parametrize("product", ["leaflet-parents", "leaflet-staff", "leaflet-youth"])
def test_leaflet_is_one_duplex_sheet_4_1_then_2_3(built, product):
    pdf = built / f"output/da/{product}.booklet.pdf"
    reader = PdfReader(pdf)
    assert len(reader.pages) == 2
    assert {finish.trim_size_mm(p) for p in reader.pages} == {(297.0, 210.0)}
    screen = [" ".join(t.split()) for t in subprocess.run(
        ["pdftotext", str(built / f"output/da/{product}.screen.pdf"), "-"],
        capture_output=True, text=True, check=True).stdout.split("\f")]
    first_words = [" ".join(p.split()[:4]) for p in screen[:4]]
    assert first_words[3] in half_text(pdf, 1, "left")    # page 4 | page 1
    assert first_words[0] in half_text(pdf, 1, "right")
    assert first_words[1] in half_text(pdf, 2, "left")    # page 2 | page 3
    assert first_words[2] in half_text(pdf, 2, "right")


def test_policy_is_an_a5_booklet_in_saddle_stitch_order(built):
    pdf = built / "output/da/policy.booklet.pdf"
    reader = PdfReader(pdf)
    assert len(reader.pages) == 6                      # 12 pages = 3 sheets, both sides
    assert "Læs hele politikken" in half_text(pdf, 1, "left")          # page 12
    assert "Fællesskaber for alle" in half_text(pdf, 1, "right")       # page 1
    assert half_text(pdf, 2, "left").startswith("Indhold")             # page 2
    assert half_text(pdf, 2, "right").startswith("Forpligtende samarbejder")  # page 11
    assert half_text(pdf, 3, "left").startswith("I Ballerup Kommune arbejder")  # page 10
    assert half_text(pdf, 3, "right").startswith("Visionen om deltagelse")   # page 3
    assert half_text(pdf, 6, "left").startswith("Det gode børne- og ungeliv") or \
        "Side 6 af 12" in half_text(pdf, 6, "left")                    # page 6
    assert "Side 7 af 12" in half_text(pdf, 6, "right")                # page 7


def test_poster_tiles_on_two_sheets_with_overlap(built):
    pdf = built / "output/da/poster-vision.booklet.pdf"
    reader = PdfReader(pdf)
    assert len(reader.pages) == 2
    top = " ".join(subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"],
                                  capture_output=True, text=True, check=True).stdout.split())
    bottom = " ".join(subprocess.run(["pdftotext", "-f", "2", "-l", "2", str(pdf), "-"],
                                     capture_output=True, text=True, check=True).stdout.split())
    assert "Fællesskaber for alle" in top and "Læs hele politikken" not in top
    assert "Læs hele politikken" in bottom and "Visionen" not in bottom
    # The overlap: the second commitment is cut by the half line, so it shows on both tiles.
    assert "hjælp til at opnå forudsætningerne" in top and "hjælp til at opnå forudsætningerne" in bottom
    # Cut marks: stroked lines in the side margins of each sheet.
    for page in reader.pages:
        assert b" l S" in page.get_contents().get_data()


def test_booklet_rebuilds_are_identical(built, project_copy):
    build(project_copy, products=("policy", "leaflet-youth", "poster-begreber"), variants=("booklet",))
    for name in ("policy.booklet.pdf", "leaflet-youth.booklet.pdf", "poster-begreber.booklet.pdf"):
        assert hashlib.sha256((built / "output/da" / name).read_bytes()).hexdigest() == \
            hashlib.sha256((project_copy / "output/da" / name).read_bytes()).hexdigest()


def test_qpdf_check_passes_on_every_file(built):
    files = sorted((built / "output").rglob("*.pdf"))
    assert len(files) >= 30
    for pdf in files:
        result = subprocess.run(["qpdf", "--check", str(pdf)], capture_output=True, text=True)
        assert result.returncode == 0, (pdf, result.stdout[-500:])
