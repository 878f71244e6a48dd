"""Press files (variant print): PDF/X-4 output intent, exact boxes, CMYK only, reproducible."""

from __future__ import annotations

import hashlib
import re

import pytest
from pypdf import PdfReader

from policyprint import build, finish

PRINT_FILES = ["policy", "leaflet-parents", "leaflet-staff", "leaflet-youth", "poster-vision",
               "poster-boernesyn", "poster-foraeldre", "poster-arbejdsform", "poster-begreber",
               "poster-sammenhaeng"]
SIZES = {"policy": (210.0, 297.0), "leaflet": (148.0, 210.0), "poster": (297.0, 420.0)}
BLEED_PT = 3 / 25.4 * 72


def size_of(product: str):
    return SIZES[product.split("-")[0]]


@pytest.mark.parametrize("product", PRINT_FILES)
def test_trim_and_bleed_boxes(built, product):
    reader = PdfReader(built / f"output/da/{product}.print.pdf")
    w, h = size_of(product)
    for page in reader.pages:
        assert finish.trim_size_mm(page) == (w, h)
        trim = [float(v) for v in page.trimbox]
        bleed = [float(v) for v in page.bleedbox]
        assert bleed == pytest.approx([trim[0] - BLEED_PT, trim[1] - BLEED_PT,
                                       trim[2] + BLEED_PT, trim[3] + BLEED_PT], abs=0.01)
        media = [float(v) for v in page.mediabox]
        assert media == pytest.approx(bleed, abs=0.01)   # no crop marks by default


@pytest.mark.parametrize("product", PRINT_FILES)
def test_pdfx4_output_intent_with_cmyk_profile(built, product):
    reader = PdfReader(built / f"output/da/{product}.print.pdf")
    intents = reader.trailer["/Root"]["/OutputIntents"]
    assert len(intents) == 1
    intent = intents[0].get_object()
    assert intent["/S"] == "/GTS_PDFX"
    profile = intent["/DestOutputProfile"].get_object()
    assert profile["/N"] == 4
    assert profile.get_data()[36:40] == b"acsp" and profile.get_data()[16:20] == b"CMYK"
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b"<pdfxid:GTS_PDFXVersion>PDF/X-4</pdfxid:GTS_PDFXVersion>" in xmp


@pytest.mark.parametrize("product", PRINT_FILES)
def test_no_rgb_colour_remains(built, product):
    reader = PdfReader(built / f"output/da/{product}.print.pdf")
    assert finish.check_no_rgb(reader) == []
    # and the content really is drawn in CMYK
    page = reader.pages[0]
    assert b"/DeviceCMYK cs" in page.get_contents().get_data() or any(
        b"/DeviceCMYK" in x.get_object().get_data() for x in (page["/Resources"].get("/XObject") or {}).values())


def test_rgb_check_finds_rgb(built):
    reader = PdfReader(built / "output/da/leaflet-parents.screen.pdf")
    assert finish.check_no_rgb(reader) != []


def test_fonts_embedded_in_print(built):
    for product in PRINT_FILES:
        assert finish.check_fonts_embedded(PdfReader(built / f"output/da/{product}.print.pdf")) == []


def test_document_id_is_pinned_and_rebuilds_are_identical(built, project_copy):
    build(project_copy, products=("leaflet-staff", "poster-vision"), variants=("print",))
    for name in ("leaflet-staff.print.pdf", "poster-vision.print.pdf"):
        first = (built / "output/da" / name).read_bytes()
        second = (project_copy / "output/da" / name).read_bytes()
        assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()
        doc_id = re.search(rb"xmp\.did:([0-9a-f-]{36})", first).group(1)
        assert doc_id != b"0" * 36


def test_pin_document_id_is_a_same_length_substitution():
    pdf = (b"%PDF-1.6\n<x:xmpmeta>xmp.did:0f8e2d5c-1111-4222-8333-944455556666</x:xmpmeta>\n"
           b"trailer\n<< /ID [(0123456789abcdef0123456789abcdef) (0123456789abcdef0123456789abcdef)] >>\n")
    pinned = finish.pin_document_id(pdf)
    assert len(pinned) == len(pdf)
    assert b"0f8e2d5c-1111" not in pinned
    assert finish.pin_document_id(pinned) == pinned   # pinning again changes nothing
    # Another render of the same content (other random ids) pins to the same bytes...
    other = pdf.replace(b"0f8e2d5c-1111-4222-8333-944455556666", b"7a7a7a7a-2222-4333-8444-955566667777") \
               .replace(b"0123456789abcdef0123456789abcdef", b"fedcba9876543210fedcba9876543210")
    assert other != pdf and finish.pin_document_id(other) == pinned
    # ...and other content to another id.
    changed = finish.pin_document_id(pdf.replace(b"%PDF-1.6", b"%PDF-1.7"))
    assert re.search(rb"xmp\.did:([0-9a-f-]{36})", changed).group(1) != re.search(rb"xmp\.did:([0-9a-f-]{36})",
                                                                                   pinned).group(1)


def test_crop_marks_are_drawn_outside_the_bleed_on_the_trim_lines(project_copy):
    import subprocess

    build(project_copy, products=("leaflet-parents",), variants=("print",), marks=True)
    path = project_copy / "output/da/leaflet-parents.print-marks.pdf"   # never the plain file's name
    reader = PdfReader(path)
    segments = finish.crop_mark_segments(reader)
    for page, marks in zip(reader.pages, segments):
        x0, y0, x1, y1 = (float(v) for v in page.trimbox)
        bx0, by0, bx1, by1 = (float(v) for v in page.bleedbox)
        mx0, my0, mx1, my1 = (float(v) for v in page.mediabox)
        assert mx0 < bx0 and my0 < by0 and mx1 > bx1 and my1 > by1   # a larger MediaBox
        assert finish.trim_size_mm(page) == (148.0, 210.0)
        assert len(marks) == 8
        for ax, ay, bx, by in marks:
            for x, y in ((ax, ay), (bx, by)):
                outside = x < bx0 or x > bx1 or y < by0 or y > by1
                assert outside, (x, y)
                assert mx0 <= x <= mx1 and my0 <= y <= my1
            # each mark lies on a trim line
            assert (ay == by and round(ay, 2) in (round(y0, 2), round(y1, 2))) or \
                   (ax == bx and round(ax, 2) in (round(x0, 2), round(x1, 2)))
        last = page["/Contents"][-1].get_object().get_data()
        assert b"/Registration CS" in last   # the registration colour (/Separation /All), not 400 % CMYK
    assert subprocess.run(["qpdf", "--check", str(path)], capture_output=True).returncode == 0
    assert finish.check_no_rgb(reader) == [] and finish.check_output_intent(reader) == []


def test_no_crop_marks_by_default(built):
    reader = PdfReader(built / "output/da/leaflet-parents.print.pdf")
    assert [float(v) for v in reader.pages[0].mediabox] == pytest.approx(
        [float(v) for v in reader.pages[0].bleedbox], abs=0.01)
