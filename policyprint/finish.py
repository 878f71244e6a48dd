"""Post-process stage: small, pure checks on a written PDF (pypdf). Each returns findings."""

from __future__ import annotations

import hashlib
import io
import re
import uuid

# pypdf is imported inside the functions: the no-change build path never needs it.

MM_PER_PT = 25.4 / 72
SIZE_TOLERANCE_MM = 0.5


def read(pdf: bytes) -> "PdfReader":
    from pypdf import PdfReader

    from . import levers

    return (_lazy_reader() if levers.on() else PdfReader)(io.BytesIO(pdf))


_LAZY = None


def _lazy_reader():
    """pypdf's reader, reading an object from an object stream only when a check asks for it.

    pypdf 7 parses every object of an object stream the first time it needs any one of them.
    WeasyPrint writes nearly the whole file into object streams, the structure tree of a
    tagged screen file included (thousands of elements that no check reads): for the brochure
    that parse was most of the preflight's time. This reader reads the stream's index once and
    then each object as it is asked for; anything unexpected falls back to pypdf's own way.
    """
    global _LAZY
    if _LAZY is not None:
        return _LAZY
    from pypdf import PdfReader
    from pypdf.generic import IndirectObject, read_object

    class LazyReader(PdfReader):
        def _get_object_from_stream(self, indirect_reference):
            stmnum, _ = self.xref_objStm[indirect_reference.idnum]
            streams = self.__dict__.setdefault("_policyprint_streams", {})
            if stmnum not in streams:
                streams[stmnum] = None
                try:
                    stm = IndirectObject(stmnum, 0, self).get_object()
                    data = stm.get_data()
                    n, first = int(stm["/N"]), int(stm["/First"])
                    numbers = [int(v) for v in data[:first].split()]
                    if len(numbers) >= 2 * n and n >= 0:
                        streams[stmnum] = (io.BytesIO(data), {numbers[2 * i]: first + numbers[2 * i + 1]
                                                              for i in range(n)})
                except Exception:  # noqa: BLE001 - pypdf's own way reports a broken stream
                    streams[stmnum] = None
            found = streams[stmnum]
            idnum = indirect_reference.idnum
            if found is None or idnum not in found[1]:
                return super()._get_object_from_stream(indirect_reference)
            stream, offsets = found
            stream.seek(offsets[idnum])
            try:
                obj = read_object(stream, self)
            except Exception:  # noqa: BLE001
                return super()._get_object_from_stream(indirect_reference)
            self.cache_indirect_object(0, idnum, obj)
            return obj

    _LAZY = LazyReader
    return _LAZY


def check_page_count(reader: PdfReader, expected: int) -> list[str]:
    n = len(reader.pages)
    return [] if n == expected else [f"has {n} pages, expected exactly {expected}"]


def trim_size_mm(page) -> tuple[float, float]:
    box = page.trimbox
    return (round(float(box.width) * MM_PER_PT, 1), round(float(box.height) * MM_PER_PT, 1))


def check_page_size(reader: PdfReader, size_mm: tuple[float, float]) -> list[str]:
    findings = []
    for i, page in enumerate(reader.pages, 1):
        w, h = trim_size_mm(page)
        if abs(w - size_mm[0]) > SIZE_TOLERANCE_MM or abs(h - size_mm[1]) > SIZE_TOLERANCE_MM:
            findings.append(f"page {i} is {w} × {h} mm, expected {size_mm[0]:g} × {size_mm[1]:g} mm")
    return findings


def _fonts(resources, seen: set) -> list:
    """The font dictionaries of a resources dictionary and of the Form XObjects it draws."""
    dicts = [resources] + [x.get_object().get("/Resources") for x in _xobjects(resources, seen)
                           if x.get_object().get("/Subtype") == "/Form"]
    found = []
    for res in dicts:
        res = res.get_object() if res else None
        for font in ((res.get("/Font") or {}).values() if res else []):
            font = font.get_object()
            if id(font) not in seen:
                seen.add(id(font))
                found.append(font)
    return found


def check_fonts_embedded(reader: PdfReader) -> list[str]:
    """Every font must carry its font program (FontFile, FontFile2 or FontFile3)."""
    findings, seen = [], set()
    for page in reader.pages:
        for font in _fonts(page.get("/Resources"), seen):
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = target.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor else {}
            if not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                findings.append(f"font {font.get('/BaseFont')} is not embedded")
    return findings


def check_screen_basics(reader: PdfReader, lang: str) -> list[str]:
    """Screen files must be tagged, carry a language and show their title."""
    root = reader.trailer["/Root"]
    findings = []
    if "/StructTreeRoot" not in root:
        findings.append("is not tagged (no structure tree)")
    if str(root.get("/Lang", "")) != lang:
        findings.append(f"has /Lang {root.get('/Lang')!r}, expected {lang!r}")
    prefs = root.get("/ViewerPreferences")
    if not prefs or not prefs.get_object().get("/DisplayDocTitle"):
        findings.append("does not ask viewers to show the document title")
    if not (reader.metadata and reader.metadata.title):
        findings.append("has no document title")
    return findings


# WeasyPrint writes a random xmpMM:DocumentID into PDF/X-4 metadata, and the
# trailer /ID is a hash over data that includes it. The XMP of PDF/X-4 is not
# compressed, so both can be pinned by a same-length substitution that leaves
# every xref offset valid.
_DOC_ID = re.compile(rb"xmp\.did:[0-9a-f-]{36}")
_TRAILER_ID = re.compile(rb"/ID \[\(([0-9a-f]{32})\) \(([0-9a-f]{32})\)\]")


def pin_document_id(pdf: bytes) -> bytes:
    """Replace the random XMP document id and the trailer /ID with ones derived from the content."""
    if not _DOC_ID.search(pdf):
        return pdf
    masked = _TRAILER_ID.sub(b"/ID [(" + b"0" * 32 + b") (" + b"0" * 32 + b")]",
                             _DOC_ID.sub(b"xmp.did:" + b"0" * 36, pdf))
    digest = hashlib.md5(masked).hexdigest()
    pinned = _DOC_ID.sub(b"xmp.did:" + str(uuid.UUID(digest)).encode(), pdf)
    return _TRAILER_ID.sub(b"/ID [(" + digest.encode() + b") (" + digest.encode() + b")]", pinned)


def check_press_boxes(reader: PdfReader, size_mm: tuple[float, float], bleed_mm: float) -> list[str]:
    """TrimBox is the format; BleedBox is the trim plus the bleed on every side."""
    findings = []
    bleed_pt = bleed_mm / MM_PER_PT
    for i, page in enumerate(reader.pages, 1):
        trim = [float(v) for v in page.trimbox]
        bleed = [float(v) for v in page.bleedbox]
        expected = [trim[0] - bleed_pt, trim[1] - bleed_pt, trim[2] + bleed_pt, trim[3] + bleed_pt]
        if any(abs(a - b) > 0.05 for a, b in zip(bleed, expected)):
            findings.append(f"page {i}: BleedBox {bleed} is not the TrimBox plus {bleed_mm:g} mm")
        media = [float(v) for v in page.mediabox]
        if any(m > b + 0.05 if k < 2 else m < b - 0.05 for k, (m, b) in enumerate(zip(media, bleed))):
            findings.append(f"page {i}: MediaBox {media} does not contain the BleedBox")
    return findings


def check_output_intent(reader: PdfReader) -> list[str]:
    """A PDF/X output intent with a 4-component (CMYK) ICC profile."""
    intents = reader.trailer["/Root"].get("/OutputIntents")
    for intent in (intents.get_object() if intents else []):
        intent = intent.get_object()
        profile = intent.get("/DestOutputProfile")
        if intent.get("/S") == "/GTS_PDFX" and profile and profile.get_object().get("/N") == 4:
            return []
    return ["has no PDF/X output intent with a CMYK (N 4) profile"]


def _rgb_spaces(resources) -> set[str]:
    names = set()
    spaces = resources.get("/ColorSpace") if resources else None
    for name, space in (spaces.get_object().items() if spaces else []):
        space = space.get_object()
        if space == "/DeviceRGB" or (isinstance(space, list) and space and space[0] == "/ICCBased"
                                      and space[1].get_object().get("/N") == 3):
            names.add(name)
    return names


# Colour operators as whole tokens. WeasyPrint writes text as hex strings, so a
# token match is exact for its streams; a hit is confirmed by a full parse.
_COLOUR_TOKENS = re.compile(rb"(?<![^\s\]\)>])(?:rg|RG|cs|CS)(?=[\s\[\(<]|$)")


def _rgb_in(stream_owner, reader, where: str, seen: set) -> list[str]:
    resources = stream_owner.get("/Resources")
    resources = resources.get_object() if resources else None
    rgb_names = _rgb_spaces(resources) | {"/DeviceRGB"}
    findings = []
    content = stream_owner.get_contents() if hasattr(stream_owner, "get_contents") else stream_owner
    data = content.get_data() if content is not None else b""
    # Parsing a content stream in pure Python is slow: only parse when a colour
    # operator appears at all, and only check cs/CS when an RGB space exists.
    tokens = set(_COLOUR_TOKENS.findall(data))
    needs_parse = bool(tokens & {b"rg", b"RG"}) or (
        bool(tokens & {b"cs", b"CS"}) and any(name.encode() in data for name in rgb_names))
    if content is not None and needs_parse:
        from pypdf.generic import ContentStream

        for operands, operator in ContentStream(content, reader).operations:
            if operator in (b"rg", b"RG"):
                findings.append(f"{where}: RGB colour {' '.join(f'{float(o):g}' for o in operands)} ({operator.decode()})")
            elif operator in (b"cs", b"CS") and operands and operands[0] in rgb_names:
                findings.append(f"{where}: RGB colour space {operands[0]} ({operator.decode()})")
    for name, xobj in ((resources.get("/XObject") or {}).items() if resources else []):
        xobj = xobj.get_object()
        if id(xobj) in seen:
            continue
        seen.add(id(xobj))
        if xobj.get("/Subtype") == "/Form":
            findings += _rgb_in(xobj, reader, f"{where}, form {name}", seen)
        elif xobj.get("/Subtype") == "/Image" and xobj.get("/ColorSpace") in ("/DeviceRGB",):
            findings.append(f"{where}: RGB image {name}")
    return findings


def _xobjects(resources, seen: set) -> list:
    """Every XObject reachable from a resources dictionary, through Form XObjects."""
    found = []
    resources = resources.get_object() if resources else None
    for xobj in ((resources.get("/XObject") or {}).values() if resources else []):
        obj = xobj.get_object()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        found.append(xobj)
        if obj.get("/Subtype") == "/Form":
            found += _xobjects(obj.get("/Resources"), seen)
    return found


def check_no_rgb(reader: PdfReader) -> list[str]:
    """Press files carry CMYK only: no rg/RG operators, no RGB colour spaces or images."""
    findings, seen = [], set()
    for i, page in enumerate(reader.pages, 1):
        findings += _rgb_in(page, reader, f"page {i}", seen)
    return sorted(set(findings))


STYLE_WORDS = re.compile(r"(thin|extra|ultra|semi|demi|light|regular|book|medium|bold|heavy|black|"
                         r"italic|oblique|condensed|expanded)*")


def _is_brand_font(base_font: str, families: list[str]) -> bool:
    """'Noto-Sans-Semi-Bold' is Noto Sans; 'Noto-Sans-Thai' is a fallback, not Noto Sans."""
    name = base_font.replace("-", "").replace(" ", "").lower()
    for family in families:
        if name.startswith(family):
            return STYLE_WORDS.fullmatch(name[len(family):]) is not None
    return False


def check_font_families(reader: PdfReader, families: list[str]) -> list[str]:
    """Only the brand fonts: another font means a character fell back (it lacks a brand glyph)."""
    allowed = sorted((f.replace(" ", "").lower() for f in families), key=len, reverse=True)
    findings, seen = [], set()
    for i, page in enumerate(reader.pages, 1):
        for font in _fonts(page.get("/Resources"), seen):
            name = str(font.get("/BaseFont", "")).split("+")[-1].lstrip("/")
            if not _is_brand_font(name, allowed):
                findings.append(f"page {i}: font {name} is not a brand font ({', '.join(families)}): "
                                "some text lacks a glyph in the brand fonts")
    return findings


# A font's /Encoding CMap maps a code to CID 0 where WeasyPrint drew .notdef for a character
# that no font had (pdf/fonts.py: the "missing" glyphs); ToUnicode still names the character.
_CIDCHAR = re.compile(rb"<([0-9A-Fa-f]{4})>\s+(\d+)")
_BFCHAR = re.compile(rb"<([0-9A-Fa-f]{4})>\s*<([0-9A-Fa-f]*)>")
# In a content stream: a font selection (/F1 12 Tf) or a hex string (never a << dictionary).
_TEXT_TOKENS = re.compile(rb"/([^\s/\[\]<>(){}%]+)\s+[-+\d.]+\s+Tf|(?<!<)<([0-9A-Fa-f\s]*)>")


def _block(data: bytes, begin: bytes, end: bytes) -> bytes:
    return b"\n".join(re.findall(re.escape(begin) + rb"(.*?)" + re.escape(end), data, re.S))


def _notdef_codes(font) -> dict[bytes, str]:
    """The codes of a composite font that draw glyph 0 (.notdef), each with its character if known."""
    if font.get("/Subtype") != "/Type0":
        return {}
    encoding = font.get("/Encoding")
    encoding = encoding.get_object() if encoding is not None else None
    codes = set()
    if hasattr(encoding, "get_data"):   # an embedded CMap: codes mapped to CID 0
        cids = _block(encoding.get_data(), b"begincidchar", b"endcidchar")
        codes = {code.lower() for code, cid in _CIDCHAR.findall(cids) if int(cid) == 0}
    codes.add(b"0000")   # with Identity-H, and CIDToGIDMap /Identity, code 0 is glyph 0 itself
    chars = {}
    to_unicode = font.get("/ToUnicode")
    if to_unicode is not None:
        pairs = _BFCHAR.findall(_block(to_unicode.get_object().get_data(), b"beginbfchar", b"endbfchar"))
        for code, text in pairs:
            if code.lower() in codes:
                try:
                    chars[code.lower()] = bytes.fromhex(text.decode()).decode("utf-16-be")
                except ValueError:
                    pass
    return {code: chars.get(code, "") for code in codes}


def _notdef_on(owner, seen: set, known: dict | None = None) -> list[str]:
    """The characters drawn as .notdef by one content stream and the forms it draws.
    `known` keeps each font's .notdef codes across pages (the same fonts on every page)."""
    from . import levers

    known = {} if known is None or not levers.on() else known   # levers off: every page reads its fonts
    resources = owner.get("/Resources")
    resources = resources.get_object() if resources else None
    fonts = {}
    for name, font in ((resources.get("/Font") or {}).items() if resources else []):
        font = font.get_object()
        if id(font) not in known:
            known[id(font)] = (font, _notdef_codes(font))   # the font kept alive: its id stays its own
        codes = known[id(font)][1]
        if codes:
            fonts[name.lstrip("/").encode()] = codes
    found = []
    content = owner.get_contents() if hasattr(owner, "get_contents") else owner
    data = content.get_data() if content is not None else b""
    current = None
    for match in _TEXT_TOKENS.finditer(data):
        if match.group(1) is not None:
            current = fonts.get(match.group(1))
        elif current:
            hexes = match.group(2).translate(None, b" \t\r\n\f\v").lower()   # PDF white space out
            for i in range(0, len(hexes) - 3, 4):
                if hexes[i:i + 4] in current:
                    found.append(current[hexes[i:i + 4]])
    for xobj in ((resources.get("/XObject") or {}).values() if resources else []):
        xobj = xobj.get_object()
        if xobj.get("/Subtype") == "/Form" and id(xobj) not in seen:
            seen.add(id(xobj))
            found += _notdef_on(xobj, seen, known)
    return found


def check_notdef(reader: PdfReader, locate=None) -> list[str]:
    """No glyph 0 (.notdef, a box) in any embedded font: a character that no brand font has.

    `locate(char)` may name where the character comes from ("templates/x.html.j2:12").
    """
    findings, known = [], {}
    for i, page in enumerate(reader.pages, 1):
        chars = list(dict.fromkeys(_notdef_on(page, set(), known)))
        if not chars:
            continue
        named = [c for c in chars if c]
        if not named:
            findings.append(f"page {i}: a character has no glyph in the brand fonts and prints as a box (.notdef)")
        for char in named:
            where = locate(char) if locate else None
            codes = " ".join(f"U+{ord(c):04X}" for c in char)
            findings.append(f"page {i}: character {char!r} ({codes}) has no glyph in the brand fonts and prints "
                            "as a box (.notdef)" + (f"; it comes from {where}" if where else ""))
    return findings


def check_image_resolution(pdf: bytes, minimum_ppi: int) -> list[str]:
    """Every raster image must be placed at `minimum_ppi` or more (poppler's pdfimages -list)."""
    import subprocess
    import tempfile

    if b"/Image" not in pdf and b"/FlateDecode" not in pdf:
        return []
    if not any(x.get_object().get("/Subtype") == "/Image" for page in read(pdf).pages
               for x in _xobjects(page.get("/Resources"), set())):
        return []  # no raster image at all: nothing to measure

    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        out = subprocess.run(["pdfimages", "-list", f.name], capture_output=True, text=True, check=True).stdout
    findings = []
    for line in out.splitlines()[2:]:
        cols = line.split()
        if len(cols) >= 14 and cols[2] == "image":
            ppi = min(int(cols[12]), int(cols[13]))
            if ppi < minimum_ppi:
                findings.append(f"page {cols[0]}: image {cols[1]} ({cols[3]} × {cols[4]} px) is placed at "
                                f"{ppi} ppi, below the {minimum_ppi} ppi required")
    return findings


PREFLIGHT_KINDS = ("press", "screen", "booklet")


class NotAPdf(ValueError):
    """The file is not a PDF at all."""


def guess_kind(reader: PdfReader, pdf: bytes) -> str:
    """press (PDF/X with an output intent), booklet (untagged A4 landscape sheets) or screen."""
    root = reader.trailer["/Root"]
    if root.get("/OutputIntents") and b"GTS_PDFX" in pdf:
        return "press"
    if "/StructTreeRoot" not in root and all(trim_size_mm(p) == (297.0, 210.0) for p in reader.pages):
        return "booklet"
    return "screen"


def preflight_any(pdf: bytes, kind: str | None = None) -> tuple[list[str], list[str]]:
    """Preflight a PDF from anywhere as a press, screen or booklet file (guessed when `kind`
    is None). Returns (facts, findings). Raises NotAPdf for a file that is not a PDF."""
    head = pdf[:1024].lstrip()
    if not head.startswith(b"%PDF-"):
        shown = head[:8].decode("ascii", "replace").strip() or "nothing"
        raise NotAPdf(f"not a PDF file (a PDF starts with %PDF-; this starts with {shown!r})")
    reader = read(pdf)
    guessed = kind is None
    kind = kind or guess_kind(reader, pdf)
    sizes = sorted({trim_size_mm(p) for p in reader.pages})
    facts = [f"{len(reader.pages)} page(s), trim {', '.join(f'{w:g} × {h:g} mm' for w, h in sizes)}",
             {"press": "press file (PDF/X)", "screen": "screen file", "booklet": "office booklet"}[kind]
             + (" (guessed; choose with --press, --screen or --booklet)" if guessed else "")]
    findings = check_fonts_embedded(reader) + check_notdef(reader)
    if kind == "press":
        page = reader.pages[0]
        bleed_mm = round((float(page.trimbox.left) - float(page.bleedbox.left)) * MM_PER_PT, 1)
        facts.append(f"bleed {bleed_mm:g} mm")
        if bleed_mm < 3:
            findings.append(f"bleed is {bleed_mm:g} mm, expected at least 3 mm")
        findings += check_output_intent(reader)
        findings += check_no_rgb(reader)
        findings += check_image_resolution(pdf, 300)
        from . import press

        intent = reader.trailer["/Root"]["/OutputIntents"][0].get_object()
        facts.append(f"output intent {intent.get('/OutputConditionIdentifier')}")
        if str(intent.get("/RegistryName", "")) != press.REGISTRY:
            findings.append(f"output intent: RegistryName is {intent.get('/RegistryName') or 'missing'}, "
                            f"expected {press.REGISTRY}")
        findings += press.check_no_annotations(reader)
        findings += press.check_black_text(reader)
        findings += press.check_reversed_text(reader, press.REVERSED_MIN_PT, press.REVERSED_BOLD_BELOW_PT)
        findings += press.check_colour_space_leftovers(reader)
        findings += press.check_bleed(pdf, bleed_mm)
    elif kind == "booklet":
        findings += check_page_size(reader, (297.0, 210.0))
    else:
        lang = str(reader.trailer["/Root"].get("/Lang", ""))
        facts.append(f"language {lang or 'not set'}")
        findings += [f for f in check_screen_basics(reader, lang) if not f.startswith("has /Lang")]
        if not lang:
            findings.append("has no document language (/Lang)")
    return facts, findings


def crop_mark_segments(reader: PdfReader) -> list[list[tuple[float, float, float, float]]]:
    """The stroked line segments of each page's last content stream (the crop marks)."""
    result = []
    for page in reader.pages:
        contents = page["/Contents"].get_object()
        last = contents[-1].get_object() if isinstance(contents, list) else contents
        nums = re.findall(rb"([-\d.]+) ([-\d.]+) m ([-\d.]+) ([-\d.]+) l S", last.get_data())
        result.append([tuple(float(v) for v in n) for n in nums])
    return result
