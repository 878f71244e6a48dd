"""Render stage: Jinja2 templates + content → one HTML document per job."""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import re
from functools import cached_property
from pathlib import Path

import jinja2
import segno
from markupsafe import Markup, escape

from .plan import PAGE_SIZES_MM, Job
from .project import SOURCE_LANG, Project

DANISH_MONTHS = ("januar", "februar", "marts", "april", "maj", "juni", "juli",
                 "august", "september", "oktober", "november", "december")

# Inline markup allowed in content, applied after HTML escaping: **strong**,
# *emphasis* and [words](https://link). Nothing else becomes markup.
_STRONG = re.compile(r"\*\*(.+?)\*\*")
_EM = re.compile(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])")
_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")
_QUOTED = re.compile(r'"([^"]*)"')


def css_str(value: str) -> Markup:
    """Escape text for use inside a double-quoted CSS string in a <style> block."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ")
    return Markup(text.replace("<", "\\3C "))


def date_da(value: dt.date) -> str:
    """Format a date the Danish way: 1. januar 2026 (no line break after "1.")."""
    return f"{value.day}.\u00a0{DANISH_MONTHS[value.month - 1]} {value.year}"


def number_da(value: float, decimals: int = 0) -> str:
    """Format a number the Danish way: 1.000,5."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


class Typesetter:
    """Danish typography for content text: quotes, hyphenation exceptions, inline markup."""

    def __init__(self, exceptions: list[dict[str, str]], quotes: tuple[str, str] = ("»", "«")):
        self.quotes = quotes
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

    def __call__(self, text: str, hyphenate: bool = True) -> Markup:
        text = _QUOTED.sub(lambda m: f"{self.quotes[0]}{m.group(1)}{self.quotes[1]}", str(text))
        html = str(escape(text))
        if hyphenate and self.pattern:
            html = self.pattern.sub(self._hyphenate, html)
        html = _LINK.sub(r'<a href="\2">\1</a>', html)
        html = _STRONG.sub(r"<strong>\1</strong>", html)
        html = _EM.sub(r"<em>\1</em>", html)
        return Markup(html.replace("\n", "<br>"))


def font_faces(brand: dict) -> tuple[str, list[Path]]:
    """Return @font-face rules for the brand fonts (static instances), and the folders they live in."""
    from .fonts import static_faces

    rules, folders = [], set()
    for face in static_faces(brand):
        folders.add(face["path"].parent)
        rules.append(
            f'@font-face {{ font-family: "{face["family"]}"; font-weight: {face["weight"]}; '
            f'font-style: {face["style"]}; src: url("{face["path"].as_uri()}"); }}')
    return "\n".join(rules), sorted(folders)


def colour_value(colour: dict, variant: str) -> str:
    """A brand colour as CSS: RGB on screen, device-cmyk() for press files."""
    if variant == "print":
        c, m, y, k = colour["cmyk"]
        return f"device-cmyk({c:g} {m:g} {y:g} {k:g})"
    return colour["rgb"].lower()


class Renderer:
    """Turns jobs into HTML. One instance serves many jobs (templates are cached)."""

    def __init__(self, project: Project):
        self.project = project
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(project.root / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.typeset = Typesetter(project.data("hyphenation")["exceptions"])
        self.env.filters.update(typo=self.typeset, date_da=date_da, number_da=number_da, css_str=css_str)
        self.env.globals.update(qr_svg=qr_svg, logo_svg=self.logo_svg)

    @cached_property
    def fonts(self) -> tuple[str, list[Path]]:
        return font_faces(self.project.data("brand"))

    @cached_property
    def policy_index(self) -> dict:
        """Lookups by id, so products quote the policy instead of copying it."""
        sections = self.project.policy["sections"]
        leads = {s["id"]: s["lead"] for s in sections if "lead" in s}
        leads |= {u["id"]: u["lead"] for s in sections for u in s.get("subsections", []) if "lead" in u}
        lists = {lst["id"]: lst for s in sections for lst in s.get("lists", [])}
        items = {it["id"]: it for lst in lists.values() for it in lst["items"]}
        return {"leads": leads, "lists": lists, "items": items}

    def strings(self, lang: str) -> dict[str, str]:
        """The fixed words for `lang`, falling back to the source language key by key."""
        merged = dict(self.project.strings[SOURCE_LANG].data)
        if lang in self.project.strings:
            merged.update(self.project.strings[lang].data)
        return merged

    def tokens_css(self, variant: str) -> str:
        brand = self.project.data("brand")
        lines = [f"  --colour-{role}: {colour_value(c, variant)};" for role, c in brand["colours"].items()]
        lines += [f"  --size-{role}: {size};" for role, size in brand["type"].items()]
        lines += [f'  --font-{role}: "{f["family"]}";' for role, f in brand["fonts"].items()]
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

    def context(self, job: Job, fit_pt: float | None = None) -> dict:
        project = self.project
        product = project.product(job.product)
        brand = project.data("brand")
        size = job.size or product["size"]
        width, height = PAGE_SIZES_MM[size]
        return {
            "job": job,
            "lang": job.lang,
            "dir": "rtl" if job.lang in ("ar", "ur") else "ltr",
            "product": product,
            "page_size": {"name": size, "width": width, "height": height},
            "fit_pt": fit_pt,
            "press": self.press_setup() if job.variant == "print" else None,
            "poster": next((p for p in project.data("posters")["posters"] if p["id"] == product.get("poster")),
                           None),
            "policy": project.policy,
            "meta": project.policy["meta"],
            "site": project.data("site"),
            "s": self.strings(job.lang),
            "colour": {role: colour_value(c, job.variant) for role, c in brand["colours"].items()},
            "font_faces": Markup(self.fonts[0]),
            "tokens_css": Markup(self.tokens_css(job.variant)),
            "stylesheets": ["base.css", "pages.css", product["stylesheet"]],
            **self.policy_index,
            "leaflet": project.data("leaflets")["leaflets"].get(product.get("audience"))
            if product["kind"] == "leaflet" else None,
            "institution": project.institution(job.institution) if job.institution else None,
        }

    def press_setup(self) -> dict:
        setup = self.project.data("print")
        return {"profile_url": self.project.cmyk_profile().resolve().as_uri(), "bleed_mm": setup["bleed_mm"]}

    def html(self, job: Job, fit_pt: float | None = None) -> str:
        """The job's HTML; `fit_pt` sets the root type size of products fitted to their page."""
        product = self.project.product(job.product)
        return self.env.get_template(product["template"]).render(self.context(job, fit_pt))


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
