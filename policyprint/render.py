"""Render stage: Jinja2 templates + content → one HTML document per job."""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import re
from contextlib import contextmanager
from functools import cached_property
from typing import Callable
from pathlib import Path

import jinja2
import segno
from markupsafe import Markup, escape

from .bidi import LTR_RUN
from .plan import PAGE_SIZES_MM, Job
from .project import SOURCE_LANG, Project

_QUOTED = re.compile(r'"([^"]*)"')

# Danish dashes, set by the typesetter; the YAML keeps the text as written.
_RANGE = re.compile(r"(?<=\d)-(?=\d)")              # 0-25 år → 0–25 år
_SPACED = re.compile(r"(?<=\S) - (?=\S)")            # livsduelighed - at → livsduelighed – at
_LINE_START = re.compile(r"(?m)^(\W*)- ")            # "- Alle i fællesskab" → "– Alle i fællesskab"
# A suspended hyphen stays with its conjunction ("Børne- og Ungepolitik"): a line that
# ends in "Børne-" reads as a broken word, and text extractors join it ("Børneog").
_SUSPENDED = re.compile(r"(?<![\w<])(\w+-) (og|eller)\b")
# A paragraph's last word, kept whole (never hyphenated), unless it carries markup.
_LAST_WORD = re.compile(r"(\S+)\s*\Z")
_MARKUP_CHARS = re.compile(r"[*\[\]()]")
# Right-to-left text: a run of Latin letters and digits (a name, "0–25", "44 77 20 00") is set
# in its own left-to-right span. The page looks the same (the bidi algorithm gives the run its
# place), but each run is then its own text box, drawn in reading order, so that text
# extraction (pypdf keeps the text boxes in the order they are drawn) reads the line in order.
# Guillemets (and the middle dot) are neutral to the bidi algorithm but left-to-right to pypdf:
# each is a box of its own too (without dir, so that the right-to-left line still mirrors it).
# A neutral character (. : ;) at the end of a box is drawn first (at the box's left), and pypdf
# gives it the direction of the box read before, so after a list number or a Latin name it lands
# at the wrong end of the line: each such punctuation mark is a box too. (Not a dash: WeasyPrint
# breaks a line between boxes after a space even before a word joiner, so the dash kept with the
# word before it would start the next line. The space before a box is a box too: _RTL_SPACE.)
_RTL_BOXED = re.compile(f"({LTR_RUN.pattern})" r"|[\u00ab\u00bb\u00b7.:;!?()]")
# The space between right-to-left text and the box after it (a Latin name, a number, a guillemet)
# is a box of its own. As the last character of the text before, it would be the first glyph of
# that text box drawn (at its left), and pypdf would give it the direction of the box read before,
# so after a number ("من 0 إلى 25") or a Latin name it moved to the other end of the text
# ("0  إلى25"). A box of a lone space is not drawn (WeasyPrint 70 skips a blank text box): the word
# joiner (U+2060, no glyph, no width) in front of it makes it drawn, and keeps the break after
# the space where it was, the space still last on the line when the line breaks there.
_RTL_SPACE = "<span>\u2060 </span>"
# A short Arabic word (a particle such as أن, في, من) is kept on the line of the word after it.
# (Not before a Latin word: that would split the run "Ballerup Kommune" into two.)
_SHORT_WORD = re.compile(r"(?<![\w\u0600-\u06ff])([\u0600-\u06ff]{1,2}) (?=[\u0600-\u06ff])")
# The last two Arabic words of a text stay on one line: no word alone on a paragraph's, a card's
# or a title's last line (Arabic is not hyphenated, so a lone last word is common).
_LAST_TWO = re.compile(r"(?<=[\u0600-\u06ff]) (?=[\u0600-\u06ff][^\s]*\s*\Z)")


def dashes(text: str) -> str:
    """En dashes for numeric ranges and for spaced dashes between clauses (a no-break space before)."""
    text = _RANGE.sub("\u2013", str(text))
    text = _SPACED.sub("\u00a0\u2013 ", text)
    return _LINE_START.sub("\\1\u2013 ", text)

# Characters that may stand as they are inside a CSS string in a <style> block.
# Everything else (quotes, backslash, line ends, form feed, any control
# character, and < > & that could end the <style> element) is written as a
# CSS hex escape, so content can never end the string or the block.
_CSS_SAFE = re.compile(r"[^\\\"'<>&\x00-\x1f\x7f-\x9f\u2028\u2029]")


def css_str(value: str) -> Markup:
    """Escape text for use inside a double-quoted CSS string in a <style> block."""
    out = []
    for ch in str(value):
        if _CSS_SAFE.fullmatch(ch):
            out.append(ch)
        else:   # NUL is not allowed even escaped: it becomes U+FFFD, as CSS would make it
            out.append(f"\\{ord(ch) if ch != chr(0) else 0xFFFD:X} ")
    return Markup("".join(out))


_LENGTH = re.compile(r"\d{1,3}(\.\d{1,2})?(pt|mm|px|rem|em)")
_HEX = re.compile(r"#[0-9a-fA-F]{6}")
_ROLE = re.compile(r"[a-z][a-z0-9-]{0,39}")


def css_token(value: str, pattern: re.Pattern, what: str) -> str:
    """A brand value for CSS: only a value of its type, never pasted text (`check` reports it first)."""
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ValueError(f"refused to put {value!r} into CSS: expected {what}")
    return value


def fill(template: str, **values: str) -> str:
    """Fill named placeholders such as {url}: no positions, attributes, indexes or format specs.

    Content strings are never given to str.format, which would let a
    translator's text reach into Python objects.
    """
    import string

    out = []
    for literal, name, spec, conversion in string.Formatter().parse(str(template)):
        out.append(literal)
        if name is None:
            continue
        if name not in values or spec or conversion:
            raise ValueError(f"unknown placeholder {{{name}}} (this text takes {', '.join(values) or 'none'})")
        out.append(str(values[name]))
    return "".join(out)


def placeholders(template: str) -> list[str]:
    """The placeholders of a content string, as written; ValueError if its braces are unbalanced."""
    import string

    found = []
    for _, name, spec, conversion in string.Formatter().parse(template):
        if name is not None:
            found.append(name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else ""))
    return found


@functools.lru_cache(maxsize=64)
def date_long(value: dt.date, locale: str) -> str:
    """A date in the locale's long format, from CLDR through Babel: "1. januar 2026",
    "1 January 2026", "1 січня 2026 р."; no line break inside it. Remembered, so that a
    process that has released Babel's data (release_cldr) does not load it again."""
    from babel.dates import format_date

    return format_date(value, format="long", locale=locale).replace(" ", "\u00a0")


def release_cldr() -> None:
    """Let go of the CLDR data Babel has loaded: its global tables and every locale (about 4 MB
    for one language), which Babel keeps for the life of the process and has no public call to
    drop. The build calls it before forking its workers: they need only the dates the keys
    already formatted (date_long remembers them), and every page of it would count again in each
    worker's memory. Babel loads the data again if it is asked for more."""
    import sys

    core, localedata = sys.modules.get("babel.core"), sys.modules.get("babel.localedata")
    if core is not None and getattr(core, "_global_data", None) is not None:
        core._global_data = None
    if localedata is not None and isinstance(getattr(localedata, "_cache", None), dict):
        localedata._cache.clear()


def language_quotes(language: dict) -> tuple[str, str]:
    """A language's quotation marks (languages.yaml quotes: CLDR's, or the project's choice)."""
    return tuple(language["quotes"])


def number_da(value: float, decimals: int = 0) -> str:
    """Format a number the Danish way: 1.000,5."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


class Typesetter:
    """Danish typography for content text: quotes, hyphenation exceptions, inline markup."""

    def __init__(self, exceptions: list[dict[str, str]], quotes: tuple[str, str] = ("»", "«"),
                 dictionary: str | None = "da_DK", rtl: bool = False):
        self.quotes = quotes
        self.dictionary = dictionary
        self.rtl = rtl
        words = {}
        for entry in exceptions:
            words.update(entry)
        self.words = words
        self.pattern = (re.compile(r"(?<!\w)(" + "|".join(
            re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")(?!\w)")
            if words else None)

    def _hyphenate(self, match: re.Match) -> str:
        marked = self.words[match.group(1)]
        if "|" in marked:
            return str(escape(marked)).replace("|", "\u00ad")
        # No break point at all: let CSS keep the word whole.
        return f'<span class="nohyphen">{escape(marked)}</span>'

    # Words kept whole for the document being rendered: ones that were hyphenated
    # across a page turn (set by the job runner, which lays the document out again).
    keep_whole: frozenset = frozenset()

    def _text_html(self, text: str) -> str:
        """Plain text as HTML, with the hyphenation exceptions applied and suspended hyphens kept
        with their conjunction."""
        if self.rtl:
            return self._rtl_html(text, self._words_html)
        return _SUSPENDED.sub(r'<span class="nowrap">\1 \2</span>', self._words_html(text))

    @staticmethod
    def _rtl_html(text: str, html: Callable[[str], str]) -> str:
        """Right-to-left text as HTML: each left-to-right run in a span of its own (_RTL_BOXED), and
        a short word kept with the next (no line of one particle).

        Words are kept together by a space and a word joiner (U+2060, which prints nothing and
        forbids the break after the space), not by a no-break space: pypdf takes U+00A0 for a
        left-to-right character and reorders the words around it, and a no-wrap span would
        make a text box of its own (see _RTL_BOXED)."""
        text = _SHORT_WORD.sub("\\1\u00a0", text).replace("\u00a0", " \u2060")
        out, pos = [], 0
        for m in _RTL_BOXED.finditer(text):
            before = text[pos:m.start()]
            if before.endswith(" "):
                # The space before a box is a box of its own (_RTL_SPACE), not the last character
                # of the right-to-left text before it.
                out.append(html(before[:-1]) + _RTL_SPACE)
            else:
                out.append(html(before))
            # A short left-to-right run (a name: "Ballerup Kommune") is not broken across lines.
            ltr = (' dir="ltr" class="nowrap"' if " " in m.group() and len(m.group()) <= 24 else ' dir="ltr"') \
                if m.group(1) else ""
            out.append(f'<span{ltr}>{html(m.group())}</span>')
            pos = m.end()
        out.append(html(text[pos:]))
        return "".join(out)

    def _words_html(self, text: str) -> str:
        if self.keep_whole:
            parts = re.split(r"(\w+)", text)
            return "".join(f'<span class="nohyphen">{escape(p)}</span>' if p in self.keep_whole
                           else self._exceptions_html(p) for p in parts)
        return self._exceptions_html(text)

    def _exceptions_html(self, text: str) -> str:
        if not self.pattern:
            return str(escape(text))
        out, pos = [], 0
        for m in self.pattern.finditer(text):
            out.append(str(escape(text[pos:m.start()])))
            out.append(self._hyphenate(m))
            pos = m.end()
        out.append(str(escape(text[pos:])))
        return "".join(out)

    # Headings are not hyphenated, but a word longer than this (no title has one today)
    # gets break points, so that it breaks inside its measure instead of running out of it.
    LONG_WORD = 16

    def _long_words_html(self, text: str) -> str:
        import pyphen

        if self.dictionary is None:
            return self._rtl_html(text, lambda part: str(escape(part))) if self.rtl else str(escape(text))
        dictionary = pyphen.Pyphen(lang=self.dictionary)
        return "".join(dictionary.inserted(part, "\u00ad") if len(part) >= self.LONG_WORD else part
                       for part in re.split(r"(\w+)", str(escape(text))))

    def __call__(self, text: str, hyphenate: bool = True) -> Markup:
        from .markup import render_inline

        text = _QUOTED.sub(lambda m: f"{self.quotes[0]}{m.group(1)}{self.quotes[1]}", dashes(text))
        if self.rtl and len(text.split()) > 3:
            text = _LAST_TWO.sub("\u00a0", text)   # set as a space and a word joiner (_rtl_html)
        if not hyphenate:
            return Markup(render_inline(text, self._long_words_html))
        last = _LAST_WORD.search(text) if self.dictionary else None   # nothing to keep whole unhyphenated
        if last and not _MARKUP_CHARS.search(last.group(1)):
            # Never hyphenate a paragraph's last word: a lone word-tail on the last line reads badly.
            head, tail = text[:last.start(1)], text[last.start(1):].rstrip()
            return Markup(render_inline(head, self._text_html) + f'<span class="nohyphen">{escape(tail)}</span>')
        return Markup(render_inline(text, self._text_html))


def font_faces(brand: dict) -> tuple[str, list[Path]]:
    """Return @font-face rules for the brand fonts (static instances), and the folders they live in."""
    from .fonts import static_faces

    rules, folders = [], set()
    for face in static_faces(brand):
        folders.add(face["path"].parent)
        rules.append(
            f'@font-face {{ font-family: "{css_str(face["family"])}"; font-weight: {face["weight"]}; '
            f'font-style: {face["style"]}; src: url("{face["path"].as_uri()}"); }}')
    return "\n".join(rules), sorted(folders)


def colour_value(colour: dict, variant: str) -> str:
    """A brand colour as CSS: RGB on screen, device-cmyk() for press files."""
    if variant == "print":
        c, m, y, k = (min(max(float(v), 0.0), 1.0) for v in colour["cmyk"])
        return f"device-cmyk({c:g} {m:g} {y:g} {k:g})"
    return css_token(colour["rgb"], _HEX, "a colour such as #0077ad").lower()


class Renderer:
    """Turns jobs into HTML. One instance serves many jobs (templates are cached).

    With the levers on (policyprint/levers.py), a process keeps one Jinja environment per
    templates folder (compiled templates are reused, and a template edited since is compiled
    again) with its bytecode on disk in policyprint/__pycache__/jinja-<version>/, and
    `Renderer.shared` gives the key and the job one Renderer for a project.
    """

    def __init__(self, project: Project):
        from . import levers

        self.project = project
        self.env = _environment(project.root) if levers.on() else _new_environment(project.root, None)
        self.typesetters: dict[str, Typesetter] = {}
        self.typeset = self.typesetter(SOURCE_LANG)
        self._used: dict[str, set[str]] = {}
        # Each job's plain HTML, once: the job key renders it, and the job renders the same.
        self._html: dict = {}
        self._bind()

    def _bind(self) -> None:
        """Point the environment's filters and globals at this renderer (a shared environment
        may have served another Renderer of the same folder since)."""
        if getattr(self.env, "policyprint_owner", None) is not None:
            # An imported template (partials/…) keeps, in its cached module, the filters and
            # globals of the renderer it was first imported for: load the templates afresh
            # (from the bytecode cache) so that this renderer's are used.
            self.env.cache.clear()
        self.env.filters.update(typo=self._typo, number_da=number_da, css_str=css_str,
                                fill=fill, dashes=dashes, date_long=date_long)
        self.env.globals.update(qr_svg=qr_svg, logo_svg=self.logo_svg, text_width=self.text_width,
                                svg_label=self.svg_label)
        self.env.policyprint_owner = self

    def _typo(self, text, hyphenate: bool = True):
        """The `typo` filter: the typesetter of the document being rendered, looked up at each
        call. Imported templates (partials/…) keep the filter they were first compiled with in
        their cached module, so the filter itself must not change between languages."""
        return self.typeset(text, hyphenate=hyphenate)

    def _template(self, name: str):
        if getattr(self.env, "policyprint_owner", None) is not self:
            self._bind()
        return self.env.get_template(name)

    _last: tuple | None = None   # (project, renderer): the one `shared` gave last

    @classmethod
    def shared(cls, project: Project) -> "Renderer":
        """The process's Renderer for `project` (the same object): the key and the job share it,
        so the templates are compiled once. A new Renderer when the levers are off."""
        from . import levers

        if not levers.on():
            return cls(project)
        if cls._last is None or cls._last[0] is not project:
            Renderer._last = (project, cls(project))
        return cls._last[1]

    @cached_property
    def fonts(self) -> tuple[str, list[Path]]:
        from . import levers

        brand = self.project.data("brand")
        if not levers.on():
            return font_faces(brand)
        key = repr(brand["fonts"])
        if key not in _FONT_FACES:   # the same brand fonts in a process: the same rules
            _FONT_FACES[key] = font_faces(brand)
        return _FONT_FACES[key]

    font_role = "text"   # the brand font of the document being rendered (its language's)

    def faces(self, role: str) -> list[dict]:
        from .fonts import static_faces

        cache = self.__dict__.setdefault("_faces", {})
        if role not in cache:
            brand = self.project.data("brand")
            cache[role] = static_faces({"fonts": {role: brand["fonts"][role]}})
        return cache[role]

    @property
    def text_faces(self) -> list[dict]:
        return self.faces(self.font_role)

    def svg_label(self, text: str, x: float, y: float, size: float, fill: str, bold: bool = False,
                  family: str = "Noto Sans", stroke: float | None = None) -> Markup:
        """A diagram label: SVG text, or, for Arabic, its shaped glyph outlines (policyprint/bidi.py).
        With `stroke` (a width in points), only the letters' outlines are drawn, in `fill`."""
        from .bidi import has_arabic, outlines

        if has_arabic(text):
            return Markup(outlines(str(text), self._face_path(bold), float(x), float(y), float(size), str(fill),
                                   stroke=stroke))
        weight = ' font-weight="700"' if bold else ""
        paint = f'fill="{fill}"' if stroke is None else f'fill="none" stroke="{fill}" stroke-width="{stroke}"'
        return Markup(f'<text direction="ltr" x="{x}" y="{y}" font-family="{escape(family)}"{weight} '
                      f'font-size="{size}" {paint}>{escape(text)}</text>')

    def _face_path(self, bold: bool) -> str:
        """The upright face of the document's font nearest to regular or bold."""
        face = min((f for f in self.text_faces if f["style"] == "normal"),
                   key=lambda f: abs(f["weight"] - (700 if bold else 400)))
        return str(face["path"])

    def text_width(self, text: str, size_pt: float, bold: bool = False) -> float:
        """How wide text sets in the language's brand font, in points: diagrams place their labels with it.
        Arabic is measured as HarfBuzz shapes it (policyprint/bidi.py), as it is drawn."""
        from .bidi import has_arabic, width
        from .fonts import text_width

        if has_arabic(text):
            return width(str(text), self._face_path(bold), float(size_pt))
        return text_width(self.text_faces, str(text), float(size_pt), 700 if bold else 400)

    def typesetter(self, lang: str) -> Typesetter:
        """The typography of `lang`: its quotation marks, its hyphenation dictionary, and (Danish
        only) the hyphenation exceptions of content/hyphenation.yaml."""
        if lang not in self.typesetters:
            language = self.project.language(lang)
            dictionary = language.get("hyphenation", "none")
            exceptions = self.project.data("hyphenation")["exceptions"] if lang == SOURCE_LANG else []
            self.typesetters[lang] = Typesetter(exceptions, language_quotes(language),
                                                None if dictionary == "none" else dictionary,
                                                rtl=language.get("dir") == "rtl")
        return self.typesetters[lang]

    def localised(self, lang: str):
        from .translations import localised

        return localised(self.project, lang)

    def _speak(self, lang: str) -> None:
        """Set text in `lang` from now on: its typesetter (quotes, hyphenation) and its font."""
        self.typeset = self.typesetter(lang)
        self.font_role = self.project.font_role(lang)

    @contextmanager
    def speaking(self, lang: str):
        """Set text in `lang` inside the block; the caller's typesetter and font are put back after
        (a render inside another render: the translation ids, the web edition)."""
        previous = self.typeset, self.font_role
        self._speak(lang)
        try:
            yield
        finally:
            self.typeset, self.font_role = previous

    def used_ids(self, product_id: str) -> set[str]:
        """The translation ids a product's files show (found by rendering it with every text
        replaced by a numbered marker; the same for every language and institution)."""
        from .translations import ids_in, marked

        if product_id not in self._used:
            loc, ids = marked(self.project)
            variant = self.project.data("products")["variants"][0]
            with self.speaking(SOURCE_LANG):   # a render inside another job's render keeps that job's
                html = self.html(Job(product_id, SOURCE_LANG, variant), loc=loc)
            self._used[product_id] = ids_in(html, ids)
        return self._used[product_id]

    def translation_state(self, job: Job) -> tuple[list[str], list[str]]:
        """The ids a job uses that its language lacks, and those that are draft or stale."""
        if job.lang == SOURCE_LANG:
            return [], []
        loc = self.localised(job.lang)
        used = self.used_ids(job.product)
        return sorted(used & loc.missing), sorted(used & loc.drafts)

    def stale_ids(self, job: Job) -> list[str]:
        """The ids a job uses whose translation is older than the Danish (also in its HTML, so
        that a file turns out of date, and is built again, when the Danish it uses changes)."""
        if job.lang == SOURCE_LANG:
            return []
        from .translations import entry_states

        cache = self.project.__dict__.setdefault("_states", {})
        if job.lang not in cache:
            cache[job.lang] = entry_states(self.project, job.lang)
        states = cache[job.lang]
        return sorted(i for i in self.used_ids(job.product) if states[i].state == "stale")

    def document_title(self, job: Job) -> str:
        """The document title (as the office files carry it), with the draft word when draft."""
        title = self.localised(job.lang).product(self.project, job.product)["title"]
        if self.translation_state(job)[1]:
            title += f" – {self.strings(job.lang)['draft']}"
        return title

    def watermark_css(self, job: Job, draft_word: str, width_mm: float, height_mm: float) -> str:
        """A diagonal watermark on every page, drawn as an artifact (WeasyPrint draws backgrounds
        as artifacts, so it is never read out as content).

        A poster's cards and bands cover most of its page and hid a background watermark: there
        it is drawn over the content, in outlined letters (the text under them still reads,
        without transparency, which press files may not have), as the background of a fixed
        box. A document of several pages keeps it as the pages' background: a fixed box is
        repeated on every page and split the tag tree's lists at a page turn (a list over two
        pages became two lists to a screen reader)."""
        import math
        from urllib.parse import quote

        # SVG text is set letter by letter: an Arabic word is shaped and drawn as outlines (svg_label).
        family = self.project.data("brand")["fonts"][self.project.font_role(job.lang)]["family"]
        over = self.project.product(job.product)["kind"] == "poster"
        w, h = width_mm * 72 / 25.4, height_mm * 72 / 25.4
        diagonal = math.hypot(w, h)
        size = min(0.55 * diagonal / max(self.text_width(draft_word, 1.0, bold=True), 0.5), w * 0.3)
        angle = -math.degrees(math.atan2(h, w))
        text_w = self.text_width(draft_word, size, bold=True)
        colour = colour_value(self.project.data("brand")["colours"]["rule"], job.variant)
        label = self.svg_label(draft_word, round(w / 2 - text_w / 2, 2), round(h / 2 + size * 0.35, 2),
                               round(size, 2), colour, bold=True, family=family,
                               stroke=round(size / 80, 2) if over else None)
        svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:.2f}" height="{h:.2f}" '
               f'viewBox="0 0 {w:.2f} {h:.2f}"><g transform="rotate({angle:.2f} {w / 2:.2f} {h / 2:.2f})">'
               f'{label}</g></svg>')
        url = "data:image/svg+xml," + quote(svg, safe="")
        if over:
            return (f'html::after {{ content: ""; position: fixed; left: 50%; top: 50%; '
                    f'width: {width_mm}mm; height: {height_mm}mm; margin: {-height_mm / 2}mm 0 0 {-width_mm / 2}mm; '
                    f'background: url("{url}") center / {width_mm}mm {height_mm}mm no-repeat; z-index: 100; }}')
        # Named pages set only their background colour (pages.css), so this reaches them too.
        return (f'@page {{ background-image: url("{url}"); background-repeat: no-repeat; '
                f'background-position: center; background-size: {width_mm}mm {height_mm}mm; }}')

    def policy_index(self, loc=None) -> dict:
        """Lookups by id, so products quote the policy instead of copying it."""
        loc = loc or self.localised(SOURCE_LANG)
        if "_index" not in loc.__dict__:
            loc.__dict__["_index"] = self._index(loc.policy)
        return loc.__dict__["_index"]

    @staticmethod
    def _index(policy: dict) -> dict:
        sections = policy["sections"]
        leads = {s["id"]: s["lead"] for s in sections if "lead" in s}
        leads |= {u["id"]: u["lead"] for s in sections for u in s.get("subsections", []) if "lead" in u}
        bodies = {s["id"]: s["body"] for s in sections if "body" in s}
        bodies |= {u["id"]: u["body"] for s in sections for u in s.get("subsections", []) if "body" in u}
        lists = {lst["id"]: lst for s in sections for lst in s.get("lists", [])}
        items = {it["id"]: it for lst in lists.values() for it in lst["items"]}
        return {"leads": leads, "bodies": bodies, "lists": lists, "items": items}

    def strings(self, lang: str) -> dict[str, str]:
        """The fixed words for `lang`, falling back to the source language key by key."""
        merged = dict(self.project.strings[SOURCE_LANG].data)
        if lang in self.project.strings:
            merged.update(self.project.strings[lang].data)
        return merged

    def tokens_css(self, variant: str) -> str:
        """The brand values as CSS custom properties, each serialised by its type."""
        brand = self.project.data("brand")

        def role(name):
            return css_token(name, _ROLE, "a role name")
        lines = [f"  --colour-{role(name)}: {colour_value(c, variant)};" for name, c in brand["colours"].items()]
        lines += [f"  --size-{role(name)}: {css_token(size, _LENGTH, 'a length')};"
                  for name, size in brand["type"].items()]
        lines += [f"  --logo-{role(name)}: {css_token(size, _LENGTH, 'a length')};"
                  for name, size in brand.get("logos", {}).items()]
        lines += [f'  --font-{role(name)}: "{css_str(f["family"])}";' for name, f in brand["fonts"].items()]
        return ":root {\n" + "\n".join(lines) + "\n}\n"

    def logo_svg(self, rel_path: str, alt: str, css_class: str, variant: str) -> Markup:
        """Inline an SVG logo from content/, sanitised, its brand colours given for the variant;
        or place a PNG or JPEG logo as an <img> (CMYK through the output intent for press files).

        Inlined rather than linked so that a press file gets the brand's CMYK
        values: a hex colour equal to a brand role's RGB becomes that role's colour
        for the variant. Any other colour stays RGB, and press preflight reports it.
        The SVG is parsed and rebuilt from an allow-list (policyprint/assets.py), so
        no markup from the file reaches the HTML as markup. A refused logo names
        the content file and line that gives it.
        """
        from . import assets

        brand = self.project.data("brand")["colours"]
        try:
            markup = assets.logo_markup(
                self.project.root, rel_path, alt=alt, css_class=css_class,
                colours={c["rgb"].lower(): colour_value(c, variant) for c in brand.values()},
                # An explicit root fill: SVG's default black would be written as RGB.
                default_fill=colour_value(brand["text"], variant),
                cmyk_profile=self.project.cmyk_profile() if variant == "print" else None)
        except assets.AssetError as exc:
            where = next((src.problem(path, str(exc)) for src, path, rel in assets.logo_fields(self.project)
                          if rel == rel_path), None)
            raise assets.AssetError(str(where or exc)) from None
        return Markup(markup)

    def context(self, job: Job, fit_pt: float | None = None, personal_only: bool = False, loc=None) -> dict:
        project = self.project
        marking = loc is not None
        loc = loc or self.localised(job.lang)
        product = loc.product(project, job.product)
        brand = project.data("brand")
        size = job.size or product["size"]
        width, height = PAGE_SIZES_MM[size]
        bleed = project.data("print")["bleed_mm"] if job.variant == "print" else 0
        language = project.language(job.lang)
        strings = self.strings(job.lang)
        draft = None if marking else (strings["draft"] if self.translation_state(job)[1] else None)
        return {
            "job": job,
            "lang": job.lang,
            "dir": language["dir"],
            "language": language,
            "locale": project.locale(job.lang),
            "font_role": project.font_role(job.lang),
            "draft": draft,
            "stale_ids": [] if marking else self.stale_ids(job),
            "watermark_css": Markup(self.watermark_css(job, draft, width + 2 * bleed, height + 2 * bleed))
            if draft else "",
            "product": product,
            "page_size": {"name": size, "width": width, "height": height},
            "fit_pt": fit_pt,
            "press": self.press_setup() if job.variant == "print" else None,
            "poster": next((p for p in loc.data["posters"]["posters"] if p["id"] == product.get("poster")),
                           None),
            "policy": loc.policy,
            "meta": loc.policy["meta"],
            "site": loc.data["site"],
            "s": strings,
            "colour": {role: colour_value(c, job.variant) for role, c in brand["colours"].items()},
            "type_pt": {role: float(size.removesuffix("pt")) for role, size in brand["type"].items()
                        if size.endswith("pt")},
            "font_faces": Markup(self.fonts[0]),
            "tokens_css": Markup(self.tokens_css(job.variant)),
            "stylesheets": ["base.css", "pages.css", product["stylesheet"]]
            + (["rtl.css"] if language["dir"] == "rtl" else []),
            "font_family": brand["fonts"][project.font_role(job.lang)]["family"],
            **self.policy_index(loc),
            "leaflet": loc.data["leaflets"]["leaflets"].get(product.get("audience"))
            if product["kind"] == "leaflet" else None,
            "institution": project.institution(job.institution) if job.institution else None,
            "personal_only": personal_only,
        }

    def press_setup(self) -> dict:
        setup = self.project.data("print")
        return {"profile_url": self.project.cmyk_profile().resolve().as_uri(), "bleed_mm": setup["bleed_mm"]}

    def sheet_note_html(self, lang: str, key: str) -> str:
        """The printing instruction of an office file (the strings file's `key`), as an A4 landscape sheet."""
        return self._template("sheet-note.html.j2").render(
            lang=lang, dir=self.project.language(lang)["dir"], text=self.strings(lang)[key],
            font_faces=Markup(self.fonts[0]), tokens_css=Markup(self.tokens_css("booklet")))

    def html(self, job: Job, fit_pt: float | None = None, keep_whole: frozenset = frozenset(),
             personal_only: bool = False, loc=None) -> str:
        """The job's HTML; `fit_pt` sets the root type size of products fitted to their page;
        words in `keep_whole` are never hyphenated; `personal_only` gives only the pages
        that name the institution (products.yaml `personal_pages`); `loc` renders other
        content than the job language's (translations.marked)."""
        from . import levers

        plain = fit_pt is None and not keep_whole and not personal_only and loc is None and levers.on()
        if plain and job in self._html:   # the key asked first (and, forked, for the workers too)
            return self._html[job]
        product = self.project.product(job.product)
        self._speak(job.lang)
        self.typeset.keep_whole = frozenset(keep_whole)
        try:
            # The context first: it may render another product (the translation ids a product
            # uses), and the template's globals must be this renderer's when this one renders.
            context = self.context(job, fit_pt, personal_only, loc)
            html = self._template(product["template"]).render(context)
        finally:
            self.typeset.keep_whole = frozenset()
        if plain:
            self._html[job] = html
        return html


_FONT_FACES: dict[str, tuple[str, list[Path]]] = {}
_ENVIRONMENTS: dict[Path, jinja2.Environment] = {}


class _BytecodeCache(jinja2.FileSystemBytecodeCache):
    """Jinja's bytecode cache on disk; a folder that cannot be written only means no cache.
    A template edited since is compiled again (Jinja checks each entry against its source)."""

    def load_bytecode(self, bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except (OSError, EOFError, ValueError, TypeError):
            bucket.reset()

    def dump_bytecode(self, bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def _new_environment(root: Path, bytecode_cache) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(root / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=bytecode_cache,
    )


def _environment(root: Path) -> jinja2.Environment:
    """The process's Jinja environment for a project folder, with its bytecode cache.

    Compiled templates are code, so they are kept where Python keeps the package's own compiled
    code, policyprint/__pycache__/, never in .cache/ (which the threat model does not trust:
    docs/security.md). An entry is named by the template's path and checked against its source,
    so projects and edits never mix."""
    if root not in _ENVIRONMENTS:
        folder = Path(__file__).resolve().parent / "__pycache__" / f"jinja-{jinja2.__version__}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            cache = _BytecodeCache(str(folder))
        except OSError:
            cache = None
        _ENVIRONMENTS[root] = _new_environment(root, cache)
    return _ENVIRONMENTS[root]


@functools.lru_cache(maxsize=64)
def qr_svg(url: str, title: str, dark: str = "#000000", light: str = "#ffffff") -> Markup:
    """An inline SVG QR code for `url`, with a title that becomes its alt text.

    `dark` and `light` may be any CSS colour, device-cmyk() included: segno only
    takes RGB, so it draws with placeholders that are then swapped.
    """
    qr = segno.make(url, error="m")
    svg = qr.svg_inline(scale=4, border=4, dark="#123456", light="#654321", title=title, omitsize=True)
    svg = svg.replace("#123456", dark).replace("#654321", light)
    # An explicit root fill: SVG's default black would be written as RGB.
    return Markup(svg.replace("<svg ", f'<svg role="img" class="qr" fill="{dark}" ', 1))
