"""Right-to-left text for SVG: shaped glyphs in visual order, drawn as outlines.

WeasyPrint 70 sets SVG <text> one character at a time, so Arabic in a diagram label or
the draft watermark would print unjoined and left to right. Such a text is laid out here
instead, with two libraries: python-bidi (the Unicode bidirectional algorithm) gives the
order of its runs on the line, and HarfBuzz (uharfbuzz) shapes each run with the font
itself (joining forms, lam-alef and the font's other ligatures, mirrored brackets,
kerning), giving glyph ids and advances that fontTools' pen turns into outlines. HTML
text never comes here: Pango shapes it.

A run of Latin letters and digits ("0–5", "Ballerup") is isolated before the bidi
algorithm, as the typesetter isolates it in HTML (render.LTR_RUN): without it the algorithm
lays "0–5 سنة" out as "5–0" (an en dash between two numbers is a neutral, so each number
is a run of its own, and the runs of a right-to-left line go right to left).
"""

from __future__ import annotations

import functools
import re

_ARABIC = re.compile("[\u0600-\u06ff]")
# A run of Latin letters and digits, with what may stand inside one (spaces, . , : / @ and dashes).
LTR_RUN = re.compile(r"[A-Za-z0-9\u00c0-\u024f](?:[A-Za-z0-9\u00c0-\u024f .,:/@\u2013-]*[A-Za-z0-9\u00c0-\u024f])?")
LRI, PDI = "\u2066", "\u2069"
# In the display order python-bidi gives, an isolate of a right-to-left line reads PDI … LRI.
_ISOLATE_SHOWN = re.compile(f"{PDI}([^{LRI}{PDI}]*){LRI}")


def has_arabic(text: str) -> bool:
    return bool(_ARABIC.search(str(text)))


def visual_runs(text: str) -> list[tuple[str, bool]]:
    """The runs of a right-to-left line, left to right as they are seen: (text, is_rtl), each
    run's text in logical order (for the shaper)."""
    from bidi import get_display

    isolated = LTR_RUN.sub(lambda m: LRI + m.group() + PDI, str(text))
    display = get_display(isolated, base_dir="R")
    runs, pos = [], 0
    for m in _ISOLATE_SHOWN.finditer(display):
        if m.start() > pos:
            runs.append((display[pos:m.start()][::-1], True))
        runs.append((m.group(1), False))
        pos = m.end()
    if pos < len(display):
        runs.append((display[pos:][::-1], True))
    return [(run.replace(LRI, "").replace(PDI, ""), rtl) for run, rtl in runs if run.strip(LRI + PDI)]


@functools.lru_cache(maxsize=8)
def _font(path: str):
    import uharfbuzz as hb
    from fontTools.ttLib import TTFont

    with open(path, "rb") as f:
        face = hb.Face(f.read())
    font = TTFont(path)
    return hb.Font(face), font, font.getGlyphSet(), font["head"].unitsPerEm


@functools.lru_cache(maxsize=256)
def shape(text: str, font_path: str) -> tuple[tuple[tuple[str, int, int], ...], int]:
    """`text` laid out on one right-to-left line: its glyphs left to right, each as (glyph
    name, x, y) in font units from the line's start, and the line's advance."""
    import uharfbuzz as hb

    hb_font, font, _, _ = _font(font_path)
    glyphs, pen = [], 0
    for run, rtl in visual_runs(text):
        buf = hb.Buffer()
        buf.add_str(run)
        buf.guess_segment_properties()
        buf.direction = "rtl" if rtl else "ltr"
        hb.shape(hb_font, buf, {})
        for info, pos in zip(buf.glyph_infos, buf.glyph_positions):
            glyphs.append((font.getGlyphName(info.codepoint), pen + pos.x_offset, pos.y_offset))
            pen += pos.x_advance
    return tuple(glyphs), pen


def width(text: str, font_path: str, size: float) -> float:
    """How wide `text` sets (shaped, with kerning), in the units of `size`."""
    _, advance = shape(str(text), font_path)
    return advance * size / _font(font_path)[3]


def outlines(text: str, font_path: str, x: float, y: float, size: float, fill: str,
             stroke: float | None = None) -> str:
    """Right-to-left text drawn as glyph outlines, starting at (x, y) on its baseline: one SVG
    path per glyph, from the font's own outlines, placed where HarfBuzz puts them. With
    `stroke` (a width in the units of `size`), only the outlines are drawn.

    Not text: drawn as text, the label's glyphs would need ToUnicode entries of their own,
    and SVG text is set letter by letter. A diagram's words are read from its alt text; the
    watermark is an artifact.
    """
    from fontTools.pens.svgPathPen import SVGPathPen

    _, _, glyph_set, upem = _font(font_path)
    scale = size / upem
    out = []
    for name, gx, gy in shape(str(text), font_path)[0]:
        pen = SVGPathPen(glyph_set)
        glyph_set[name].draw(pen)
        d = pen.getCommands()
        if d:
            out.append(f'<path transform="translate({x + gx * scale:.2f} {y - gy * scale:.2f}) '
                       f'scale({scale:.5f} {-scale:.5f})" d="{d}"/>')
    # A stroke is drawn in each glyph's own units (the path's transform scales it).
    paint = f'fill="{fill}"' if stroke is None else f'fill="none" stroke="{fill}" stroke-width="{stroke / scale:.1f}"'
    return f"<g {paint}>" + "".join(out) + "</g>"
