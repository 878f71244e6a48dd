"""Post-process stage: impose pages onto A4 sheets for office printers (pypdf).

Each function takes a PDF and returns a PDF. Pages are clipped to their
TrimBox before they are placed (pypdf clips a merged page to its CropBox), so
no page's bleed covers its neighbour.
"""

from __future__ import annotations

import io
import math

from pypdf import PdfReader, PdfWriter, Transformation
from pypdf.generic import DecodedStreamObject, NameObject, RectangleObject

MM = 72 / 25.4
A4_LANDSCAPE = (297 * MM, 210 * MM)


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


def _trimmed(page):
    page.cropbox = RectangleObject(page.trimbox)
    return page


def _place_two_up(reader: PdfReader, sides: list[list[int | None]], title: str) -> bytes:
    """Put two pages side by side on each A4 landscape sheet side, scaled to fit half a sheet."""
    writer = PdfWriter()
    width, height = A4_LANDSCAPE
    for side in sides:
        sheet = writer.add_blank_page(width, height)
        for slot, index in enumerate(side):
            if index is None:
                continue
            page = _trimmed(reader.pages[index])
            trim = page.trimbox
            scale = min(width / 2 / float(trim.width), height / float(trim.height))
            x = slot * width / 2 + (width / 2 - float(trim.width) * scale) / 2 - float(trim.left) * scale
            y = (height - float(trim.height) * scale) / 2 - float(trim.bottom) * scale
            sheet.merge_transformed_page(page, Transformation().scale(scale).translate(x, y))
    return _write(writer, title)


def _write(writer: PdfWriter, title: str) -> bytes:
    writer.add_metadata({"/Title": title, "/Producer": "policyprint (pypdf)"})
    # A fixed file identifier: the same pages give the same bytes.
    writer._ID = None  # noqa: SLF001 - pypdf derives no random ID when none is set
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def impose_leaflet(pdf: bytes, title: str) -> bytes:
    """Four A5 pages on one A4 landscape sheet, duplex: front 4 | 1, back 2 | 3."""
    reader = PdfReader(io.BytesIO(pdf))
    if len(reader.pages) != 4:
        raise ValueError(f"a leaflet booklet needs 4 pages, got {len(reader.pages)}")
    return _place_two_up(reader, [[3, 0], [1, 2]], title)


def impose_booklet(pdf: bytes, title: str) -> bytes:
    """An A5 saddle-stitched booklet on A4 landscape sheets, padded to a multiple of 4."""
    reader = PdfReader(io.BytesIO(pdf))
    return _place_two_up(reader, saddle_stitch_order(len(reader.pages)), title)


def tile_poster(pdf: bytes, title: str, overlap_mm: float = 8, scale: float = 0.9) -> bytes:
    """An A3 poster on two A4 landscape sheets: top and bottom halves, overlapping.

    The poster is scaled to `scale` so that each half, plus the overlap, fits an
    office printer's printable area. Cut marks in the side margins show the
    line to trim the top sheet along before laying it over the bottom one.
    """
    reader = PdfReader(io.BytesIO(pdf))
    page = _trimmed(reader.pages[0])
    trim = page.trimbox
    width, height = A4_LANDSCAPE
    poster_w, poster_h = float(trim.width) * scale, float(trim.height) * scale
    half = poster_h / 2
    overlap = overlap_mm * MM
    x = (width - poster_w) / 2 - float(trim.left) * scale
    writer = PdfWriter()
    for tile in (0, 1):
        sheet = writer.add_blank_page(width, height)
        # The visible band: the top tile shows [half - overlap, poster top], the bottom one [0, half + overlap].
        band_bottom = half - overlap if tile == 0 else 0.0
        band_top = poster_h if tile == 0 else half + overlap
        band_h = band_top - band_bottom
        y0 = (height - band_h) / 2          # where the band's bottom sits on the sheet
        y = y0 - band_bottom - float(trim.bottom) * scale
        cut_y = y0 + (half - band_bottom)   # the poster's half line on this sheet
        # Marks first, then the poster: pypdf's merge stores its clip operands as a
        # one-shot iterator, so merged content must be serialised only once, at write.
        _cut_marks(sheet, (width - poster_w) / 2, (width + poster_w) / 2, cut_y)
        clipped = _clip_band(page, trim, band_bottom / scale, band_top / scale)
        sheet.merge_transformed_page(clipped, Transformation().scale(scale).translate(x, y))
    return _write(writer, title)


def _clip_band(page, trim, bottom: float, top: float):
    """Limit what is drawn of `page` to a horizontal band of its trim box (in page units)."""
    page.cropbox = RectangleObject([float(trim.left), float(trim.bottom) + bottom,
                                    float(trim.right), float(trim.bottom) + top])
    return page


def _cut_marks(sheet, left: float, right: float, y: float, length: float = 6 * MM) -> None:
    """Start a blank sheet's content with short black cut marks in the margins at height y."""
    gap = 2 * MM
    ops = (f"q 0 0 0 1 K 0.4 w "
           f"{left - gap - length:.2f} {y:.2f} m {left - gap:.2f} {y:.2f} l S "
           f"{right + gap:.2f} {y:.2f} m {right + gap + length:.2f} {y:.2f} l S Q").encode()
    stream = DecodedStreamObject()
    stream.set_data(ops)
    sheet[NameObject("/Contents")] = sheet.indirect_reference.pdf._add_object(stream)  # noqa: SLF001
