"""Layout check: text must not run into other text, a rule or a decorative shape.

It reads WeasyPrint's laid-out boxes, before a PDF is written, so every product
kind and every block kind is checked on every build, with the rectangles the
layout really gave:

- a text run is its glyph box (the line's content area, trimmed a little at the
  top and bottom, where accents and descenders rarely reach);
- a rule is a border side that is drawn (width above zero, a visible style);
- a decorative shape is a box inside an `aria-hidden="true"` element that paints
  a background (a circle when its corners are rounded to half its size).

Text over its own card or band background is fine: only shapes marked decorative
count. Text inside one line never overlaps itself.
"""

from __future__ import annotations

from dataclasses import dataclass

PX_TO_MM = 25.4 / 96
GLYPH_TRIM = 0.2      # of the text box's height, off the top and the bottom
MIN_OVERLAP_PX = 1.0  # less than this is a touch, not an overlap


@dataclass(frozen=True)
class Rect:
    x0: float
    y0: float
    x1: float
    y1: float
    what: str
    line: int = -1          # text runs: the id of their line box
    round: bool = False     # shapes: a circle or ellipse

    def meets(self, other: "Rect") -> bool:
        w = min(self.x1, other.x1) - max(self.x0, other.x0)
        h = min(self.y1, other.y1) - max(self.y0, other.y0)
        if w < MIN_OVERLAP_PX or h < MIN_OVERLAP_PX:
            return False
        shape = other if other.round else self if self.round else None
        if shape is None:
            return True
        box = self if shape is other else other
        # The point of the box nearest the ellipse's centre must lie inside the ellipse.
        cx, cy = (shape.x0 + shape.x1) / 2, (shape.y0 + shape.y1) / 2
        rx, ry = (shape.x1 - shape.x0) / 2, (shape.y1 - shape.y0) / 2
        nx, ny = min(max(cx, box.x0), box.x1), min(max(cy, box.y0), box.y1)
        return ((nx - cx) / rx) ** 2 + ((ny - cy) / ry) ** 2 < 1 - 1e-6


def _visible(colour) -> bool:
    return colour is not None and getattr(colour, "alpha", 1) > 0


def _name(box) -> str:
    element = getattr(box, "element", None)
    classes = element.get("class") if element is not None else None
    tag = getattr(box, "element_tag", "") or ""
    return f"{tag}.{classes.split()[0]}" if classes else tag


def collect(page_box) -> tuple[list[Rect], list[Rect], list[Rect]]:
    """The text runs, rules and decorative shapes of one laid-out page, in CSS px."""
    from weasyprint.formatting_structure.boxes import LineBox, MarginBox, ParentBox, TextBox
    from weasyprint.layout.absolute import AbsolutePlaceholder

    texts, rules, shapes = [], [], []

    def walk(box, hidden: bool, line: int) -> None:
        if isinstance(box, AbsolutePlaceholder):
            box = box._box
        if isinstance(box, MarginBox):
            return   # running heads and page numbers sit in the margin, apart from the flow
        element = getattr(box, "element", None)
        if element is not None and box.element_tag and element.get("aria-hidden") == "true":
            hidden = True
        if isinstance(box, LineBox):
            line = id(box)
        if isinstance(box, TextBox):
            text = box.text.replace("\u00ad", "").strip()
            if text and not hidden:
                trim = box.height * GLYPH_TRIM
                x, y = box.content_box_x(), box.content_box_y()
                texts.append(Rect(x, y + trim, x + box.width, y + box.height - trim, repr(_short(text)), line))
            return
        if box.element_tag and not isinstance(box, LineBox):
            _rules_and_shapes(box, hidden, rules, shapes)
        if isinstance(box, ParentBox):
            for child in box.children:
                walk(child, hidden, line)

    walk(page_box, False, -1)
    return texts, rules, shapes


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


def _rules_and_shapes(box, hidden: bool, rules: list, shapes: list) -> None:
    style = box.style
    x, y = box.border_box_x(), box.border_box_y()
    w, h = box.border_width(), box.border_height()
    if w <= 0 or h <= 0:
        return
    sides = {
        "top": (box.border_top_width, (x, y, x + w, y + box.border_top_width)),
        "bottom": (box.border_bottom_width, (x, y + h - box.border_bottom_width, x + w, y + h)),
        "left": (box.border_left_width, (x, y, x + box.border_left_width, y + h)),
        "right": (box.border_right_width, (x + w - box.border_right_width, y, x + w, y + h)),
    }
    for side, (width, rect) in sides.items():
        if width > 0 and style[f"border_{side}_style"] not in ("none", "hidden") and \
                _visible(style[f"border_{side}_color"]):
            rules.append(Rect(*rect, what=f"the {side} rule of {_name(box)}"))
    if hidden and _visible(style["background_color"]):
        radius = style["border_top_left_radius"]
        rounded = _radius_px(radius[0], w) >= w / 2 - 0.5 and _radius_px(radius[1], h) >= h / 2 - 0.5
        shapes.append(Rect(x, y, x + w, y + h, what=f"a decorative shape ({_name(box)})", round=rounded))


def _radius_px(value, reference: float) -> float:
    return value.value * reference / 100 if value.unit == "%" else value.value


def overlaps(document, limit: int = 5) -> list[str]:
    """Findings for a laid-out document: 'page N: text '…' runs into …, at x × y mm'."""
    findings = []
    for number, page in enumerate(document.pages, 1):
        texts, rules, shapes = collect(page._page_box)
        for i, text in enumerate(texts):
            hit = next((r for r in rules + shapes if text.meets(r)), None)
            if hit is None:
                hit = next((o for o in texts[i + 1:] if o.line != text.line and text.meets(o)), None)
                hit_what = f"text {hit.what}" if hit else ""
            else:
                hit_what = hit.what
            if hit is not None:
                findings.append(f"page {number}: text {text.what} runs into {hit_what} at "
                                f"{text.x0 * PX_TO_MM:.0f} × {text.y0 * PX_TO_MM:.0f} mm from the top left")
                if len(findings) >= limit:
                    return findings
    return findings
