"""Arabic text for SVG: joined letter forms in visual order.

WeasyPrint 70 sets SVG <text> one character at a time, so Arabic in a diagram label
or the draft watermark would print unjoined and left to right. This turns such a text
into what the eye should see: each letter in its contextual presentation form
(isolated, initial, medial, final; lam-alef as one ligature), runs of Arabic reversed
into visual order, and runs of Latin letters and digits (names, "0–5") kept left to
right. HTML text never comes here: Pango shapes it. The forms come from the Unicode
names of the presentation-form characters (unicodedata), not from a hand-written table.
"""

from __future__ import annotations

import functools
import re
import unicodedata

_ARABIC = re.compile("[\u0600-\u06ff]")
_LTR_RUN = re.compile(r"[A-Za-z0-9\u00c0-\u024f](?:[A-Za-z0-9\u00c0-\u024f .,:/@\u2013-]*[A-Za-z0-9\u00c0-\u024f])?")
_MIRROR = str.maketrans("()[]{}<>«»", ")(][}{><»«")
LAM = "\u0644"


@functools.lru_cache(maxsize=1)
def _forms() -> dict[str, dict[str, str]]:
    """Per Arabic letter, its presentation forms: {'ISOLATED': …, 'FINAL': …, …}."""
    forms: dict[str, dict[str, str]] = {}
    for code in range(0xFE70, 0xFEFD):
        name = unicodedata.name(chr(code), "")
        found = re.fullmatch(r"ARABIC LETTER (.+) (ISOLATED|FINAL|INITIAL|MEDIAL) FORM", name)
        if not found:
            continue
        try:
            base = unicodedata.lookup(f"ARABIC LETTER {found.group(1)}")
        except KeyError:
            continue
        forms.setdefault(base, {})[found.group(2)] = chr(code)
    return forms


@functools.lru_cache(maxsize=1)
def _lam_alef() -> dict[str, dict[str, str]]:
    """Lam followed by an alef: the ligature's isolated and final forms, by alef."""
    out: dict[str, dict[str, str]] = {}
    for code in range(0xFEF5, 0xFEFD):
        name = unicodedata.name(chr(code), "")
        found = re.fullmatch(r"ARABIC LIGATURE LAM WITH (ALEF.*) (ISOLATED|FINAL) FORM", name)
        if found:
            out.setdefault(unicodedata.lookup(f"ARABIC LETTER {found.group(1)}"), {})[found.group(2)] = chr(code)
    return out


def _joins_both(ch: str) -> bool:
    return "INITIAL" in _forms().get(ch, {})


def _joins(ch: str) -> bool:
    return ch in _forms() or ch == "\u0640"


def _shape(text: str) -> str:
    """Arabic letters in their contextual forms, still in logical order."""
    forms, ligatures = _forms(), _lam_alef()
    out, i = [], 0
    chars = list(text)
    while i < len(chars):
        ch = chars[i]
        prev = chars[i - 1] if i else ""
        after_joiner = bool(prev) and _joins_both(prev)
        if ch == LAM and i + 1 < len(chars) and chars[i + 1] in ligatures:
            out.append(ligatures[chars[i + 1]]["FINAL" if after_joiner else "ISOLATED"])
            i += 2
            continue
        if ch not in forms:
            out.append(ch)
            i += 1
            continue
        nxt = chars[i + 1] if i + 1 < len(chars) else ""
        to_next = _joins_both(ch) and bool(nxt) and _joins(nxt)
        form = ("MEDIAL" if to_next else "FINAL") if after_joiner and _joins(ch) else \
            ("INITIAL" if to_next else "ISOLATED")
        out.append(forms[ch].get(form) or forms[ch].get("ISOLATED") or ch)
        i += 1
    return "".join(out)


def visual(text: str) -> str:
    """`text` as it is seen, for an SVG that sets one character at a time; unchanged when it
    has no Arabic."""
    text = str(text)
    if not _ARABIC.search(text):
        return text
    runs, pos = [], 0
    for m in _LTR_RUN.finditer(text):
        if m.start() > pos:
            runs.append((False, text[pos:m.start()]))
        runs.append((True, m.group()))
        pos = m.end()
    if pos < len(text):
        runs.append((False, text[pos:]))
    out = []
    for ltr, run in reversed(runs):
        out.append(run if ltr else _shape(run)[::-1].translate(_MIRROR))
    return "".join(out)


def has_arabic(text: str) -> bool:
    return bool(_ARABIC.search(str(text)))


@functools.lru_cache(maxsize=8)
def _font(path: str):
    from fontTools.ttLib import TTFont

    font = TTFont(path)
    return font, font.getGlyphSet(), font.getBestCmap(), font["hmtx"].metrics, font["head"].unitsPerEm


def outlines(text: str, font_path: str, x: float, y: float, size: float, fill: str) -> str:
    """Arabic text (already in visual order, as `visual` gives it) drawn as glyph outlines:
    one SVG path per glyph, from the font's own outlines and advances.

    Not text: drawn as text, the presentation forms would give their glyphs a ToUnicode
    entry of U+FExx, and the document's running text, which shares those glyphs, would
    extract as compatibility forms instead of the letters written. A diagram's words are
    read from its alt text; the watermark is an artifact.
    """
    from fontTools.pens.svgPathPen import SVGPathPen

    font, glyphs, cmap, metrics, upem = _font(font_path)
    scale = size / upem
    out, pen_x = [], x
    for ch in text:
        name = cmap.get(ord(ch))
        if name is None:
            pen_x += upem / 2 * scale
            continue
        pen = SVGPathPen(glyphs)
        glyphs[name].draw(pen)
        d = pen.getCommands()
        if d:
            out.append(f'<path transform="translate({pen_x:.2f} {y:.2f}) scale({scale:.5f} {-scale:.5f})" '
                       f'd="{d}"/>')
        pen_x += metrics[name][0] * scale
    return f'<g fill="{fill}">' + "".join(out) + "</g>"
