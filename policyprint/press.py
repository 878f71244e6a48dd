"""Press files (variant print): the write-stage finisher and the preflight checks a prepress desk runs.

The finisher works on WeasyPrint's PDF objects before they are serialised (a
`finisher` of `write_pdf`), so that nothing is parsed or rewritten afterwards:
the file keeps its PDF 1.6 header, its shared resources and its compression.
It names the output intent, drops link annotations, makes 100 % black overprint,
flattens opaque transparency groups, strips unused colour spaces, gives each text
box its own text object and, when asked, draws crop marks in the registration
colour outside the bleed.

The checks read the written PDF (pypdf, pypdfium2), so that they hold for any
file, including one back from a designer (`build.py check --pdf`).
"""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass

MM = 72 / 25.4
REGISTRY = "http://www.color.org"   # registered print conditions (FOGRA39, FOGRA51, …)
# For `check --pdf` on a file from anywhere; builds take them from brand.yaml.
REVERSED_MIN_PT, REVERSED_BOLD_BELOW_PT = 8.0, 10.0

# ---------------------------------------------------------------- finisher ----

_FILL_COLOUR = re.compile(rb"^((?:-?[\d.]+ ){4})(?:scn|sc|k)$")
_COLOUR_SPACE_USE = re.compile(rb"/([^\s/\[\]<>()]+)\s+(?:cs|CS)\b")
OVERPRINT, KNOCKOUT = "OPK", "KO"   # ExtGState names added to every resources dictionary


def _is_black(operands: bytes) -> bool:
    return [float(v) for v in operands.split()] == [0.0, 0.0, 0.0, 1.0]


def _deref(pdf, value):
    """A pydyf object from a reference (b'12 0 R'), or the value itself."""
    if isinstance(value, (bytes, str)) and str(value if isinstance(value, str) else value.decode()).endswith(" R"):
        number = int((value if isinstance(value, str) else value.decode()).split()[0])
        return pdf.objects[number]
    return value


def _content_streams(pdf):
    """Every WeasyPrint content stream: page contents and the Form XObjects they draw."""
    from weasyprint.pdf.stream import Stream

    return [obj for obj in pdf.objects if isinstance(obj, Stream)]


def _overprint_black(stream) -> bool:
    """Follow every fill colour with an overprint state: on for 0/0/0/100, off for anything else.

    A graphics state saved by q and restored by Q holds the colour and the
    overprint flag together, so both always agree. Every colour gets its state,
    white included: a form inherits the state of the page that draws it.
    Returns whether it changed anything.
    """
    items, changed = [], False
    for item in stream.stream:
        items.append(item)
        data = item if isinstance(item, bytes) else str(item).encode()
        match = _FILL_COLOUR.match(data.strip())
        if match:
            items.append(f"/{OVERPRINT if _is_black(match.group(1)) else KNOCKOUT} gs".encode())
            changed = True
    stream.stream[:] = items
    return changed


def _text_object_per_box(stream) -> bool:
    """End the text object before each text matrix but its first (BT … Tm … Tm … ET becomes
    BT … Tm … ET BT Tm … ET), so that each text box is a text object of its own.

    WeasyPrint sets one Tm per text box, and an untagged stream joins the boxes drawn one
    after another into one BT … ET (its Stream.begin_text drops the ET before); a tagged one
    keeps them apart with marked content. pypdf (7.1.0) reads a text object as one run: it
    gathers a right-to-left text box's characters into the text of the box before and
    reverses them together (get_display_str), flushing only at BT, ET, cm, Tf or a new line.
    Arabic then came out of the press files with a full stop inside a sentence and words out of
    order. The page looks the same: BT only resets the text matrix, which the next Tm sets,
    and WeasyPrint uses no clipping text render mode, whose path ET would apply.
    Returns whether it changed anything.
    """
    items, open_text, placed, changed = [], False, False, False
    for item in stream.stream:
        data = (item if isinstance(item, bytes) else str(item).encode()).strip()
        if data == b"BT":
            open_text, placed = True, False
        elif data == b"ET":
            open_text = False
        elif open_text and data.endswith(b" Tm"):
            if placed:
                items += [b"ET", b"BT"]
                changed = True
            placed = True
        items.append(item)
    stream.stream[:] = items
    return changed


def press_finisher(condition: str, info: str, marks: bool = False):
    """A WeasyPrint finisher for press files (see the module docstring)."""
    import pydyf

    def finish(document, pdf):
        # 3. The output intent says what it is: print workflows match on the identifier.
        for intent in pdf.catalog.get("OutputIntents", []):
            intent = _deref(pdf, intent)
            intent["OutputConditionIdentifier"] = pydyf.String(condition)
            intent["RegistryName"] = pydyf.String(REGISTRY)
            intent["Info"] = pydyf.String(info)
        pages = [obj for obj in pdf.objects if isinstance(obj, dict) and obj.get("Type") == "/Page"]
        # 4. Links are invisible on press, and PDF/X preflight flags them.
        for page in pages:
            page.pop("Annots", None)
        streams = _content_streams(pdf)
        # 2. Black overprints; every other colour knocks out.
        for stream in streams:
            if _overprint_black(stream):
                states = _deref(pdf, stream._resources["ExtGState"])  # noqa: SLF001
                states[OVERPRINT] = pydyf.Dictionary({"Type": "/ExtGState", "OP": "true", "op": "true", "OPM": 1})
                states[KNOCKOUT] = pydyf.Dictionary({"Type": "/ExtGState", "OP": "false", "op": "false", "OPM": 1})
        # Each text box its own text object, as in the tagged screen file: text extracts in order.
        for stream in streams:
            _text_object_per_box(stream)
        # 7. SVG text with text-anchor is drawn in a transparency group; an opaque one is only a
        # form. Without the group, a RIP that ignores the output intent cannot blend its black.
        # A group drawn at an opacity under 1 (SVG opacity) stays: its content blends as a whole.
        translucent = _drawn_translucent(pdf, streams)
        for stream in streams:
            group = stream.extra.get("Group")
            if group is not None and id(stream) not in translucent and _opaque(pdf, stream):
                del stream.extra["Group"]
        if marks:
            _add_crop_marks(pdf, pages)
        # 7. Declare only the colour spaces the content uses.
        used = {"Registration"} if marks else set()
        for stream in streams:
            for item in stream.stream:
                data = item if isinstance(item, bytes) else str(item).encode()
                used.update(m.decode() for m in _COLOUR_SPACE_USE.findall(data))
        spaces = {id(_deref(pdf, s._resources.get("ColorSpace"))): _deref(pdf, s._resources.get("ColorSpace"))  # noqa: SLF001
                  for s in streams if s._resources.get("ColorSpace") is not None}  # noqa: SLF001
        for space in spaces.values():
            for name in [n for n in space if n not in used]:
                del space[name]

    return finish


_ALPHA_STATE = re.compile(rb"^/[aA]([\d.]+) gs$")   # WeasyPrint's set_alpha names its states by the alpha
_DRAW_FORM = re.compile(rb"^/(\S+) Do$")


def _drawn_translucent(pdf, streams) -> set[int]:
    """The ids of the forms that a stream draws while its alpha is under 1."""
    found = set()
    for stream in streams:
        alpha, saved = 1.0, []
        xobjects = _deref(pdf, stream._resources.get("XObject")) or {}  # noqa: SLF001
        for item in stream.stream:
            data = (item if isinstance(item, bytes) else str(item).encode()).strip()
            if (m := _ALPHA_STATE.match(data)):
                alpha = float(m.group(1))
            elif alpha < 1 and (m := _DRAW_FORM.match(data)) and m.group(1).decode() in xobjects:
                found.add(id(_deref(pdf, xobjects[m.group(1).decode()])))
            elif data == b"q":
                saved.append(alpha)
            elif data == b"Q" and saved:
                alpha = saved.pop()
    return found


def _opaque(pdf, stream) -> bool:
    """Whether a form draws nothing translucent (every alpha 1, no soft mask, no blend mode)."""
    states = _deref(pdf, stream._resources.get("ExtGState")) or {}  # noqa: SLF001
    for state in states.values():
        state = _deref(pdf, state)
        if any(k in state for k in ("SMask", "BM")):
            return False
        if any(float(state[k]) < 1 for k in ("CA", "ca") if k in state):
            return False
    return True


def _add_crop_marks(pdf, pages, offset_mm: float = 2.0, length_mm: float = 5.0) -> None:
    """Crop marks on the trim lines, `offset_mm` beyond the BleedBox, in the registration colour.

    WeasyPrint's own `marks` are RGB, grouped and drawn inside the bleed. These are
    /Separation /All (every plate at the tint, not 400 % CMYK, which trips ink-coverage
    checks), 0.25 pt, on an enlarged MediaBox; TrimBox and BleedBox are unchanged.
    """
    import pydyf

    off, length = offset_mm * MM, length_mm * MM
    tint = pydyf.Dictionary({"FunctionType": 2, "Domain": pydyf.Array([0, 1]), "N": 1,
                             "C0": pydyf.Array([0, 0, 0, 0]), "C1": pydyf.Array([1, 1, 1, 1])})
    registration = pydyf.Array(["/Separation", "/All", "/DeviceCMYK", tint])
    for page in pages:
        x0, y0, x1, y1 = (float(v) for v in page["TrimBox"])
        b = x0 - float(page["BleedBox"][0])
        near, far = b + off, b + off + length
        segments = []
        for x, sx in ((x0, -1), (x1, 1)):
            for y, sy in ((y0, -1), (y1, 1)):
                segments.append((x + sx * near, y, x + sx * far, y))   # horizontal, on the trim line y
                segments.append((x, y + sy * near, x, y + sy * far))   # vertical, on the trim line x
        ops = ["q", "/Registration CS", "1 SCN", "0.25 w"]
        ops += [f"{a:.3f} {c:.3f} m {e:.3f} {f:.3f} l S" for a, c, e, f in segments] + ["Q"]
        margin = far + 1 * MM
        page["MediaBox"] = pydyf.Array([x0 - margin, y0 - margin, x1 + margin, y1 + margin])
        content = _deref(pdf, page["Contents"])
        content.stream.insert(0, b"q")   # the page's own transforms end before the marks
        content.stream.append(b"Q")
        marks = pydyf.Stream([op.encode() for op in ops], compress=content.compress)
        pdf.add_object(marks)
        page["Contents"] = pydyf.Array([content.reference, marks.reference])
        spaces = _deref(pdf, content._resources["ColorSpace"])  # noqa: SLF001
        spaces["Registration"] = registration


# ---------------------------------------------------------- reading a PDF ----

_TOKEN = re.compile(
    rb"\s*(?:%[^\r\n]*|(\((?:\\.|[^\\()])*\))|(<<|>>)|(<[0-9A-Fa-f\s]*>)|(\[|\])|(/[^\s/\[\]<>(){}%]*)"
    rb"|([-+]?(?:\d+\.?\d*|\.\d+))|([A-Za-z'\"*][A-Za-z0-9'\"*]*))", re.S)


def _hex(token: bytes) -> bytes:
    """A <hex string> token's bytes."""
    h = token[1:-1].decode()
    try:
        return bytes.fromhex(h)   # ignores white space
    except ValueError:            # an odd count: the last digit is followed by 0
        return bytes.fromhex("".join(h.split()) + "0")


_ESCAPE = re.compile(rb"\\([nrtbf()\\]|[0-7]{1,3})")


def _unescape(s: bytes) -> bytes:
    if b"\\" not in s:
        return s
    return _ESCAPE.sub(lambda m: {
        b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}.get(
        m.group(1), bytes([int(m.group(1), 8) & 255]) if m.group(1)[:1].isdigit() else m.group(1)), s)


def _mul(a, b):
    return (a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3],
            a[2] * b[0] + a[3] * b[2], a[2] * b[1] + a[3] * b[3],
            a[4] * b[0] + a[5] * b[2] + b[4], a[4] * b[1] + a[5] * b[3] + b[5])


IDENTITY = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


@dataclass
class TextRun:
    """Text drawn with one font, size, colour and overprint state, as it lands on the page."""

    page: int
    size: float            # points, after the text and graphics matrices
    colour: tuple          # (colour space, components): ("DeviceCMYK", (0, 0, 0, 1))
    font: str              # BaseFont without the subset prefix
    overprint: bool
    text: str
    y: float = 0.0         # where the text starts on the page (baseline), in points
    x: float = 0.0
    end_x: float = 0.0     # where the pen stands after it

    @property
    def inks(self) -> int:
        """How many process inks the colour uses (CMYK components above zero)."""
        space, values = self.colour
        if space == "DeviceCMYK":
            return sum(1 for v in values if v > 0.001)
        if space == "DeviceGray":
            return 1 if values and values[0] < 0.999 else 0
        return 3   # RGB, Lab, ICC: not a press colour (the RGB check names them)

    @property
    def bold(self) -> bool:
        return bool(re.search(r"(semi|demi|extra|ultra)?bold|black|heavy", self.font, re.I))


class _Font:
    def __init__(self, font, memo: bool = True):
        self.memo = memo
        self.shown: dict[bytes, tuple[str, float]] = {}
        self.name = str(font.get("/BaseFont", "")).lstrip("/").split("+")[-1]
        self.two_byte = font.get("/Subtype") == "/Type0"
        self.map: dict[int, str] = {}
        cmap = font.get("/ToUnicode")
        if cmap is not None:
            data = cmap.get_object().get_data()
            for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
                for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>", block):
                    self.map[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be", "replace")
            for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
                for lo, hi, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                    start = int(dst, 16)
                    for i, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                        self.map[code] = chr(start + i)

        self.widths: dict[int, float] = {}
        self.default_width = 1000.0
        target = font.get("/DescendantFonts")
        target = target[0].get_object() if target else font
        if self.two_byte:
            self.default_width = float(target.get("/DW", 1000))
            w = list(target.get("/W", []))
            i = 0
            while i + 1 < len(w):
                first, nxt = int(w[i]), w[i + 1].get_object() if hasattr(w[i + 1], "get_object") else w[i + 1]
                if isinstance(nxt, list):
                    for k, width in enumerate(nxt):
                        self.widths[first + k] = float(width)
                    i += 2
                else:
                    for code in range(first, int(nxt) + 1):
                        self.widths[code] = float(w[i + 2])
                    i += 3
        else:
            first = int(font.get("/FirstChar", 0))
            for k, width in enumerate(font.get("/Widths", [])):
                self.widths[first + k] = float(width)

    def show(self, strings: list) -> tuple[str, float]:
        """The text of a Tj/TJ operand list, and its advance per 1 of font size (TJ numbers included)."""
        text, advance = [], 0.0
        shown = self.shown
        for item in strings:
            if isinstance(item, bytes):
                if item not in shown:   # the same string again (a word, a space): decoded once per font
                    if not self.memo:
                        piece, width = self._decode(item)
                        text.append(piece)
                        advance += width
                        continue
                    shown[item] = self._decode(item)
                piece, width = shown[item]
                text.append(piece)
                advance += width
            elif isinstance(item, float):
                advance -= item
        return "".join(text), advance / 1000

    def _decode(self, item: bytes) -> tuple[str, float]:
        widths, default, chars = self.widths, self.default_width, self.map
        codes = struct.unpack(f">{len(item) // 2}H", item[:len(item) // 2 * 2]) if self.two_byte else item
        return "".join(chars.get(c, "") for c in codes), sum(widths.get(c, default) for c in codes)


def text_runs(reader) -> list[TextRun]:
    """Every piece of text on every page, with its real size, colour, font and overprint state."""
    from . import levers

    runs: list[TextRun] = []
    # With the levers off, as before them: every Tf reads its font again, every string decoded again.
    fonts: dict = {} if levers.on() else {"again": True}
    for number, page in enumerate(reader.pages, 1):
        contents = page.get_contents()
        if contents is None:
            continue
        _walk(contents.get_data(), page.get("/Resources"), IDENTITY, number, runs, fonts, depth=0)
    return runs


def _walk(data: bytes, resources, ctm, page: int, runs: list, fonts: dict, depth: int,
          fill=("DeviceGray", (0.0,)), overprint=False) -> None:
    resources = resources.get_object() if resources is not None else {}
    state = {"ctm": ctm, "fill": fill, "space": fill[0], "op": overprint, "font": None, "size": 0.0}
    stack = []
    operands: list = []
    tm = line = IDENTITY
    in_array: list | None = None
    for m in _TOKEN.finditer(data):   # one group matches: 1 (string), 2 << >>, 3 <hex>, 4 [ ], 5 /name, 6 number, 7 operator
        group = m.lastindex
        if group is None:
            continue
        value = m.group(group)
        if group == 4:   # [ or ]
            if value == b"[":
                in_array = []
            else:
                operands.append(in_array)
                in_array = None
            continue
        if group != 7:
            if group == 6:
                value = float(value)
            elif group == 5:
                value = value[1:].decode("latin-1")
            elif group == 3:
                value = _hex(value)
            elif group == 1:
                value = _unescape(value[1:-1])
            else:
                value = None   # << or >>
            (in_array if in_array is not None else operands).append(value)
            continue
        op = value
        if op == b"q":
            stack.append(dict(state))
        elif op == b"Q":
            if stack:
                state = stack.pop()
        elif op == b"cm" and len(operands) >= 6:
            state["ctm"] = _mul(tuple(operands[-6:]), state["ctm"])
        elif op == b"cs" and operands:
            space = operands[-1]
            state["space"] = space
            state["fill"] = (space, (0.0, 0.0, 0.0, 1.0) if space == "DeviceCMYK" else (0.0,))
        elif op in (b"sc", b"scn"):
            state["fill"] = (state["space"], tuple(v for v in operands if isinstance(v, float)))
        elif op == b"k":
            state["space"], state["fill"] = "DeviceCMYK", ("DeviceCMYK", tuple(operands[-4:]))
        elif op == b"g":
            state["space"], state["fill"] = "DeviceGray", ("DeviceGray", tuple(operands[-1:]))
        elif op == b"rg":
            state["space"], state["fill"] = "DeviceRGB", ("DeviceRGB", tuple(operands[-3:]))
        elif op == b"gs" and operands:
            gs = (resources.get("/ExtGState") or {}).get("/" + str(operands[-1]))
            if gs is not None:
                gs = gs.get_object()
                if "/op" in gs or "/OP" in gs:   # /op defaults to /OP (ISO 32000-1 8.6.7)
                    flag = gs.get("/op", gs.get("/OP"))
                    state["op"] = bool(getattr(flag, "value", flag))   # pypdf's BooleanObject is always truthy
        elif op == b"BT":
            tm = IDENTITY
            line = IDENTITY
        elif op == b"Tf" and len(operands) >= 2:
            font = (resources.get("/Font") or {}).get("/" + str(operands[-2]))
            if font is not None:
                font = font.get_object()
                if id(font) not in fonts or fonts.get("again"):   # each font's widths and map read once
                    fonts[id(font)] = _Font(font, memo=not fonts.get("again"))
                state["font"] = fonts[id(font)]
            state["size"] = operands[-1]
        elif op == b"Tm" and len(operands) >= 6:
            tm = line = tuple(operands[-6:])
        elif op in (b"Td", b"TD") and len(operands) >= 2:
            tm = line = _mul((1, 0, 0, 1, operands[-2], operands[-1]), line)
        elif op in (b"Tj", b"TJ", b"'", b'"'):
            strings = operands[-1] if op == b"TJ" else [operands[-1]] if operands else []
            font = state["font"]
            text, advance = font.show(strings) if font else ("", 0.0)
            m = _mul(tm, state["ctm"])
            size = abs(state["size"]) * math.sqrt(abs(m[0] * m[3] - m[1] * m[2]))
            run = TextRun(page, round(size, 2), state["fill"], font.name if font else "",
                          state["op"], text, m[5], m[4])
            # Where the pen stands after the string (glyph widths and TJ adjustments).
            tm = _mul((1, 0, 0, 1, advance * state["size"], 0), tm)
            run.end_x = _mul(tm, state["ctm"])[4]
            last = runs[-1] if runs else None
            if last and (last.page, last.size, last.colour, last.font, last.overprint) == \
                    (run.page, run.size, run.colour, run.font, run.overprint) and abs(last.y - run.y) < 0.5:
                # SVG text is drawn glyph by glyph, and a space is a gap, not a glyph.
                gap = run.x - last.end_x
                last.text += (" " if gap > 0.15 * run.size and not last.text.endswith(" ") else "") + text
                last.end_x = run.end_x
            else:
                runs.append(run)
        elif op == b"Do" and operands and depth < 12:
            xobj = (resources.get("/XObject") or {}).get("/" + str(operands[-1]))
            if xobj is not None:
                xobj = xobj.get_object()
                if xobj.get("/Subtype") == "/Form":
                    matrix = tuple(float(v) for v in xobj.get("/Matrix", IDENTITY))
                    _walk(xobj.get_data(), xobj.get("/Resources") or resources, _mul(matrix, state["ctm"]),
                          page, runs, fonts, depth + 1, state["fill"], state["op"])
                    if runs:
                        runs.append(TextRun(page, -1, ("", ()), "", False, ""))   # a form ends a run
        operands = []
    while runs and runs[-1].size == -1:
        runs.pop()


def _runs(reader) -> list[TextRun]:
    """The visible text runs, read once per reader (three checks use them)."""
    cached = getattr(reader, "_policyprint_text_runs", None)
    if cached is None:
        cached = [r for r in text_runs(reader) if r.size > 0 and r.text.strip()]
        reader._policyprint_text_runs = cached
    return cached


def _quote(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


# ------------------------------------------------------------------ checks ----

def check_black_text(reader) -> list[str]:
    """Black text is 0/0/0/100 and overprints; text under 12 pt uses one ink at most."""
    findings = []
    for run in _runs(reader):
        space, values = run.colour
        if space == "DeviceCMYK" and len(values) == 4:
            c, m, y, k = values
            if c == m == y == 0 and 0.85 <= k < 1:
                findings.append(f"page {run.page}: black text is 0/0/0/{k * 100:g}, not 0/0/0/100 "
                                f"(\"{_quote(run.text)}\")")
            elif (c, m, y, k) == (0, 0, 0, 1) and not run.overprint:
                findings.append(f"page {run.page}: black text does not overprint (\"{_quote(run.text)}\"): "
                                "it knocks out what lies behind it")
        if run.size < 12 and run.inks > 1:
            findings.append(f"page {run.page}: {run.size:g} pt text in {run.inks} inks (\"{_quote(run.text)}\"): "
                            "text under 12 pt may use one ink only")
    return _unique(findings)


def check_reversed_text(reader, min_pt: float, bold_below_pt: float) -> list[str]:
    """White (no-ink) text is at least `min_pt`, and bold below `bold_below_pt`: thin reversed type fills in."""
    findings = []
    for run in _runs(reader):
        if run.inks or run.colour[0] != "DeviceCMYK":
            continue
        if run.size < min_pt - 0.05:
            findings.append(f"page {run.page}: {run.size:g} pt reversed (white) text (\"{_quote(run.text)}\") "
                            f"under {min_pt:g} pt")
        elif run.size < bold_below_pt - 0.05 and not run.bold:
            findings.append(f"page {run.page}: {run.size:g} pt reversed (white) text (\"{_quote(run.text)}\") "
                            f"is not bold; reversed text under {bold_below_pt:g} pt must be bold")
    return _unique(findings)


def check_min_text_size(reader, minimum_pt: float, kind: str, below_y: float | None = None,
                        below_minimum: float = 0.0, below_what: str = "") -> list[str]:
    """No text on the page below the brand's minimum for this kind of product.

    Text whose baseline lies less than `below_y` points above the trim's bottom
    (a footer) is held to `below_minimum` instead.
    """
    findings = []
    bottoms = [float(p.trimbox.bottom) for p in reader.pages]
    for run in _runs(reader):
        minimum, what = minimum_pt, kind
        if below_y is not None and run.y - bottoms[run.page - 1] < below_y:
            minimum, what = below_minimum, below_what
        if run.size < minimum - 0.05:
            findings.append(f"page {run.page}: {run.size:g} pt text (\"{_quote(run.text)}\") under the "
                            f"{what} minimum of {minimum:g} pt")
    return _unique(findings)


def check_output_intent_condition(reader, condition: str) -> list[str]:
    """The output intent names its print condition by its registered identifier."""
    intents = reader.trailer["/Root"].get("/OutputIntents")
    findings = []
    for intent in (intents.get_object() if intents else []):
        intent = intent.get_object()
        ident = str(intent.get("/OutputConditionIdentifier", ""))
        if ident != condition:
            findings.append(f"output intent: OutputConditionIdentifier is {ident!r}, expected {condition!r}")
        if str(intent.get("/RegistryName", "")) != REGISTRY:
            findings.append(f"output intent: RegistryName is {str(intent.get('/RegistryName', '')) or 'missing'}, "
                            f"expected {REGISTRY}")
    return findings


def check_no_annotations(reader) -> list[str]:
    """Press files carry no annotations: links are invisible on press and PDF/X preflight flags them."""
    findings = []
    for i, page in enumerate(reader.pages, 1):
        annots = page.get("/Annots")
        annots = annots.get_object() if annots is not None else []
        if annots:
            kinds = sorted({str(a.get_object().get("/Subtype", "?")).lstrip("/") for a in annots})
            findings.append(f"page {i}: {len(annots)} annotation(s) ({', '.join(kinds)}); press files carry none")
    return findings


def _forms(resources, seen: set):
    resources = resources.get_object() if resources is not None else None
    for xobj in ((resources.get("/XObject") or {}).values() if resources else []):
        obj = xobj.get_object()
        if obj.get("/Subtype") == "/Form" and id(obj) not in seen:
            seen.add(id(obj))
            yield obj
            yield from _forms(obj.get("/Resources"), seen)


def check_colour_space_leftovers(reader) -> list[str]:
    """Every declared colour space is used, and no transparency group wraps opaque content."""
    findings = []
    for i, page in enumerate(reader.pages, 1):
        owners = [("page", page)] + [("form", f) for f in _forms(page.get("/Resources"), set())]
        groups = 0
        for what, owner in owners:
            resources = owner.get("/Resources")
            resources = resources.get_object() if resources is not None else {}
            spaces = resources.get("/ColorSpace")
            data = owner.get_contents().get_data() if what == "page" else owner.get_data()
            used = {m.decode() for m in _COLOUR_SPACE_USE.findall(data)}
            unused = sorted(str(n).lstrip("/") for n in (spaces.get_object() if spaces else {})
                            if str(n).lstrip("/") not in used)
            if unused and what == "page":
                findings.append(f"page {i}: declares colour spaces it does not use: {', '.join(unused)}")
            if what == "form" and "/Group" in owner:
                groups += 1
        if groups:
            findings.append(f"page {i}: {groups} transparency group(s); flatten them, or a RIP that ignores "
                            "the output intent blends their black into four colours")
    return findings


def check_bleed(pdf: bytes, bleed_mm: float, dpi: int = 100) -> list[str]:
    """Whatever touches the trim runs on into the bleed, on all four edges.

    Renders a strip along each edge of each page's BleedBox (pypdfium2), and
    compares the ink in a line just inside the trim with the ink at the outer
    bleed edge: a colour that stops at the trim leaves a white line when the
    sheet is cut. Only the strips are rasterised, to keep memory low.
    """
    import pypdfium2 as pdfium

    findings = []
    scale = dpi / 72
    px_mm = dpi / 25.4
    document = pdfium.PdfDocument(pdf)
    try:
        for index in range(len(document)):
            page = document[index]
            ml, mb, mr, mt = page.get_mediabox()
            left, bottom, right, top = page.get_bleedbox()
            tl = page.get_trimbox()[0]
            bleed = tl - left                      # points
            strip = bleed + 1.5 * MM               # the bleed and a little of the page
            inner = round((bleed + 0.4 * MM) * scale)   # a line 0.4 mm inside the trim, in pixels
            # Each edge's strip, as what to crop off the MediaBox's left, bottom, right and top, in points.
            gl, gb, gr, gt = left - ml, bottom - mb, mr - right, mt - top
            width, height = right - left, top - bottom
            crops = {
                "top": (gl, gb + height - strip, gr, gt),
                "bottom": (gl, gb, gr, gt + height - strip),
                "left": (gl, gb, gr + width - strip, gt),
                "right": (gl + width - strip, gb, gr, gt),
            }
            for edge, crop in crops.items():
                image = page.render(scale=scale, crop=crop, grayscale=True, may_draw_forms=False).to_pil()
                w, h = image.size
                b = round(bleed * scale)
                if edge in ("top", "bottom"):
                    outer_at, inner_at = (1, inner) if edge == "top" else (h - 2, h - 1 - inner)
                    line = lambda at: image.crop((b, at, w - b, at + 1)).tobytes()  # noqa: E731
                else:
                    outer_at, inner_at = (1, inner) if edge == "left" else (w - 2, w - 1 - inner)
                    line = lambda at: image.crop((at, b, at + 1, h - b)).tobytes()  # noqa: E731
                missing = sum(1 for i, o in zip(line(inner_at), line(outer_at)) if i < 245 and o >= 250) / px_mm
                if missing >= 1.0:
                    findings.append(f"page {index + 1}: {edge} edge: ink stops at the trim along "
                                    f"{missing:.0f} mm; extend it {bleed_mm:g} mm into the bleed")
            page.close()
    finally:
        document.close()
    return findings


def _unique(findings: list[str]) -> list[str]:
    return list(dict.fromkeys(findings))
