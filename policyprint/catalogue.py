"""Post-build stage: the catalogue of output/, written next to the manifest.

`output/index.html` lists every file of the pack, grouped by product and language,
with a thumbnail of its first page, its pages, format, size, status and how to
print it; `output/institutions/<id>/index.html` is the page an institution
bookmarks (its own files, the same instructions); `output/filter/*.html` are the
same catalogue filtered by language, audience or product kind (plain links: no
JavaScript needed). Everything is read from the manifest (`Output.entries`),
never from the disk, and written through `Output.write_site`, which skips a file
whose bytes are unchanged. Thumbnails are named by their PDF's sha256, so an
unchanged PDF is never rendered again.

Static files only, relative links, no scripts and no external requests: the
pages carry a Content-Security-Policy that says so, and work from file://, from
any static server and unzipped from an archive.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import PurePosixPath

from .output import Output
from .plan import PAGE_SIZES_MM
from .project import SOURCE_LANG, Project

THUMB_WIDTH = 160          # px: a thumbnail's width (its height follows the page)
THUMBS = "thumbs"          # output/thumbs/<sha256 of the PDF>.png
CSS = "web.css"            # output/web.css: the brand tokens, then styles/web.css
JS = "catalogue.js"       # output/catalogue.js: templates/web/catalogue.js, the filters in place on index.html
# No scripts, no frames, no requests anywhere but the catalogue's own folder.
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; connect-src 'self'; script-src 'none'; "
       "object-src 'none'; base-uri 'none'; form-action 'none'")
# index.html runs one script, the catalogue's own file (no inline script, no eval).
CSP_SCRIPT = CSP.replace("script-src 'none'", "script-src 'self'")
KIND_ORDER = {"policy": 0, "leaflet": 1, "poster": 2}
VARIANT_ORDER = {"screen": 0, "booklet": 1, "print": 2}


def thumbnail_png(pdf_path, width: int = THUMB_WIDTH) -> bytes:
    """The PDF's first page as a PNG `width` pixels wide (pypdfium2), the same bytes every time."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(pdf_path))
    try:
        page = document[0]
        page_width, _ = page.get_size()
        image = page.render(scale=width / page_width).to_pil().convert("RGB")
        page.close()
    finally:
        document.close()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")   # optimize=True: 2 % smaller, 6 times slower
    return buffer.getvalue()


def thumb_path(sha256: str) -> str:
    return f"{THUMBS}/{sha256}.png"


def format_name(trim_mm, landscape: str = "landscape") -> str:
    """A4, A5 … for the ISO sizes; "A4 landscape" for the office sheets; else millimetres."""
    width, height = (float(v) for v in trim_mm)
    for name, (w, h) in PAGE_SIZES_MM.items():
        if (w, h) == (width, height):
            return name
        if (h, w) == (width, height):
            return f"{name} {landscape}"
    return f"{width:g}\u00a0×\u00a0{height:g}\u00a0mm"


def file_size(n: int, locale: str) -> str:
    """A file size in the locale's words and numbers (CLDR through Babel): 845 kB, 1,2 MB; 1.2 MB."""
    from babel.units import format_unit

    if n < 1_000_000:
        text = format_unit(max(round(n / 1000), 1), "digital-kilobyte", "short", locale=locale, format="#,##0")
    else:
        text = format_unit(n / 1_000_000, "digital-megabyte", "short", locale=locale, format="#,##0.0")
    return text.replace(" ", "\u00a0")


@dataclass
class Item:
    """One PDF as the catalogue shows it."""

    entry: dict
    product: dict
    title: str
    href: str            # relative to output/
    thumb: str           # relative to output/
    variant_label: str
    howto: str
    format: str
    size: str
    status: str
    status_label: str
    reason: str


class Catalogue:
    """Builds the catalogue's pages from the manifest's entries."""

    def __init__(self, project: Project, out: Output):
        import jinja2

        from .render import Renderer, fill

        self.project = project
        self.out = out
        self.renderer = Renderer.shared(project)
        self.s = self.renderer.strings(SOURCE_LANG)
        self.locale = project.locale(SOURCE_LANG)
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(project.root / "templates" / "web"),
                                      autoescape=True, undefined=jinja2.StrictUndefined,
                                      trim_blocks=True, lstrip_blocks=True)
        self.env.filters.update(typo=self.renderer.typesetter(SOURCE_LANG), fill=fill)
        press = project.data("print")
        self.press = {"condition": press["output_intent"]["condition"], "bleed": f"{press['bleed_mm']:g}"}

    # ---- the data -----------------------------------------------------------------

    def items(self) -> list[Item]:
        from .render import fill

        products = {p["id"]: p for p in self.project.products}
        items = []
        for rel, entry in self.out.entries.items():
            if entry.get("stale") or entry.get("state") or "sha256" not in entry or entry.get("product") not in products:
                continue
            product = products[entry["product"]]
            status = entry.get("status") or "approved"
            translation = entry.get("translation") or {}
            reason = fill(self.s["web_status_reason"], **{k: str(translation[k]) for k in ("draft", "stale",
                                                                                            "entries", "file")}) \
                if status == "draft" and translation else ""
            items.append(Item(
                entry=entry, product=product, title=product["title"], href=rel, thumb=thumb_path(entry["sha256"]),
                variant_label=self.variant_label(entry, self.s),
                howto=self.howto(entry, product), format=self.format(entry),
                size=file_size(entry["bytes"], self.locale),
                status=status, status_label=self.s.get(f"web_status_{status.replace('-', '_')}", status),
                reason=str(reason)))
        items.sort(key=lambda i: (KIND_ORDER.get(i.product["kind"], 9), self.product_order(i.product["id"]),
                                  self.lang_order(i.entry["lang"]), i.entry.get("size") or "",
                                  VARIANT_ORDER.get(i.entry["variant"], 9), bool(i.entry.get("marks")), i.href))
        return items

    @staticmethod
    def variant_label(entry: dict, s: dict) -> str:
        """"For the print shop", "… with crop marks": in the words of the strings `s`."""
        return s[f"web_variant_{entry['variant']}"] + (f" {s['web_with_marks']}" if entry.get("marks") else "")

    def product_order(self, product_id: str) -> int:
        return [p["id"] for p in self.project.products].index(product_id)

    def lang_order(self, lang: str) -> tuple:
        return (lang != SOURCE_LANG, lang)

    def howto(self, entry: dict, product: dict) -> str:
        from .render import fill

        variant = entry["variant"]
        if variant == "booklet":
            return self.s["web_howto_tiles" if product["kind"] == "poster" else "web_howto_booklet"]
        if variant == "print":
            return fill(self.s["web_howto_print"], **self.press)
        return self.s["web_howto_screen"]

    def format(self, entry: dict) -> str:
        return format_name(entry.get("trim_mm") or (0, 0), self.s["web_landscape"])

    def language_name(self, lang: str) -> str:
        try:
            return self.project.language(lang)["name"]
        except (KeyError, StopIteration, ValueError):
            return lang

    def groups(self, items: list[Item]) -> list[dict]:
        """Items by product, then by language: [{product, title, langs: [{lang, name, items}]}]."""
        groups: list[dict] = []
        for item in items:
            if not groups or groups[-1]["product"]["id"] != item.product["id"]:
                groups.append({"product": item.product, "title": item.title, "langs": []})
            langs = groups[-1]["langs"]
            if not langs or langs[-1]["lang"] != item.entry["lang"]:
                from .web import WEB_KINDS

                web = None
                if item.product["kind"] in WEB_KINDS and not item.entry.get("institution"):
                    web = f"{item.entry['lang']}/{item.product['id']}.html"
                langs.append({"lang": item.entry["lang"], "name": self.language_name(item.entry["lang"]),
                              "items": [], "web": web})
            langs[-1]["items"].append(item)
        return groups

    def filters(self, items: list[Item]) -> list[dict]:
        """The filter links: by language, audience and product kind; each value a page of its own."""
        langs = sorted({i.entry["lang"] for i in items}, key=self.lang_order)
        audiences = [a for a in ("parents", "staff", "youth") if any(i.product.get("audience") == a for i in items)]
        kinds = sorted({i.product["kind"] for i in items}, key=lambda k: KIND_ORDER.get(k, 9))
        return [
            {"label": self.s["web_filter_lang"], "options": [(f"lang-{lang}", self.language_name(lang), "lang", lang)
                                                            for lang in langs]},
            {"label": self.s["web_filter_audience"], "options": [(f"audience-{a}", self.s[f"web_audience_{a}"],
                                                                 "audience", a) for a in audiences]},
            {"label": self.s["web_filter_kind"], "options": [(f"kind-{k}", self.s[f"web_kind_{k}"], "kind", k)
                                                            for k in kinds]},
        ]

    @staticmethod
    def matches(item: Item, field: str, value: str) -> bool:
        if field == "lang":
            return item.entry["lang"] == value
        if field == "audience":
            return item.product.get("audience") == value
        return item.product["kind"] == value

    # ---- the pages --------------------------------------------------------------------

    def page(self, rel: str, *, title: str, items: list[Item], filters, current: str | None,
             institution: dict | None = None, institutions=(), script: str | None = None) -> bytes:
        depth = len(PurePosixPath(rel).parts) - 1
        base = "../" * depth
        html = self.env.get_template("catalogue.html.j2").render(
            lang=SOURCE_LANG, dir=self.project.language(SOURCE_LANG)["dir"], s=self.s,
            csp=CSP_SCRIPT if script else CSP, script=script and base + script, base=base,
            title=title, groups=self.groups(items), filters=filters, current=current, institution=institution,
            institutions=institutions, policy_title=self.s["policy_name"], css=base + CSS, count=len(items))
        return html.encode()

    def changes_page(self, found: list[dict], items: list[Item]) -> tuple[bytes, dict[str, bytes]]:
        """output/changes.html and its before/after images (policyprint/proof.py found the pages)."""
        from . import proof

        titles = {i.href: f"{i.title} – {i.variant_label}" for i in items}
        files, images = [], {}
        for change in found:
            if change["path"] not in titles:
                continue
            pages = []
            for page in change["pages"]:
                before, after = proof.image_names(change, page["page"])
                cached = self.project.root / proof.PAGES_DIR
                images[before] = proof.outlined(cached / change["before"] / f"{page['page']}.png", page["box"])
                images[after] = proof.outlined(cached / change["after"] / f"{page['page']}.png", page["box"])
                pages.append({"page": page["page"], "before": before, "after": after})
            files.append({"href": change["path"], "title": titles[change["path"]], "pages": pages})
        html = self.env.get_template("changes.html.j2").render(
            lang=SOURCE_LANG, dir=self.project.language(SOURCE_LANG)["dir"], s=self.s, csp=CSP, css=CSS,
            files=files, pages=sum(len(f["pages"]) for f in files), policy_title=self.s["policy_name"])
        return html.encode(), images

    def site(self) -> dict[str, bytes | None]:
        """Every catalogue file: path → bytes (None for a thumbnail, rendered only when missing)."""
        from . import proof

        current = {rel: e["sha256"] for rel, e in self.out.entries.items()
                   if not e.get("stale") and not e.get("state") and "sha256" in e}
        found = proof.changes(self.project.root, self.out.path, current)
        for change in found:   # the manifest records each file's changed pages since the previous build
            entry = self.out.entries.get(change["path"])
            if entry is not None and entry.get("sha256") == change["after"]:
                self.out.entries[change["path"]] = {**entry, "changed_pages": [p["page"] for p in change["pages"]]}
        items = self.items()
        general = [i for i in items if not i.entry.get("institution")]
        filters = self.filters(general)
        institutions = []
        by_id = {i["id"]: i for i in self.project.institutions}
        for inst_id in sorted({i.entry["institution"] for i in items if i.entry.get("institution")}):
            inst = by_id.get(inst_id, {"id": inst_id, "name": inst_id})
            institutions.append({"id": inst_id, "name": inst["name"], "href": f"institutions/{inst_id}/index.html",
                                 "items": [i for i in items if i.entry.get("institution") == inst_id]})
        files: dict[str, bytes | None] = {
            CSS: (self.renderer.tokens_css("screen") +
                  (self.project.root / "styles" / "web.css").read_text(encoding="utf-8")).encode(),
            JS: (self.project.root / "templates" / "web" / JS).read_bytes(),
            # Only the whole catalogue filters in place: a filter page holds only its own files.
            "index.html": self.page("index.html", title=self.s["web_title"], items=general, filters=filters,
                                    current=None, institutions=institutions, script=JS),
        }
        for group in filters:
            for slug, label, field, value in group["options"]:
                rel = f"filter/{slug}.html"
                files[rel] = self.page(rel, title=f"{self.s['web_title']}: {label}", filters=filters, current=slug,
                                       items=[i for i in general if self.matches(i, field, value)],
                                       institutions=institutions)
        for inst in institutions:
            files[inst["href"]] = self.page(inst["href"], title=inst["name"], items=inst["items"], filters=[],
                                            current=None, institution=inst)
        files["changes.html"], images = self.changes_page(found, items)
        files.update(images)
        for group in self.groups(general):
            for lang in group["langs"]:
                if lang["web"]:
                    files[lang["web"]] = self.web_page(group["product"]["id"], lang["lang"], lang["items"])
        for item in items:
            files.setdefault(item.thumb, None)
        return files

    def web_page(self, product: str, lang: str, items: list[Item]) -> bytes:
        """The product's web edition in `lang` (policyprint/web.py), linking to its PDFs beside it."""
        from markupsafe import Markup, escape

        from .render import fill
        from .web import WebEdition

        s = self.renderer.strings(lang)   # the page's language, not the catalogue's
        locale = self.project.locale(lang)
        pdfs = [{"href": PurePosixPath(i.href).name,
                 "label": self.variant_label(i.entry, s),
                 # The size isolated: in Arabic, "A5، 61 كيلوبايت" would otherwise run together
                 # left to right as "A5، 61" (the number takes the Latin letters' direction).
                 "facts": Markup(fill(escape(s["web_pdf_facts"]), pages=str(i.entry["pages"]),
                                      format=escape(format_name(i.entry.get("trim_mm") or (0, 0),
                                                                s["web_landscape"])),
                                      size=Markup("<bdi>%s</bdi>") % file_size(i.entry["bytes"], locale)))}
                for i in items]
        return WebEdition(self.project, self.renderer).html(product, lang, CSP, pdfs).encode()


def write_catalogue(project: Project, out: Output) -> list[str]:
    """Write the catalogue's changed files (and delete its files no longer made); return those written."""
    files = Catalogue(project, out).site()
    written = []
    for rel, data in files.items():
        if data is None:   # a thumbnail: named by its PDF's checksum, so an existing one is up to date
            if rel in out.site and not out.site[rel].get("state") and (out.path / rel).is_file():
                continue
            entry = next(e for e in out.entries.values() if thumb_path(e.get("sha256", "")) == rel)
            data = thumbnail_png(out.path / entry["path"])
        if out.write_site(rel, data):
            written.append(rel)
    removed = [rel for rel in out.site if rel not in files]
    for rel in removed:
        out.delete_site(rel)
    if written or removed:
        out.save(sync=True)
    return written
