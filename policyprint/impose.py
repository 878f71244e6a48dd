"""Post-process stage: impose pages onto A4 sheets for office printers (pypdf).

Each function takes a PDF and returns a PDF. Each source page becomes a Form
XObject whose BBox is its TrimBox (or a band of it, for poster tiles); the
BBox clips, so no page's bleed covers its neighbour. Placing an XObject needs
no parsing of the page's content, which keeps imposition fast.
"""

from __future__ import annotations

import io
import math

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, FloatObject, NameObject, RectangleObject

from .plan import PRINTING  # how each kind of booklet is printed

MM = 72 / 25.4
A4_LANDSCAPE = (297 * MM, 210 * MM)
# Kept free at the top and bottom of every sheet: an office printer cannot print
# to the edge, and the bottom band carries the printing instruction.
SHEET_BAND = 10 * MM


def saddle_stitch_order(pages: int) -> list[list[int | None]]:
    """Sheet sides of a saddle-stitched booklet: [left, right] page indexes, None for blanks.

    The page count is padded to a multiple of 4 with blank pages at the end.
    For 8 pages: [7, 0], [1, 6], [5, 2], [3, 4].
    """
    padded = math.ceil(pages / 4) * 4
    index = [i if i < pages else None for i in range(padded)]
    sides = []
    for sheet in range(padded // 4):
        sides.append([index[padded - 1 - 2 * sheet], index[2 * sheet]])
        sides.append([index[2 * sheet + 1], index[padded - 2 - 2 * sheet]])
    return sides


def _form(writer: PdfWriter, page, bbox: list[float]):
    """The page as a Form XObject in `writer`, clipped to `bbox` (in the page's coordinates)."""
    contents = page.raw_get("/Contents").get_object()
    streams = contents if isinstance(contents, ArrayObject) else [contents]
    form = DecodedStreamObject()
    form.set_data(b"\n".join(s.get_object().get_data() for s in streams))
    form.update({
        NameObject("/Type"): NameObject("/XObject"),
        NameObject("/Subtype"): NameObject("/Form"),
        NameObject("/BBox"): ArrayObject(FloatObject(v) for v in bbox),
        NameObject("/Resources"): page["/Resources"].clone(writer),
    })
    return writer._add_object(form)  # noqa: SLF001


def _note_form(writer: PdfWriter, note: bytes | None):
    """The printing instruction (a one-page PDF the size of a sheet) as a Form XObject, or None."""
    if note is None:
        return None
    page = PdfReader(io.BytesIO(note)).pages[0]
    return _form(writer, page, [float(v) for v in page.mediabox])


def _place(writer: PdfWriter, sheet, placements: list[tuple], extra: bytes = b"") -> None:
    """Draw forms on a sheet: each placement is (form, scale, x, y)."""
    xobjects = DictionaryObject()
    ops = [extra] if extra else []
    for n, (form, scale, x, y) in enumerate(placements):
        name = NameObject(f"/P{n}")
        xobjects[name] = form
        ops.append(f"q {scale:.6f} 0 0 {scale:.6f} {x:.3f} {y:.3f} cm {name} Do Q".encode())
    resources = sheet["/Resources"] if "/Resources" in sheet else DictionaryObject()
    resources[NameObject("/XObject")] = xobjects
    sheet[NameObject("/Resources")] = resources
    stream = DecodedStreamObject()
    stream.set_data(b"\n".join(ops))
    sheet[NameObject("/Contents")] = writer._add_object(stream)  # noqa: SLF001


def _place_two_up(reader: PdfReader, sides: list[list[int | None]], title: str, note: bytes | None) -> bytes:
    """Put two pages side by side on each A4 landscape sheet side, scaled to fit half a sheet
    less the bands at its top and bottom; the instruction `note` goes on every side."""
    writer = PdfWriter()
    width, height = A4_LANDSCAPE
    forms = {}
    note_form = _note_form(writer, note)
    for side in sides:
        sheet = writer.add_blank_page(width, height)
        placements = []
        for slot, index in enumerate(side):
            if index is None:
                continue
            page = reader.pages[index]
            trim = page.trimbox
            if index not in forms:
                forms[index] = _form(writer, page, [float(v) for v in trim])
            scale = min(width / 2 / float(trim.width), (height - 2 * SHEET_BAND) / float(trim.height))
            x = slot * width / 2 + (width / 2 - float(trim.width) * scale) / 2 - float(trim.left) * scale
            y = (height - float(trim.height) * scale) / 2 - float(trim.bottom) * scale
            placements.append((forms[index], scale, x, y))
        if note_form is not None:
            placements.append((note_form, 1, 0, 0))
        _place(writer, sheet, placements)
    return _write(writer, title, PRINTING["leaflet"][0])


def _write(writer: PdfWriter, title: str, duplex: str) -> bytes:
    writer.add_metadata({"/Title": title, "/Producer": "policyprint (pypdf)"})
    # Print right the first time: the print dialog opens on the right duplex mode, at 100 %
    # (ISO 32000-1 12.2, table 150). The imposition is made for A4 at actual size.
    writer._root_object[NameObject("/ViewerPreferences")] = DictionaryObject({  # noqa: SLF001
        NameObject("/Duplex"): NameObject(duplex),
        NameObject("/PrintScaling"): NameObject("/None"),
    })
    # A fixed file identifier: the same pages give the same bytes.
    writer._ID = None  # noqa: SLF001 - pypdf derives no random ID when none is set
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def impose_leaflet(pdf: bytes, title: str, note: bytes | None = None) -> bytes:
    """Four A5 pages on one A4 landscape sheet, duplex: front 4 | 1, back 2 | 3."""
    reader = PdfReader(io.BytesIO(pdf))
    if len(reader.pages) != 4:
        raise ValueError(f"a leaflet booklet needs 4 pages, got {len(reader.pages)}")
    return _place_two_up(reader, [[3, 0], [1, 2]], title, note)


def impose_booklet(pdf: bytes, title: str, note: bytes | None = None) -> bytes:
    """An A5 saddle-stitched booklet on A4 landscape sheets, padded to a multiple of 4."""
    reader = PdfReader(io.BytesIO(pdf))
    return _place_two_up(reader, saddle_stitch_order(len(reader.pages)), title, note)


def tile_poster(pdf: bytes, title: str, note: bytes | None = None, overlap_mm: float = 8,
                scale: float = 0.86) -> bytes:
    """An A3 poster on two A4 landscape sheets: top and bottom halves, overlapping.

    The poster is scaled to `scale` so that each half, plus the overlap, fits an
    office printer's printable area. Cut marks in the side margins show the
    line to trim the top sheet along before laying it over the bottom one.
    """
    reader = PdfReader(io.BytesIO(pdf))
    page = reader.pages[0]
    trim = [float(v) for v in page.trimbox]
    width, height = A4_LANDSCAPE
    poster_w, poster_h = (trim[2] - trim[0]) * scale, (trim[3] - trim[1]) * scale
    half = poster_h / 2
    overlap = overlap_mm * MM
    x = (width - poster_w) / 2 - trim[0] * scale
    writer = PdfWriter()
    note_form = _note_form(writer, note)
    for tile in (0, 1):
        sheet = writer.add_blank_page(width, height)
        # The visible band: the top tile shows [half - overlap, top], the bottom one [0, half + overlap].
        band_bottom = half - overlap if tile == 0 else 0.0
        band_top = poster_h if tile == 0 else half + overlap
        y0 = (height - (band_top - band_bottom)) / 2      # where the band's bottom sits on the sheet
        y = y0 - band_bottom - trim[1] * scale
        bbox = [trim[0], trim[1] + band_bottom / scale, trim[2], trim[1] + band_top / scale]
        cut_y = y0 + (half - band_bottom)                   # the poster's half line on this sheet
        placements = [(_form(writer, page, bbox), scale, x, y)]
        if note_form is not None:
            placements.append((note_form, 1, 0, 0))
        _place(writer, sheet, placements,
               extra=_cut_marks((width - poster_w) / 2, (width + poster_w) / 2, cut_y))
    return _write(writer, title, PRINTING["poster"][0])


def check_print_preferences(reader: PdfReader, kind: str) -> list[str]:
    """An office file opens its print dialog on the right duplex mode, at actual size."""
    prefs = reader.trailer["/Root"].get("/ViewerPreferences")
    prefs = prefs.get_object() if prefs is not None else {}
    duplex = PRINTING[kind][0]
    findings = []
    if prefs.get("/Duplex") != duplex:
        findings.append(f"ViewerPreferences /Duplex is {prefs.get('/Duplex') or 'not set'}, expected {duplex}")
    if prefs.get("/PrintScaling") != "/None":
        findings.append(f"ViewerPreferences /PrintScaling is {prefs.get('/PrintScaling') or 'not set'}, "
                        "expected /None (print at 100 %)")
    return findings


def _cut_marks(left: float, right: float, y: float, length: float = 6 * MM) -> bytes:
    """Content that draws short black cut marks in the margins at height y."""
    gap = 2 * MM
    return (f"q 0 0 0 1 K 0.4 w "
            f"{left - gap - length:.2f} {y:.2f} m {left - gap:.2f} {y:.2f} l S "
            f"{right + gap:.2f} {y:.2f} m {right + gap + length:.2f} {y:.2f} l S Q").encode()
