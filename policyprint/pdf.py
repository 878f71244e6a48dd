"""Write stage: HTML → PDF with WeasyPrint, fenced in and with its log captured.

WeasyPrint is imported inside the functions that need it, so that the CLI's
--help and `check` stay fast.
"""

from __future__ import annotations

import logging
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from .fonts import use_project_fonts

# Before WeasyPrint loads fontconfig (at its import and in every FontConfiguration):
# rendering sees the brand fonts only, never a machine's own fonts.
use_project_fonts()

# Messages WeasyPrint logs as warnings that must still fail a build, because
# they mean a page lost something (a missing glyph shows as a tofu box).
FATAL_WARNINGS = ("No glyph", "missing glyph", "has no required alt", "Failed to load")


# Screen files are PDF/A-2a and PDF/UA-1 at once: WeasyPrint 70 writes the first,
# policyprint.structure adds the second.
SCREEN_VARIANT = "pdf/a-2a"


class RefusedURL(Exception):
    """A template or content asked for something outside the project."""


@dataclass
class RenderResult:
    pdf: bytes
    pages: int
    anchors: dict[str, int] = field(default_factory=dict)  # element id -> page number
    fit_pt: float | None = None  # the fitted root type size, for posters
    anchor_y: dict[str, tuple[int, float]] = field(default_factory=dict)  # id -> (page, y in px)
    page_height: float = 0.0  # px
    fills: list[float] = field(default_factory=list)  # per page: share of the type area's height used
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    overlaps: list[str] = field(default_factory=list)  # text into text, rules or shapes (policyprint/overlap.py)


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@contextmanager
def captured_log():
    """Collect WeasyPrint's warnings and errors instead of printing them."""
    logger = logging.getLogger("weasyprint")
    handler = _Capture()
    old_propagate, old_level = logger.propagate, logger.level
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.WARNING)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
        logger.propagate, logger.level = old_propagate, old_level


def make_url_fetcher(allowed: list[Path]):
    """A URL fetcher that serves data: URLs, files inside the folders of `allowed` and the files
    `allowed` names itself (such as the ICC profile: that file, never its folder), and nothing else.

    A refusal is also logged as a WeasyPrint error, so that a build names the URL even where
    WeasyPrint only says "Failed to render SVG image".
    """
    from weasyprint.urls import FatalURLFetchingError, URLFetcher

    dirs = [p.resolve() for p in allowed if p.is_dir()]
    files = {p.resolve() for p in allowed if not p.is_dir()}
    logger = logging.getLogger("weasyprint")

    def refuse(message: str):
        logger.error(message)
        raise FatalURLFetchingError(message)

    class ProjectFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            scheme = urlparse(url).scheme.lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file":
                path = Path(unquote(urlparse(url).path)).resolve()
                if path in files or any(path.is_relative_to(root) for root in dirs):
                    return super().fetch(url, headers)
                refuse(f"refused to read {path}: outside the project")
            refuse(f"refused to fetch {url}: builds never reach the network")

    return ProjectFetcher(allowed_protocols=("file", "data"))


class SuccessCache(dict):
    """WeasyPrint's image cache that keeps loaded images only, never a failed load.

    WeasyPrint stores None for an image it failed to load, and a worker shares its
    cache across jobs: the first job would report the failure and every later job
    would silently print without the image. Every job must fail alike.
    """

    def __setitem__(self, key, value):
        if value is not None:
            super().__setitem__(key, value)


def embed_profiles_as_supplied() -> None:
    """Embed @color-profile files as supplied, not re-serialised.

    WeasyPrint 70's ColorProfile.content calls littleCMS (ImageCmsProfile.tobytes)
    for every PDF it writes: the FOGRA39 profile grows from 247 KB to 500 KB, and
    writing a press file costs about 0.3 s more. The file's own bytes are a valid
    ICC profile; embedding them also keeps the characterisation exactly as built.
    """
    import io

    from weasyprint.css import ColorProfile

    if getattr(ColorProfile, "_as_supplied", False):
        return
    original_init = ColorProfile.__init__

    def __init__(self, file_object, *args, **kwargs):
        data = file_object.read()
        original_init(self, io.BytesIO(data), *args, **kwargs)
        self._supplied = data

    ColorProfile.__init__ = __init__
    ColorProfile.content = property(lambda self: self._supplied)
    ColorProfile._as_supplied = True


class _Recorder(logging.Handler):
    def __init__(self):
        super().__init__(logging.NOTSET)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


# Parsed stylesheets, per process: key -> what parsing one gave (see share_stylesheets).
_STYLESHEETS: dict = {}
STYLESHEETS_KEPT = 32
# Inline <style> blocks (the brand tokens, fonts and page size; a poster's fitted size; a press
# file's ICC profile, which takes memory): a few, most recent first out.
_INLINE: dict = {}
INLINE_KEPT = 6
STYLESHEETS_SHARED = 0   # how many parses were replayed instead (tests/test_speed.py)


_FILE_URL = re.compile(r"file://[^\s\"')]+")


def _stat(url: str) -> tuple:
    try:
        st = Path(unquote(urlparse(url).path)).stat()
        return (url, st.st_size, st.st_mtime_ns)
    except OSError:
        return (url, None)


def share_stylesheets() -> None:
    """Parse each stylesheet once per process and share it across documents (a lever).

    Every document links the same stylesheets (base.css, pages.css, the product's) and
    WeasyPrint 70 parses each again for every document (20–30 ms each; a poster's fit
    lays it out several times). Passing them as `stylesheets=` instead would make them
    user-origin and change the cascade, so the author stylesheets stay where they are,
    linked from the HTML, and the parse is cached here, at `CSS.__init__`.

    Parsing a stylesheet also has effects on its document: @page rules, @layer order,
    @counter-style and @color-profile rules land in the document's lists, and @font-face
    rules in the font configuration; WeasyPrint logs warnings for rules it ignores.
    The first parse records these effects, and each later use of the same stylesheet
    (the same URL and bytes, or the same inline text; the same base URL, media, URL
    fetcher and layer order before it; a stylesheet with @import is parsed every time)
    replays them on the new document. The selectors
    and declarations are shared: WeasyPrint only reads them. With the levers off
    (POLICYPRINT_LEVERS=off) every document parses its stylesheets again, and both ways
    give the same bytes (tests/test_speed.py).
    """
    from weasyprint import CSS

    if getattr(CSS, "_policyprint_shared", False):
        return
    original = CSS.__init__

    def __init__(self, guess=None, filename=None, url=None, file_obj=None, string=None, encoding=None,
                 base_url=None, url_fetcher=None, _check_mime_type=False, media_type="print", font_config=None,
                 counter_style=None, color_profiles=None, matcher=None, page_rules=None, layers=None,
                 layer=None):
        from . import levers

        args = dict(guess=guess, filename=filename, url=url, file_obj=file_obj, string=string, encoding=encoding,
                    base_url=base_url, url_fetcher=url_fetcher, _check_mime_type=_check_mime_type,
                    media_type=media_type, font_config=font_config, counter_style=counter_style,
                    color_profiles=color_profiles, matcher=matcher, page_rules=page_rules, layers=layers,
                    layer=layer)
        shareable = (levers.on() and matcher is None and guess is None and filename is None and file_obj is None
                     and url_fetcher is not None and page_rules is not None and layers is not None
                     and counter_style is not None and color_profiles is not None)
        source = None
        if shareable and string is not None and url is None:
            source = ("string", string)
        elif shareable and url is not None and string is None and urlparse(url).scheme == "file":
            try:
                source = ("url", url, Path(unquote(urlparse(url).path)).read_bytes())
            except OSError:
                source = None   # the fetcher reports it
        if source is not None and ("@import" in source[-1] if isinstance(source[-1], str)
                                   else b"@import" in source[-1]):
            source = None   # what it imports may change on its own: parsed each time
        if source is None:
            return original(self, **args)
        # Files the stylesheet itself links (fonts, the ICC profile): as they are now.
        linked = tuple(_stat(link) for link in _FILE_URL.findall(source[-1] if isinstance(source[-1], str)
                                                                  else source[-1].decode("utf-8", "replace")))
        key = (source, linked, str(base_url), media_type, url_fetcher, tuple(layers), layer, id(font_config))
        entry = (_STYLESHEETS if source[0] == "url" else _INLINE).get(key)
        if entry is None:
            logger = logging.getLogger("weasyprint")
            recorder = _Recorder()
            logger.addHandler(recorder)
            faces = []
            real_add = font_config.add_font_face if font_config is not None else None

            def add_font_face(descriptors, fetcher):
                faces.append(descriptors)
                return real_add(descriptors, fetcher)

            before_rules = len(page_rules)
            before_counters, before_profiles = dict(counter_style), dict(color_profiles)
            if font_config is not None:
                font_config.add_font_face = add_font_face
            try:
                original(self, **args)
            finally:
                logger.removeHandler(recorder)
                if font_config is not None:
                    del font_config.add_font_face
            entry = {
                "base_url": self.base_url, "matcher": self.matcher,
                "page_rules": page_rules[before_rules:], "layers": list(layers),
                "counters": {k: v for k, v in counter_style.items() if before_counters.get(k) is not v},
                "profiles": {k: v for k, v in color_profiles.items() if before_profiles.get(k) is not v},
                "faces": faces, "records": recorder.records,
            }
            kept = _STYLESHEETS if source[0] == "url" else _INLINE
            if len(kept) >= (STYLESHEETS_KEPT if source[0] == "url" else INLINE_KEPT):
                kept.pop(next(iter(kept)))
            kept[key] = entry
            return None
        # The same stylesheet again: replay its effects on this document.
        global STYLESHEETS_SHARED
        STYLESHEETS_SHARED += 1
        self.base_url, self.matcher = entry["base_url"], entry["matcher"]
        self.page_rules, self.layers = page_rules, layers
        page_rules.extend(entry["page_rules"])
        layers[:] = entry["layers"]
        counter_style.update(entry["counters"])
        color_profiles.update(entry["profiles"])
        for descriptors in entry["faces"]:
            font_config.add_font_face(descriptors, url_fetcher)
        logger = logging.getLogger("weasyprint")
        for record in entry["records"]:
            if logger.isEnabledFor(record.levelno):
                logger.handle(record)
        return None

    CSS.__init__ = __init__
    CSS._policyprint_shared = True


# Flate-compressed streams, per process: (level, digest of the raw bytes) -> the compressed bytes
# (see share_compressed_streams), most recently used last.
_COMPRESSED: dict = {}
COMPRESSED_KEPT_BYTES = 32 * 2**20
_COMPRESSED_BYTES = 0
COMPRESSED_SHARED = 0   # how many compressions were reused (tests/test_speed.py)


class _SharedZlib:
    """pydyf's `zlib`: the same functions, with the results of compressing remembered.

    pydyf compresses every stream at level 9, and the same stream comes again and again: the
    FOGRA39 profile of every press file (247 KB, 80 ms each time), the generic pages of every
    institution's leaflet, the unchanged pages of the brochure in `watch`. Flate at a given level
    is a function of its input, so a remembered result is the same bytes.
    """

    def __init__(self, real):
        self._real = real

    def __getattr__(self, name):
        return getattr(self._real, name)

    def _compressed(self, data: bytes, level: int) -> bytes:
        import hashlib

        from . import levers

        data = bytes(data)
        if not levers.on():
            return self._real.compress(data, level)
        key = (level, hashlib.blake2b(data, digest_size=32).digest())
        global COMPRESSED_SHARED, _COMPRESSED_BYTES
        found = _COMPRESSED.pop(key, None)
        if found is not None:
            COMPRESSED_SHARED += 1
        else:
            compressor = self._real.compressobj(level=level)
            found = compressor.compress(data) + compressor.flush()
            _COMPRESSED_BYTES += len(found)
        _COMPRESSED[key] = found   # most recently used last
        while _COMPRESSED_BYTES > COMPRESSED_KEPT_BYTES and len(_COMPRESSED) > 1:
            _COMPRESSED_BYTES -= len(_COMPRESSED.pop(next(iter(_COMPRESSED))))
        return found

    def compress(self, data, level=-1):
        return self._compressed(data, level)

    def compressobj(self, level=-1, *args, **kwargs):
        if args or kwargs:   # a method, window or strategy pydyf 0.13 does not ask for: as it is
            return self._real.compressobj(level, *args, **kwargs)
        return _OneShotCompressor(self, level)


class _OneShotCompressor:
    """A compressobj for pydyf's one `compress` and `flush`: the whole stream comes back from
    `compress`, nothing from `flush` (the concatenation is what a real compressor gives)."""

    def __init__(self, shared: _SharedZlib, level: int):
        self._shared, self._level, self._parts = shared, level, []

    def compress(self, data) -> bytes:
        self._parts.append(bytes(data))
        return b""

    def flush(self, *args) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return self._shared._compressed(data, self._level)


def share_compressed_streams() -> None:
    """Compress each distinct PDF stream once per process (a lever; off with POLICYPRINT_LEVERS=off)."""
    import pydyf

    if not isinstance(pydyf.zlib, _SharedZlib):
        pydyf.zlib = _SharedZlib(pydyf.zlib)


_WARM: dict = {}
WARM_REUSED = 0   # writers that kept an earlier one's fonts and stylesheets (tests/test_speed.py)
_FONT_FACE = re.compile(r"@font-face\s*\{[^}]*\}")


def warm_key(allowed: list[Path], font_rules: str | None):
    """What a writer's font configuration depends on: the process, the folders it may read,
    the brand's @font-face rules and any @font-face rule in the templates and stylesheets
    (a face once added to a configuration stays in it). None with the levers off, or when the
    caller does not give its font rules."""
    import os

    from . import levers

    if font_rules is None or not levers.on():
        return None
    faces = []
    for folder in sorted({p.parent if not p.is_dir() else p for p in allowed}):
        if folder.name not in ("styles", "templates"):
            continue
        for path in sorted(folder.rglob("*")):
            try:
                if path.is_file():
                    faces += _FONT_FACE.findall(path.read_text(encoding="utf-8", errors="replace"))
            except OSError:
                return None
    return (os.getpid(), tuple(str(p) for p in allowed), font_rules, tuple(faces))


class PdfWriter:
    """One per worker: keeps a font configuration and a cache across many documents.

    With the levers on, a writer created after another in the same process, for the same
    folders and fonts (the next build of `watch`), keeps that one's font configuration and
    URL fetcher: the fonts stay loaded and the stylesheets parsed. Images are read again.
    """

    def __init__(self, allowed_dirs: list[Path], font_rules: str | None = None):
        use_project_fonts()   # again: a caller may have changed the environment since import
        from weasyprint.text.fonts import FontConfiguration

        from .structure import record_boxes

        embed_profiles_as_supplied()
        share_stylesheets()
        share_compressed_streams()
        record_boxes()
        self.cache: dict = SuccessCache()   # images: per writer, so an edited image is read again
        key = warm_key(allowed_dirs, font_rules)
        if key is not None and key in _WARM:
            # The same process and fonts as a writer before it (`watch`): keep its font
            # configuration (loaded faces, shaping caches) and URL fetcher (the parsed stylesheets).
            self.font_config, self.url_fetcher = _WARM[key]
            global WARM_REUSED
            WARM_REUSED += 1
            return
        self.font_config = FontConfiguration()
        self.url_fetcher = make_url_fetcher(allowed_dirs)
        if key is not None:
            _WARM.clear()   # one warm writer per process
            _WARM[key] = (self.font_config, self.url_fetcher)

    def layout(self, html: str, base_url: Path, variant: str) -> "Layout":
        """Lay out HTML into pages without writing a PDF (cheap: no fonts subset, no tags)."""
        from weasyprint import HTML

        options = _variant_options(variant)
        with captured_log() as records:
            try:
                doc = HTML(string=html, base_url=base_url.as_uri() + "/", url_fetcher=self.url_fetcher)
                document = doc.render(font_config=self.font_config, cache=self.cache, **options)
            except BaseException as exc:  # FatalURLFetchingError is a BaseException
                if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                    raise
                raise RefusedURL(str(exc)) from None
        return Layout(document, options, list(records))

    def write(self, layout: "Layout", catalog: dict[str, str] | None = None, finishers=()) -> RenderResult:
        """Write a laid-out document as PDF; WeasyPrint's log becomes the result's errors and warnings.

        `catalog` sets entries of the PDF's catalog, such as {"PageMode": "/UseOutlines"};
        each of `finishers` is called with WeasyPrint's document and PDF objects before they are written.
        """
        from .structure import finish_screen

        screen = layout.options.get("pdf_variant") == SCREEN_VARIANT

        def finisher(document, pdf):
            for key, value in (catalog or {}).items():
                pdf.catalog[key] = value
            if screen:
                finish_screen(document, pdf)
            for step in finishers:
                step(document, pdf)

        with captured_log() as records:
            pdf = layout.document.write_pdf(finisher=finisher if catalog or screen or finishers else None,
                                            **layout.options)
        errors, warnings = [], []
        for record in layout.records + records:
            message = record.getMessage()
            if record.levelno >= logging.ERROR or any(w in message for w in FATAL_WARNINGS):
                errors.append(message)
            else:
                warnings.append(message)
        result = RenderResult(pdf=pdf, pages=layout.pages, errors=errors, warnings=warnings,
                              page_height=layout.page_height)
        result.anchors, result.anchor_y = layout.anchors()
        result.fills = layout.fills()
        return result

    def render(self, html: str, base_url: Path, stylesheets: list[Path], variant: str) -> RenderResult:
        """Lay out and write HTML as PDF."""
        return self.write(self.layout(html, base_url, variant))


@dataclass
class Layout:
    """A laid-out document: its pages are known before any PDF is written."""

    document: object
    options: dict
    records: list
    _overlaps: list[str] | None = field(default=None, repr=False, compare=False)

    @property
    def pages(self) -> int:
        return len(self.document.pages)

    @property
    def page_height(self) -> float:
        return self.document.pages[0].height if self.document.pages else 0.0

    def overlaps(self) -> list[str]:
        """Text that runs into other text, a rule or a shape (policyprint/overlap.py); computed
        once per layout, as the poster fit and the write both ask."""
        if self._overlaps is None:
            from .overlap import overlaps

            self._overlaps = overlaps(self.document)
        return self._overlaps

    def page_turn_hyphens(self) -> set[str]:
        """Words hyphenated across a page turn: the last line of a page ends in a hyphen.

        Returns each such word whole (its head on one page, its tail on the next),
        so that the document can be laid out again with those words kept whole.
        """
        from weasyprint.formatting_structure.boxes import LineBox, MarginBox, ParentBox, TextBox

        def lines(box):
            if isinstance(box, MarginBox):
                return   # running heads and page numbers are not the text flow
            if isinstance(box, LineBox):
                yield box
                return
            if isinstance(box, ParentBox):
                for child in box.children:
                    yield from lines(child)

        def texts(line):
            return [b for b in line.descendants() if isinstance(b, TextBox)]

        words = set()
        pages = [list(lines(page._page_box)) for page in self.document.pages]
        for page, following in zip(pages, pages[1:]):
            if not page or not following:
                continue
            last, first = texts(page[-1]), texts(following[0])
            if not last or not first:
                continue
            hyphen = last[-1].style["hyphenate_character"]
            if hyphen and last[-1].text.endswith(hyphen):
                head = last[-1].text[:-len(hyphen)].split()[-1:] or [""]
                tail = first[0].text.split()[:1] or [""]
                word = (head[0] + tail[0]).replace("\u00ad", "")
                word = "".join(ch for ch in word if ch.isalnum())
                if word:
                    words.add(word)
        return words

    def fills(self) -> list[float]:
        """Per page, how far down its type area the content reaches (0 empty, 1 full).

        Measured from the top of the page area to the lowest line, image or box with a
        background or border of the flow; running heads and page numbers do not count.
        """
        from weasyprint.formatting_structure.boxes import LineBox, MarginBox, ParentBox, ReplacedBox

        def bottoms(box):
            if isinstance(box, MarginBox):
                return
            if isinstance(box, (LineBox, ReplacedBox)):
                yield box.position_y + box.margin_height()
                return
            style = getattr(box, "style", None)
            if style is not None and box.element_tag not in ("html", "body") and (
                    style["background_color"].alpha > 0 or style["border_bottom_width"] > 0):
                yield box.border_box_y() + box.border_height()
            if isinstance(box, ParentBox):
                for child in box.children:
                    yield from bottoms(child)

        result = []
        for page in self.document.pages:
            area = page._page_box
            top, height = area.content_box_y(), area.height
            lowest = max((b for child in area.children for b in bottoms(child)), default=top)
            result.append(round(max(0.0, min(1.0, (lowest - top) / height)), 3) if height else 0.0)
        return result

    def anchors(self) -> tuple[dict[str, int], dict[str, tuple[int, float]]]:
        """Element ids → page number, and → (page number, y in px)."""
        pages, places = {}, {}
        for number, page in enumerate(self.document.pages, 1):
            for anchor, box in page.anchors.items():
                pages.setdefault(anchor, number)
                places.setdefault(anchor, (number, box[1]))
        return pages, places


def _variant_options(variant: str) -> dict:
    if variant == "screen":
        # Tagged PDF/A-2a; the finisher (structure.py) adds the PDF/UA-1 claim and repairs the
        # tags. WeasyPrint logs an error for an image without alt text.
        return {"pdf_variant": SCREEN_VARIANT, "pdf_identifier": True, "custom_metadata": True}
    if variant == "print":
        # PDF/X-4: the output intent comes from the @color-profile device-cmyk rule.
        return {"pdf_variant": "pdf/x-4", "custom_metadata": True}
    if variant == "booklet":
        # The same render as the screen file (a booklet reuses it when both are built),
        # so the bytes do not depend on which variants a build asks for.
        return _variant_options("screen")
    raise ValueError(f"variant {variant!r} is not built yet")
