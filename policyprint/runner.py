"""Job stage: render one job's HTML, write its PDF with WeasyPrint, fit, impose and preflight it.

One JobRunner per worker process: it keeps the Jinja environment, WeasyPrint's
font configuration and its cache across the many jobs it renders.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import finish, press
from .plan import BOOKLET_SHEET_MM, PAGE_SIZES_MM, Job
from .project import Project

@dataclass
class JobResult:
    job: Job
    ok: bool
    pages: int = 0
    bytes: int = 0
    sha256: str = ""
    seconds: float = 0.0
    cached: bool = False  # reused from an earlier build, not rendered
    key: str = ""
    fit_pt: float | None = None
    checks: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def pin_source_date(project: Project) -> None:
    """Pin SOURCE_DATE_EPOCH to the publication date, unless the caller set it.

    fontTools stamps the current time into the font subsets it writes unless
    this is set, which would make every rebuild differ.
    """
    date = project.policy["meta"]["date"]
    epoch = int(dt.datetime(date.year, date.month, date.day, tzinfo=dt.timezone.utc).timestamp())
    os.environ.setdefault("SOURCE_DATE_EPOCH", str(epoch))


class JobRunner:
    """Renders and checks jobs. One per worker: it keeps WeasyPrint's font configuration."""

    def __init__(self, project: Project):
        from .pdf import PdfWriter
        from .render import Renderer

        pin_source_date(project)
        self.project = project
        # The last screen render per document: a booklet imposes the same pages.
        self.screen_renders: dict[tuple, object] = {}
        # The printing instruction per (language, strings key), rendered once: every sheet of an office file shows it.
        self.sheet_notes: dict[tuple[str, str], bytes] = {}
        # Fitted poster sizes: the same for every variant (bleed lies outside the trim).
        self.fits: dict[tuple, float] = {}
        # Generic layouts that institutions' copies share pages with (split_layout).
        self.generic_layouts: dict[Job, object] = {}
        self.renderer = Renderer.shared(project)
        allowed = [project.root / d for d in ("content", "styles", "templates")]
        allowed.append(project.cmyk_profile())   # the profile file itself, never its folder
        self.writer = PdfWriter(allowed + self.renderer.fonts[1], self.renderer.fonts[0])

    def run_safely(self, job: Job) -> tuple[JobResult, bytes | None]:
        """Run a job; an unexpected exception fails this job only, with its traceback's last line."""
        try:
            return self.run(job)
        except Exception as exc:  # noqa: BLE001 - one job's bug must not stop the others
            last = traceback.format_exception_only(type(exc), exc)[-1].strip()
            return JobResult(job, ok=False, errors=[f"internal error: {last}"]), None

    def run(self, job: Job) -> tuple[JobResult, bytes | None]:
        from .pdf import RefusedURL

        start = time.perf_counter()
        result = JobResult(job, ok=False)
        product = self.project.product(job.product)
        document = (job.product, job.lang, job.institution, job.size)
        missing, drafts = self.renderer.translation_state(job)
        if missing:   # never Danish inside a translated file: this file fails, the others are built
            shown = ", ".join(missing[:20]) + (f" and {len(missing) - 20} more" if len(missing) > 20 else "")
            result.errors.append(f"{len(missing)} translation(s) missing in content/translations/{job.lang}.yaml: "
                                 f"{shown}")
            return result, None
        try:
            if job.variant == "booklet" and document in self.screen_renders:
                rendered = self.screen_renders.pop(document)   # same HTML as the screen file
            elif product["kind"] == "poster":
                rendered, fit_errors = self.render_fitted(job)
                result.errors += fit_errors
            else:
                rendered = self.render(job)
            if job.variant == "screen":
                self.screen_renders[document] = rendered
        except JobFailure as exc:
            result.errors.append(str(exc))
            return result, None
        except RefusedURL as exc:
            result.errors.append(str(exc))
            return result, None
        result.warnings = list(rendered.warnings)
        if drafts:
            result.warnings.append(f"draft translation: {len(drafts)} of its entries in "
                                   f"content/translations/{job.lang}.yaml are draft or stale (watermarked)")
        result.fit_pt = rendered.fit_pt
        result.checks, findings = self.preflight(job, rendered)
        result.errors += rendered.errors + findings
        result.pages = rendered.pages
        pdf = rendered.pdf
        if job.variant == "booklet" and not result.errors:
            from . import impose

            pdf = self.impose(job, pdf)
            reader = finish.read(pdf)
            result.pages = len(reader.pages)
            result.errors += finish.check_page_size(reader, BOOKLET_SHEET_MM)
            result.errors += impose.check_print_preferences(reader, product["kind"])
        result.seconds = time.perf_counter() - start
        result.ok = not result.errors
        return result, pdf

    def impose(self, job: Job, pdf: bytes) -> bytes:
        """Office-printer sheets: leaflets 2-up duplex, the policy as an A5 booklet, posters as tiles."""
        from . import impose

        product = self.project.product(job.product)
        kind = {"leaflet": impose.impose_leaflet, "policy": impose.impose_booklet,
                "poster": impose.tile_poster}[product["kind"]]
        key = impose.PRINTING[product["kind"]][1]
        if (job.lang, key) not in self.sheet_notes:
            html = self.renderer.sheet_note_html(job.lang, key)
            self.sheet_notes[(job.lang, key)] = self.writer.render(html, self.project.root, [], "booklet").pdf
        return kind(pdf, self.renderer.document_title(job), self.sheet_notes[(job.lang, key)])

    def layout(self, job: Job, fit_pt: float | None = None, keep_whole: frozenset = frozenset(),
               personal_only: bool = False):
        try:
            html = self.renderer.html(job, fit_pt, keep_whole, personal_only)
        except Exception as exc:  # a template bug: point at the template line, not a traceback
            raise TemplateFailure(template_error(exc, self.project.root)) from None
        return self.writer.layout(html, self.project.root, job.variant)

    def write(self, layout, fit_pt: float | None = None, job: Job | None = None):
        catalog, finishers = None, []
        if job is not None and job.variant == "screen" and \
                self.project.product(job.product).get("open_with") == "bookmarks":
            catalog = {"PageMode": "/UseOutlines"}   # the viewer opens with the bookmarks shown
        if job is not None and job.variant == "print":
            intent = self.project.data("print")["output_intent"]
            finishers.append(press.press_finisher(intent["condition"], intent.get("info", intent["condition"]),
                                                  marks=job.marks))
        found = layout.overlaps()   # from the laid-out boxes, before they are written
        rendered = self.writer.write(layout, catalog, finishers)
        rendered.pdf = finish.pin_document_id(rendered.pdf)
        rendered.fit_pt = fit_pt
        rendered.overlaps = found
        return rendered

    def render(self, job: Job, fit_pt: float | None = None):
        """Lay out and write a job. An institution's copy of a product with `personal_pages`
        lays out only those pages and joins them with the generic document's other pages."""
        if self.split and job.institution and self.project.product(job.product).get("personal_pages"):
            layout = self.split_layout(job)
            if layout is not None:
                return self.write(layout, fit_pt, job)
        return self.write(self.full_layout(job, fit_pt), fit_pt, job)

    def full_layout(self, job: Job, fit_pt: float | None = None):
        """A word hyphenated across a page turn is kept whole, and the document laid out
        again (at most three times)."""
        layout = self.layout(job, fit_pt)
        keep: set[str] = set()
        for _ in range(3):
            words = layout.page_turn_hyphens()
            if not words or words <= keep:
                break
            keep |= words
            layout = self.layout(job, fit_pt, frozenset(keep))
        return layout

    # Lay out an institution's copy in parts (the generic pages once per worker), and share a
    # poster's fitted size between institutions. Off only for the benchmark's baseline:
    # POLICYPRINT_LEVERS=off.
    split = os.environ.get("POLICYPRINT_LEVERS") != "off"

    def split_layout(self, job: Job):
        """The generic document's layout with the institution's own pages put in: the same
        pages, bytes and tags as a full layout (tests/test_split.py). None when the personal
        pages do not lay out as planned (the full layout then reports why)."""
        from .pdf import Layout

        wanted = self.project.product(job.product)["personal_pages"]
        generic_job = Job(job.product, job.lang, "print" if job.variant == "print" else "screen", None, job.size)
        if generic_job not in self.generic_layouts:
            self.generic_layouts[generic_job] = self.full_layout(generic_job)
        generic = self.generic_layouts[generic_job]
        personal = self.layout(job, personal_only=True)
        if personal.pages != len(wanted) or max(wanted) > generic.pages:
            return None
        own = iter(personal.document.pages)
        pages = [next(own) if number in wanted else page
                 for number, page in enumerate(generic.document.pages, 1)]
        records = list(personal.records)
        seen = {r.getMessage() for r in records}
        records += [r for r in generic.records if r.getMessage() not in seen]
        return Layout(personal.document.copy(pages), personal.options, records)

    def render_fitted(self, job: Job):
        """Fit a poster's type to one page: the largest size on a 0.5 pt grid that fits.

        The bounds are the brand's poster sizes at A3, scaled with the page width.
        Every length on a poster is in rem, so the height its content needs grows
        about with the square of the type size: each render's measured height
        (where #poster-end lands) predicts the next size to try, and a bracket of
        sizes known to fit and not to fit keeps the search exact. Most posters
        need 3 or 4 renders. Returns the render and, when even the minimum does
        not fit, an error that names the poster and the longest text it quotes.
        A size fits when the poster is one page with no text run into a rule, a
        shape or other text (policyprint/overlap.py).
        """
        type_sizes = self.project.data("brand")["type"]
        scale = PAGE_SIZES_MM[job.size or self.project.product(job.product)["size"]][0] / 297
        low = round(float(type_sizes["poster-min"].removesuffix("pt")) * scale * 2) / 2
        high = round(float(type_sizes["poster-max"].removesuffix("pt")) * scale * 2) / 2
        # The fitted size is shared by the variants and the institutions' copies of a poster:
        # an institution changes only the footer, which has its own room. The search always lays
        # out the screen page, and the other variants take its size (a half point smaller where
        # their page does not fit): a size taken from whichever variant a worker happened to fit
        # first made the files depend on the order of the jobs.
        key = (job.product, job.lang, job.size) if self.split else (job.product, job.lang, job.institution, job.size)
        fit_job = job if job.variant == "screen" else replace(job, variant="screen")

        def attempt(size):
            return self.layout(fit_job, size)   # layout only: a PDF is written once, at the end

        def estimate(size, laid_out):
            page, y = laid_out.anchors()[1].get("poster-end", (laid_out.pages, laid_out.page_height))
            needed = (page - 1) * laid_out.page_height + y
            return size * (laid_out.page_height / max(needed, 1.0)) ** 0.5

        # A bound before any layout: text that could not fill the page even if every
        # square point were text at the minimum size never fits. (Without it, a poster
        # quoting thousands of items would lay out hundreds of pages, twice.)
        width_mm, height_mm = PAGE_SIZES_MM[job.size or self.project.product(job.product)["size"]]
        page_area = (width_mm * 72 / 25.4) * (height_mm * 72 / 25.4)
        if self.poster_chars(job) * CHAR_AREA_EM2 * low ** 2 > page_area:
            raise JobFailure(self.poster_overflow(job, low))
        def fits(laid_out) -> bool:
            # One page, and no text run into the footer's rule, a shape or other text
            # (a grid that is too tall overflows its page instead of breaking).
            return laid_out.pages == 1 and not laid_out.overlaps()

        def finish(laid_out, size):
            """Write the job at the screen page's size; another variant steps down if its page does not fit."""
            while job.variant != "screen":
                laid_out = self.layout(job, size)
                if fits(laid_out) or size <= low:
                    break
                size -= 0.5
            return self.write(laid_out, size, job), []

        if key in self.fits:  # another variant or institution of the poster: its size is known
            if job.variant != "screen":
                return finish(None, self.fits[key])
            known = attempt(self.fits[key])
            if fits(known):
                return self.write(known, self.fits[key], job), []

        def give_up(laid_out, size):
            # Too long even at the minimum; a one-page layout that still overlaps is
            # reported by the overlap check itself, not as text to shorten.
            if job.variant != "screen":
                laid_out = self.layout(job, size)
            return self.write(laid_out, size, job), [] if laid_out.pages == 1 else [self.poster_overflow(job, low)]

        tried = {}
        fits_at, fails_at, best = None, high + 0.5, None
        size = high
        for _ in range(16):
            tried[size] = rendered = attempt(size)
            if fits(rendered):
                fits_at, best = size, rendered
            else:
                fails_at = size
            if fits_at is not None and fails_at - fits_at <= 0.5:
                break
            if fits_at is None and size <= low:
                return give_up(rendered, size)
            guess = round(estimate(size, rendered) * 2) / 2
            lower = fits_at + 0.5 if fits_at is not None else low
            guess = min(max(guess, lower), fails_at - 0.5)
            if guess in tried:  # the estimate stalls: halve the bracket instead
                guess = round((lower + fails_at - 0.5) / 4) * 2 / 2 if fits_at is None else \
                    round((fits_at + fails_at) / 2 * 2) / 2
                guess = min(max(guess, lower), fails_at - 0.5)
                if guess in tried:
                    break
            size = guess
        if best is None:
            return give_up(tried[min(tried)], min(tried))
        self.fits[key] = fits_at
        return finish(best, fits_at)

    def poster_chars(self, job: Job) -> int:
        """How many characters of text a poster shows: its own words and what it quotes."""
        loc = self.renderer.localised(job.lang)
        index = self.renderer.policy_index(loc)
        poster = next(p for p in loc.data["posters"]["posters"]
                      if p["id"] == self.project.product(job.product)["poster"])
        n = len(poster["kicker"]) + len(poster["title"])
        for block in poster["blocks"]:
            n += len(block.get("heading", "")) + sum(map(len, block.get("text", [])))
            n += sum(map(len, index["leads"].get(block.get("quote"), [])))
            n += sum(map(len, index["bodies"].get(block.get("body"), [])))
            if "list" in block:
                lst = index["lists"][block["list"]]
                n += len(lst["intro"]) + sum(len(item["text"]) for item in lst["items"])
            n += sum(len(index["items"][item]["text"]) for item in block.get("items", []))
        return n

    def poster_overflow(self, job: Job, min_pt: float) -> str:
        src = self.project.sources["posters"]
        poster_id = self.project.product(job.product)["poster"]
        index = next(i for i, p in enumerate(src.data["posters"]) if p["id"] == poster_id)
        where = src.problem(("posters", index, "blocks"), "")
        message = (f"{where.file}:{where.line}: {where.key}: poster '{poster_id}' does not fit on one page "
                   f"even at the brand's minimum type size ({min_pt:.1f} pt at this size); shorten its text")
        if job.lang in self.project.translations:
            message = f"in {job.lang}: " + message + f". Its longest {job.lang} text is {self.longest_translated(job)}"
        else:
            message += f". Its longest text is {self.longest_text(index)}"
        return message

    def longest_translated(self, job: Job) -> str:
        """The longest translated text a product shows, as 'file:line: id (N characters)'."""
        src = self.project.translations[job.lang]
        used = [i for i in self.renderer.used_ids(job.product) if i in src.data]
        ident = max(used, key=lambda i: (len(src.data[i]["text"]), i))
        return f"{src.file}:{src.line((ident,))}: {ident} ({len(src.data[ident]['text'])} characters)"

    def longest_text(self, poster_index: int) -> str | None:
        """Locate the longest text a poster shows, wherever it lives (its own words or a quote),
        as 'file:line: key (N characters)'."""
        posters, policy = self.project.sources["posters"], self.project.sources["policy"]
        poster = posters.data["posters"][poster_index]
        here = ("posters", poster_index)
        candidates = [(len(poster[k]), posters, here + (k,)) for k in ("kicker", "title")]
        quoted_leads, quoted_bodies, quoted_lists, quoted_items = set(), set(), set(), set()
        for bi, block in enumerate(poster["blocks"]):
            if "heading" in block:
                candidates.append((len(block["heading"]), posters, here + ("blocks", bi, "heading")))
            candidates += [(len(t), posters, here + ("blocks", bi, "text", ti)) for ti, t in enumerate(block.get("text", []))]
            quoted_leads.add(block.get("quote"))
            quoted_bodies.add(block.get("body"))
            quoted_lists.add(block.get("list"))
            quoted_items.update(block.get("items", []))
        for si, section in enumerate(policy.data["sections"]):
            places = [(("sections", si), section)] + [(("sections", si, "subsections", ui), sub)
                                                     for ui, sub in enumerate(section.get("subsections", []))]
            for path, part in places:
                if part["id"] in quoted_leads:
                    candidates += [(len(t), policy, path + ("lead", i)) for i, t in enumerate(part.get("lead", []))]
                if part["id"] in quoted_bodies:
                    candidates += [(len(t), policy, path + ("body", i)) for i, t in enumerate(part.get("body", []))]
            for li, lst in enumerate(section.get("lists", [])):
                if lst["id"] in quoted_lists:
                    candidates.append((len(lst["intro"]), policy, ("sections", si, "lists", li, "intro")))
                for ii, item in enumerate(lst["items"]):
                    if lst["id"] in quoted_lists or item["id"] in quoted_items:
                        candidates.append((len(item["text"]), policy, ("sections", si, "lists", li, "items", ii,
                                                                       "text")))
        length, src, path = max(candidates, key=lambda c: c[0])
        problem = src.problem(path, "")
        return f"{problem.file}:{problem.line}: {problem.key} ({length} characters)"

    def preflight(self, job: Job, rendered) -> tuple[list[str], list[str]]:
        """Run the checks that apply to the job. Returns (the checks run, their findings)."""
        product = self.project.product(job.product)
        reader = finish.read(rendered.pdf)
        size = PAGE_SIZES_MM[job.size or product["size"]]
        families = [f["family"] for f in self.project.data("brand")["fonts"].values()]
        type_sizes = self.project.data("brand")["type"]
        checks = [
            ("page count", lambda: finish.check_page_count(reader, self.project.pages(product, job.lang))),
            ("page size", lambda: finish.check_page_size(reader, size)),
            ("fonts embedded", lambda: finish.check_fonts_embedded(reader)),
            ("brand fonts only", lambda: finish.check_font_families(reader, families)),
            ("text clear of text, rules and shapes", lambda: rendered.overlaps),
            ("no missing glyphs", lambda: finish.check_notdef(reader, self.locate_text)),
        ]
        if job.variant == "screen":
            checks.append(("tags, language, title", lambda: finish.check_screen_basics(reader, job.lang)))
        if product["kind"] == "poster":
            checks.append(("text above the footer", lambda: self.check_poster_footer(rendered)))
        if job.variant == "print":
            min_ppi = 150 if product["kind"] == "poster" else 300
            checks += [
                ("trim and bleed boxes",
                 lambda: finish.check_press_boxes(reader, size, self.project.data("print")["bleed_mm"])),
                ("output intent", lambda: finish.check_output_intent(reader)),
                ("no RGB", lambda: finish.check_no_rgb(reader)),
                (f"images at {min_ppi} ppi or more", lambda: finish.check_image_resolution(rendered.pdf, min_ppi)),
                ("output intent condition", lambda: press.check_output_intent_condition(
                    reader, self.project.data("print")["output_intent"]["condition"])),
                ("no annotations", lambda: press.check_no_annotations(reader)),
                ("black text 100 % K overprinting, small text in one ink", lambda: press.check_black_text(reader)),
                ("reversed text", lambda: press.check_reversed_text(
                    reader, _pt(type_sizes["reversed-min"]), _pt(type_sizes["reversed-bold-below"]))),
                ("no unused colour spaces or transparency groups",
                 lambda: press.check_colour_space_leftovers(reader)),
                ("bleed", lambda: press.check_bleed(rendered.pdf, self.project.data("print")["bleed_mm"])),
            ]
        if job.variant in ("screen", "print"):   # a booklet imposes the screen render, checked there
            checks.append(("type sizes", lambda: self.check_type_sizes(job, product, reader, rendered)))
        if product["kind"] == "policy":
            checks.append(("page plan", lambda: self.check_page_plan(rendered.anchors, job.lang)))
        if product["kind"] == "leaflet" and rendered.pages != product["pages"]:
            checks.append(("leaflet fit", lambda: self.check_leaflet_fit(product, rendered, job.lang)))
        elif product["kind"] == "leaflet" and rendered.fills:
            checks.append(("inside pages used", lambda: self.check_leaflet_balance(product, rendered, job.lang)))
        findings = [finding for _, check in checks for finding in check()]
        return [name for name, _ in checks], findings

    def locate_text(self, text: str) -> str | None:
        """Where a piece of text is written: 'file:line' in content (strings too) or templates."""
        root = self.project.root
        for folder, pattern in (("content", "*.yaml"), ("templates", "*.j2")):
            for path in sorted((root / folder).rglob(pattern)):
                try:
                    lines = path.read_text(encoding="utf-8").splitlines()
                except (OSError, UnicodeDecodeError):
                    continue
                for number, line in enumerate(lines, 1):
                    if text in line:
                        return f"{path.relative_to(root).as_posix()}:{number}"
        return None

    def check_type_sizes(self, job: Job, product: dict, reader, rendered) -> list[str]:
        """No text under the brand's minimum for the product's kind, diagrams and logos included.

        A poster's minimum is poster-min, scaled with the page like its fit; its footer
        (QR caption, web address, policy line: small print, read up close) keeps min-poster-footer.
        """
        sizes = self.project.data("brand")["type"]
        kind = product["kind"]
        if kind != "poster":
            return press.check_min_text_size(reader, _pt(sizes[f"min-{kind}"]), kind)
        width_mm, _ = PAGE_SIZES_MM[job.size or product["size"]]
        minimum = round(_pt(sizes["poster-min"]) * width_mm / 297 * 2) / 2
        footer_top = FOOTER_EM * (rendered.fit_pt or minimum) + width_mm * EDGE * 72 / 25.4
        return press.check_min_text_size(reader, minimum, kind, below_y=footer_top,
                                         below_minimum=_pt(sizes["min-poster-footer"]), below_what="poster footer")

    def check_leaflet_fit(self, product: dict, rendered, lang: str = "da") -> list[str]:
        """Name the block where a leaflet's inside spread (pages 2–3) runs over."""
        src = self.project.sources["leaflets"]
        audience = product["audience"]
        blocks = src.data["leaflets"][audience]["blocks"]
        last_inside = product["pages"] - 1
        # The first block that starts after the spread, else the last block (it runs over itself).
        over = next((i for i in range(len(blocks)) if rendered.anchors.get(f"block-{i}", 0) > last_inside),
                    len(blocks) - 1)
        where = src.problem(("leaflets", audience, "blocks", over), "")
        heading = blocks[over].get("heading", "")
        translated = ""
        tsrc = self.project.translations.get(lang)
        if tsrc is not None:   # the language, and the translation file and line of the block's heading
            ident = f"leaflets.{audience}.blocks.{over}.heading"
            if ident in tsrc.data:
                heading = tsrc.data[ident]["text"]
                translated = f" (in {lang}: {tsrc.file}:{tsrc.line((ident,))}: {ident})"
            else:
                translated = f" (in {lang})"
        return [f"{where.file}:{where.line}: {where.key}{translated}: the text runs over the inside pages "
                f"(2–{last_inside}) from this block ('{heading}') on; shorten it or move "
                f"it to another leaflet. The type is not made smaller than the brand's size."]

    def check_poster_footer(self, rendered) -> list[str]:
        """A poster's text must end above its footer rule (the footer is fixed to the page)."""
        end, foot = rendered.anchor_y.get("poster-body-end"), rendered.anchor_y.get("poster-foot")
        if not end or not foot or end[0] != foot[0] or end[1] <= foot[1]:
            return []
        over_mm = (end[1] - foot[1]) * 25.4 / 96
        return [f"page {end[0]}: the text runs {over_mm:.1f} mm under the footer rule; "
                "the footer's room (.poster-foot-space) is too small"]

    def check_leaflet_balance(self, product: dict, rendered, lang: str = "da") -> list[str]:
        """An inside page must fill at least MIN_FILL of its type area, unless the leaflet
        marks it as designed to breathe (leaflets.<audience>.breathe: [page, …])."""
        src = self.project.sources["leaflets"]
        audience = product["audience"]
        breathe = set(src.data["leaflets"][audience].get("breathe", []))
        breathe |= set(self.project.language(lang).get("breathe", {}).get(audience, []))
        findings = []
        for page in range(2, product["pages"]):
            fill = rendered.fills[page - 1]
            if fill < MIN_FILL and page not in breathe:
                where = src.problem(("leaflets", audience, "blocks"), "")
                findings.append(
                    f"{where.file}:{where.line}: {where.key}: page {page} fills {fill:.0%} of its type area, "
                    f"under {MIN_FILL:.0%}; balance the inside spread, or list the page under "
                    f"leaflets.{audience}.breathe if it is designed to breathe")
        return findings

    def check_page_plan(self, anchors: dict[str, int], lang: str = "da") -> list[str]:
        """Each section must start on the page the plan gives it (the language's own plan,
        content/languages.yaml page_plan:, or the Danish plan in content/policy.yaml)."""
        src = self.project.sources["policy"]
        _, plan, own = self.project.page_plan(lang)
        findings = []
        for i, section in enumerate(src.data["sections"]):
            actual = anchors.get(section["id"])
            planned = plan[section["id"]]
            if actual != planned:
                if own and section["id"] in self.project.data("languages")["languages"][own[1][1]]["page_plan"]["sections"]:
                    where = self.project.sources["languages"].problem(own[1] + ("sections", section["id"]), "")
                else:
                    where = src.problem(("sections", i, "page"), "")
                findings.append(
                    f"{where.file}:{where.line}: {where.key}: section '{section['id']}' starts on page "
                    f"{actual}, planned for page {planned}{'' if lang == 'da' else f' in the {lang} plan'} "
                    "(the text before it does not fit its pages)")
        return findings


# The least share of its type area's height an inside leaflet page must use (issue 11, point 20).
MIN_FILL = 0.6


# The poster footer's room, as in templates/poster.html.j2: 5.8 em of the fitted size
# plus the page edge (6.5 % of the page width).
FOOTER_EM, EDGE = 5.8, 0.065


def _pt(length: str) -> float:
    """A brand type size such as '8pt' in points."""
    return float(str(length).removesuffix("pt"))


# The least area one character of running text takes, in em² (Noto Sans: about
# 0.5 em wide on average, lines at least 1.2 em apart). Used only as a bound.
CHAR_AREA_EM2 = 0.5 * 1.2


class JobFailure(Exception):
    """A job cannot be made; the message says why, with file:line where it can."""


class TemplateFailure(JobFailure):
    """A template raised while rendering; the message points at the template line."""


def template_error(exc: Exception, root: Path) -> str:
    """Describe an exception raised while rendering a template, at its template line."""
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if Path(f.filename).resolve().is_relative_to(root / "templates")]
    where = ""
    if frames:
        where = f"{Path(frames[-1].filename).resolve().relative_to(root).as_posix()}:{frames[-1].lineno}: "
    elif getattr(exc, "filename", None) and getattr(exc, "lineno", None):
        where = f"templates/{exc.filename}:{exc.lineno}: "
    return f"{where}template error: {type(exc).__name__}: {exc}"


