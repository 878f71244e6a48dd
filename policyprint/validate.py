"""Validate stage: rules that span files (references, assets, page plan, tokens)."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from .errors import Problem
from .schema import did_you_mean
from .project import SOURCE_LANG, Project

VAR_RE = re.compile(r"var\(--colour-([a-z0-9-]+)")


def validate_project(project: Project) -> list[Problem]:
    """Return every cross-file problem; an empty list means the project is sound."""
    problems: list[Problem] = []
    problems += _unique_ids(project)
    problems += _page_plan(project)
    problems += _language_plans(project)
    problems += _assets(project)
    problems += _hyphenation(project)
    problems += _strings(project)
    problems += _colour_roles(project)
    problems += _leaflets(project)
    problems += _institutions(project)
    problems += _institution_products(project)
    problems += _posters(project)
    problems += _print(project)
    problems += _type_sizes(project)
    problems += _contrast(project)
    problems += _languages(project)
    problems += _fonts(project)
    if not any(p.file == "content/brand.yaml" and ".fonts." in f".{p.key}" for p in problems):
        problems += _glyphs(project)
    return problems


PRESS_PPI = 300
_MM_PER = {"mm": 1.0, "pt": 25.4 / 72, "px": 25.4 / 96}


def advice(project: Project) -> list[Problem]:
    """What `check` warns about without failing: raster logos too coarse for press files at the
    width the brand places them (brand.yaml logos:)."""
    from . import assets

    widths = project.data("brand").get("logos", {})
    out = []

    def look(src, path: tuple, rel: str, role: str) -> None:
        width = widths.get(role)
        unit = re.fullmatch(r"([\d.]+)(mm|pt|px)", width or "")
        try:
            fmt, data = assets.load_logo(project.root, rel)
            if fmt not in assets.RASTER_FORMATS or not unit:
                return
            px, _ = assets.raster_size(data, fmt, rel)
        except assets.AssetError:
            return   # validate_project reports it
        mm = float(unit.group(1)) * _MM_PER[unit.group(2)]
        ppi = px / (mm / 25.4)
        if ppi < PRESS_PPI:
            out.append(src.problem(path, f"{rel} is {px} px wide: {ppi:.0f} ppi at its {mm:g} mm width "
                                         f"({role} logo in brand.yaml logos:); press files need {PRESS_PPI} ppi, "
                                         f"{round(mm / 25.4 * PRESS_PPI)} px or more, or an SVG. Screen and "
                                         "office files are fine; the print build will fail its preflight"))

    site = project.sources["site"]
    look(site, ("publisher", "logo"), site.data["publisher"]["logo"], "publisher")
    inst = project.sources["institutions"]
    for i, institution in enumerate(inst.data["institutions"]):
        if "logo" in institution:
            look(inst, ("institutions", i, "logo"), institution["logo"], "institution")
    return out


def contrast_ratio(fg: str, bg: str) -> float:
    """WCAG 2.1 contrast ratio of two #rrggbb colours."""
    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    lighter, darker = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _contrast(project: Project) -> list[Problem]:
    """Each declared text/background pair must meet WCAG 2.1 AA contrast."""
    src = project.sources["brand"]
    colours = src.data["colours"]
    out = []
    for i, pair in enumerate(src.data.get("contrast", [])):
        missing = [pair[k] for k in ("text", "background") if pair[k] not in colours]
        if missing:
            out.append(src.problem(("contrast", i), f"unknown colour role {missing[0]!r} (not under colours:)"))
            continue
        fg, bg = colours[pair["text"]]["rgb"], colours[pair["background"]]["rgb"]
        ratio = contrast_ratio(fg, bg)
        need = 3.0 if pair.get("large") else 4.5
        if ratio < need:
            out.append(src.problem(("contrast", i), f"{pair['text']} ({fg}) on {pair['background']} ({bg}) has a contrast of "
                                                    f"{ratio:.2f}:1, under WCAG 2.1's {need:g}:1 for "
                                                    f"{'large' if pair.get('large') else 'normal'} text"))
    return out


def _languages(project: Project) -> list[Problem]:
    """Language codes are unique, the source language is listed, and institutions ask for listed ones."""
    src = project.sources["languages"]
    codes, out = [], []
    for i, lang in enumerate(src.data["languages"]):
        if lang["code"] in codes:
            out.append(src.problem(("languages", i, "code"), f"duplicate language code '{lang['code']}'"))
        codes.append(lang["code"])
    if SOURCE_LANG not in codes:
        out.append(src.problem(("languages",), f"the source language '{SOURCE_LANG}' must be listed"))
    inst = project.sources["institutions"]
    for i, institution in enumerate(inst.data["institutions"]):
        if "languages" in institution and "langs" in institution:
            out.append(inst.problem(("institutions", i, "langs"), "give the languages once: `languages:` "
                                                                 "(or the older `langs:`), not both"))
        key = "languages" if "languages" in institution else "langs"
        for li, code in enumerate(institution.get(key, [])):
            if code not in codes:
                out.append(inst.problem(("institutions", i, key, li),
                                        f"'{code}' is not a language listed in content/languages.yaml "
                                        f"({', '.join(codes)})"))
    fonts = project.data("brand")["fonts"]
    for i, lang in enumerate(src.data["languages"]):
        if lang.get("font", "text") not in fonts:
            out.append(src.problem(("languages", i, "font"), f"expected a font role of content/brand.yaml "
                                                             f"({', '.join(fonts)}), got {lang.get('font')!r}"))
        dictionary = lang.get("hyphenation", "none")
        if dictionary != "none":
            import pyphen

            if dictionary not in pyphen.LANGUAGES:
                out.append(src.problem(("languages", i, "hyphenation"),
                                       f"pyphen has no dictionary {dictionary!r}{did_you_mean(dictionary, pyphen.LANGUAGES)}"))
        locale = lang.get("locale", lang["code"])
        try:
            import babel

            babel.Locale.parse(locale)
        except (ValueError, babel.UnknownLocaleError):
            out.append(src.problem(("languages", i, "locale" if "locale" in lang else "code"),
                                   f"CLDR (Babel) has no locale {locale!r}"))
    for lang, tsrc in project.translations.items():
        for ident, entry in tsrc.data.items():
            if entry["status"] == "approved":
                for key in ("approved_by", "date"):
                    if key not in entry:
                        out.append(tsrc.problem((ident,), f"an approved entry needs {key}: who approved it "
                                                          "and when (or status: draft)"))
        if lang not in project.strings:
            out.append(Problem(tsrc.file, 1, "", f"content/strings/{lang}.yaml is missing: a language's "
                                                 "fixed words (page labels, contact words) come from it"))
    return out


def _fonts(project: Project) -> list[Problem]:
    """Each brand font's family must be the one its allow-listed package ships."""
    from .fonts import FONT_PACKAGES

    src = project.sources["brand"]
    out = []
    for role, font in src.data["fonts"].items():
        family = FONT_PACKAGES[font["package"]]
        if font["family"] != family:
            out.append(src.problem(("fonts", role, "family"),
                                   f"expected {family!r}, the family {font['package']} ships, got {font['family']!r}"))
    return out


def _unique_ids(project: Project) -> list[Problem]:
    src = project.sources["policy"]
    seen: dict[str, tuple] = {}
    out = []
    for si, section in enumerate(src.data["sections"]):
        places = [(("sections", si), section["id"])]
        for li, lst in enumerate(section.get("lists", [])):
            places.append((("sections", si, "lists", li), "list:" + lst["id"]))
            places += [(("sections", si, "lists", li, "items", ii), it["id"])
                       for ii, it in enumerate(lst["items"])]
        for ui, sub in enumerate(section.get("subsections", [])):
            places.append((("sections", si, "subsections", ui), sub["id"]))
        for path, ident in places:
            if ident in seen:
                out.append(src.problem(path + ("id",), f"duplicate id '{ident.removeprefix('list:')}'"
                                       f" (first used at line {src.line(seen[ident] + ('id',))})"))
            else:
                seen[ident] = path
    for bi, band in enumerate(src.data["age_bands"]["bands"]):
        if band["from"] >= band["to"]:
            out.append(src.problem(("age_bands", "bands", bi, "to"),
                                   f"expected a number above 'from' ({band['from']}), got {band['to']}"))
    return out


def _language_plans(project: Project) -> list[Problem]:
    """A language's own brochure plan names known sections, in order, before its back cover."""
    src = project.sources["languages"]
    ids = [s["id"] for s in project.policy["sections"]]
    out = []
    for i, lang in enumerate(src.data["languages"]):
        if "page_plan" not in lang:
            continue
        pages, plan, _ = project.page_plan(lang["code"])
        for sid in lang["page_plan"]["sections"]:
            if sid not in ids:
                out.append(src.problem(("languages", i, "page_plan", "sections", sid),
                                       f"no section has id '{sid}'{did_you_mean(sid, ids)}"))
        last = 1
        for sid in ids:
            if plan[sid] <= last or plan[sid] >= pages:
                out.append(src.problem(("languages", i, "page_plan", "sections"),
                                       f"section '{sid}' on page {plan[sid]}: expected a page after {last} and "
                                       f"before the back cover ({pages})"))
            last = max(last, plan[sid])
    return out


def _page_plan(project: Project) -> list[Problem]:
    src = project.sources["policy"]
    pages = project.product("policy")["pages"] if any(
        p["id"] == "policy" for p in project.products) else 999
    out, last = [], 1
    for si, section in enumerate(src.data["sections"]):
        page = section["page"]
        if page <= last or page >= pages:
            out.append(src.problem(("sections", si, "page"),
                                   f"expected a page after {last} and before the back cover ({pages}), got {page}"))
        last = max(last, page)
    return out


def _assets(project: Project) -> list[Problem]:
    """The publisher's logo, the registry's templates and stylesheets, and every file under
    content/ readable (each is an input of the build)."""
    from . import assets

    site = project.sources["site"]
    out = _logo_problems(project, site, ("publisher", "logo"), site.data["publisher"]["logo"])
    products = project.sources["products"]
    entries = [(("products", i), p) for i, p in enumerate(products.data["products"])]
    entries.append((("posters",), products.data["posters"]))
    for path, product in entries:
        for key, folder in (("template", "templates"), ("stylesheet", "styles")):
            if not (project.root / folder / product[key]).is_file():
                out.append(products.problem(path + (key,), f"file not found: {folder}/{product[key]}"))
    for rel, reason in assets.unreadable_inputs(project.root):
        out.append(Problem(rel, 1, "", f"cannot read the file ({reason}): every file under content/ is an "
                                       "input of the build; make it readable or remove it"))
    return out


def _logo_problems(project: Project, src, path: tuple, rel: str) -> list[Problem]:
    """A logo must be a safe SVG file inside content/ (policyprint/assets.py says what that means)."""
    from . import assets

    try:
        assets.check_logo(project.root, rel)
    except assets.AssetError as exc:
        return [src.problem(path, str(exc))]
    return []


def _hyphenation(project: Project) -> list[Problem]:
    src = project.sources["hyphenation"]
    out = []
    for i, entry in enumerate(src.data["exceptions"]):
        for word, marked in entry.items():
            if marked.replace("|", "") != word:
                out.append(src.problem(("exceptions", i, word),
                                       f"expected '{word}' with '|' at break points, got {marked!r}"))
    return out


# The placeholders each fixed word may use (filled by the `fill` filter); others take none.
STRING_PLACEHOLDERS = {"qr_alt": ("url",), "toc_link": ("title", "page"),
                       "web_howto_print": ("condition", "bleed"), "web_count": ("count",),   # the catalogue
                       "web_changes_count": ("files", "pages"),
                       "web_status_reason": ("draft", "stale", "entries", "file"),
                       "web_pdf_facts": ("pages", "format", "size")}   # the web edition


def _strings(project: Project) -> list[Problem]:
    from .render import placeholders

    source = project.strings[SOURCE_LANG].data
    out = []
    for lang, src in project.strings.items():
        missing = [key for key in source if key not in src.data]
        if missing:
            out.append(src.problem((), f"missing {', '.join(missing)}: a language's files never fall back to "
                                       f"the words of strings/{SOURCE_LANG}.yaml"))
        for key, text in src.data.items():
            if key not in source:
                out.append(src.problem((key,), f"unknown key '{key}' (not in strings/{SOURCE_LANG}.yaml)"))
            allowed = STRING_PLACEHOLDERS.get(key, ())
            takes = ", ".join("{" + name + "}" for name in allowed) or "no placeholders"
            try:
                found = placeholders(text)
            except ValueError:
                out.append(src.problem((key,), f"unbalanced {{ or }} (this text takes {takes}; "
                                               "write {{ and }} for a brace)"))
                continue
            for name in found:
                if name not in allowed:
                    out.append(src.problem((key,), f"unknown placeholder {{{name[:40]}}} (this text takes {takes})"))
    return out


def _colour_roles(project: Project) -> list[Problem]:
    """Every var(--colour-…) a stylesheet uses must be a role in brand.yaml."""
    roles = set(project.data("brand")["colours"])
    out = []
    for css in sorted((project.root / "styles").glob("*.css")):
        for n, line in enumerate(css.read_text(encoding="utf-8").splitlines(), 1):
            for role in VAR_RE.findall(line):
                if role not in roles:
                    out.append(Problem(css.relative_to(project.root).as_posix(), n, f"--colour-{role}",
                                       "unknown colour role (not in content/brand.yaml)"))
    return out


def _leaflets(project: Project) -> list[Problem]:
    """Leaflet blocks must quote ids that exist; the youth text must stay readable."""
    from .readability import lix

    src = project.sources["leaflets"]
    out = []
    for audience, leaflet in src.data["leaflets"].items():
        out += _block_refs(project, src, ("leaflets", audience, "blocks"), leaflet["blocks"])
        out += _block_refs(project, src, ("leaflets", audience, "back", "blocks"),
                           leaflet["back"].get("blocks", []))
        if "max_lix" in leaflet:
            score = lix(leaflet_paragraphs(leaflet))
            if score > leaflet["max_lix"]:
                out.append(src.problem(("leaflets", audience, "max_lix"),
                                       f"the text's LIX is {score:.1f}, above the limit {leaflet['max_lix']}: "
                                       "use shorter sentences and shorter words"))
            # A translation keeps the same plain words: the same limit where LIX means something
            # (languages.yaml lix: true; English).
            from .translations import localised

            for lang, tsrc in sorted(project.translations.items()):
                if not project.language(lang).get("lix"):
                    continue
                retold = localised(project, lang).data["leaflets"]["leaflets"].get(audience)
                score = lix(leaflet_paragraphs(retold)) if retold else 0
                if score > leaflet["max_lix"]:
                    out.append(Problem(tsrc.file, 1, f"leaflets.{audience}",
                                       f"the {lang} text's LIX is {score:.1f}, above the limit {leaflet['max_lix']} "
                                       f"(content/leaflets.yaml max_lix): use shorter sentences and shorter words"))
    products = project.sources["products"]
    for i, product in enumerate(products.data["products"]):
        if product["kind"] == "leaflet" and product.get("audience") not in src.data["leaflets"]:
            out.append(products.problem(("products", i, "audience"),
                                        f"expected an audience in content/leaflets.yaml "
                                        f"({', '.join(src.data['leaflets'])}), got {product.get('audience')!r}"))
    return out


def _block_refs(project: Project, src, path: tuple, blocks: list[dict]) -> list[Problem]:
    """Blocks (leaflets, posters) must quote ids that exist in the policy."""
    policy = project.policy
    lists = {lst["id"] for s in policy["sections"] for lst in s.get("lists", [])}
    items = {it["id"] for s in policy["sections"] for lst in s.get("lists", []) for it in lst["items"]}
    leads = {s["id"] for s in policy["sections"] if "lead" in s}
    leads |= {u["id"] for s in policy["sections"] for u in s.get("subsections", []) if "lead" in u}
    bodies = {s["id"] for s in policy["sections"] if "body" in s}
    bodies |= {u["id"] for s in policy["sections"] for u in s.get("subsections", []) if "body" in u}
    out = []
    for bi, block in enumerate(blocks):
        here = path + (bi,)
        if not any(k in block for k in ("quote", "body", "list", "items", "text", "figure", "pull_quote")):
            out.append(src.problem(here, "expected at least one of quote, body, list, items, text, figure, "
                                         "pull_quote"))
        if "pull_quote" in block and block["pull_quote"] not in items:
            out.append(src.problem(here + ("pull_quote",), f"no policy list item has id '{block['pull_quote']}'"
                                                           f"{did_you_mean(block['pull_quote'], items)}"))
        if "quote" in block and block["quote"] not in leads:
            out.append(src.problem(here + ("quote",), f"no section or subsection with a lead has id "
                                   f"'{block['quote']}'{did_you_mean(block['quote'], leads)}"))
        if "body" in block and block["body"] not in bodies:
            out.append(src.problem(here + ("body",), f"no section or subsection with body paragraphs has id "
                                   f"'{block['body']}'{did_you_mean(block['body'], bodies)}"))
        if "list" in block and block["list"] not in lists:
            out.append(src.problem(here + ("list",), f"no policy list has id '{block['list']}'"
                                                     f"{did_you_mean(block['list'], lists)}"))
        for ii, item in enumerate(block.get("items", [])):
            if item not in items:
                out.append(src.problem(here + ("items", ii), f"no policy list item has id '{item}'"
                                                             f"{did_you_mean(item, items)}"))
    return out


def _posters(project: Project) -> list[Problem]:
    src = project.sources["posters"]
    out, seen = [], set()
    for i, poster in enumerate(src.data["posters"]):
        if poster["id"] in seen:
            out.append(src.problem(("posters", i, "id"), f"duplicate id '{poster['id']}'"))
        seen.add(poster["id"])
        out += _block_refs(project, src, ("posters", i, "blocks"), poster["blocks"])
    return out


def leaflet_paragraphs(leaflet: dict) -> list[str]:
    """The leaflet's own words (not its quotes), as paragraphs, for readability scores."""
    paras = [leaflet["cover"]["kicker"], leaflet["cover"]["title"], *leaflet["cover"]["text"]]
    for block in leaflet["blocks"]:
        paras += [block.get("heading", ""), *block.get("text", [])]
    paras += [leaflet["back"]["heading"], *leaflet["back"].get("text", [])]
    return paras


def _institution_products(project: Project) -> list[Problem]:
    """Products named for institutions must exist and be personalised (or be 'posters')."""
    personalised = [p["id"] for p in project.products if p.get("personalise")]
    out = []

    def check(src, path, names):
        for i, name in enumerate(names):
            if name != "posters" and name not in personalised:
                out.append(src.problem(path + (i,), f"'{name}' is not a personalised product "
                                                    f"({', '.join(['posters', *personalised])})"
                                                    f"{did_you_mean(name, personalised)}"))

    products = project.sources["products"]
    for kind, names in products.data.get("institution_products", {}).items():
        check(products, ("institution_products", kind), names)
    inst = project.sources["institutions"]
    for i, institution in enumerate(inst.data["institutions"]):
        check(inst, ("institutions", i, "products"), institution.get("products", []))
    return out


def _institutions(project: Project) -> list[Problem]:
    src = project.sources["institutions"]
    out, seen = [], {}
    for i, inst in enumerate(src.data["institutions"]):
        if inst["id"] in seen:
            out.append(src.problem(("institutions", i, "id"),
                                   f"duplicate id '{inst['id']}' (first used at line {seen[inst['id']]})"))
        seen.setdefault(inst["id"], src.line(("institutions", i, "id")))
        if "logo" in inst:
            out += _logo_problems(project, src, ("institutions", i, "logo"), inst["logo"])
    return out


MAX_PROFILE_BYTES = 16 * 2**20


def _print(project: Project) -> list[Problem]:
    src = project.sources["print"]
    where = ("output_intent", "profile")
    profile = project.cmyk_profile()
    shown = str(profile) if len(str(profile)) <= 200 else f"{str(profile)[:120]}…{str(profile)[-40:]}"
    try:
        found = profile.is_file()
    except OSError as exc:   # a name too long for the file system, a folder we may not enter
        return [src.problem(where, f"cannot use the profile {shown}: {exc.strerror}")]
    if not found:
        hint = " (run `make` to build it)" if src.data["output_intent"]["profile"] == "FOGRA39" else ""
        return [src.problem(where, f"file not found: {shown}{hint}")]
    try:
        with open(profile, "rb") as f:   # is_file() above: a regular file, so the read ends
            data = f.read(MAX_PROFILE_BYTES + 1)
    except OSError as exc:
        return [src.problem(where, f"cannot read the profile {shown}: {exc.strerror}")]
    header = data[:20]
    if header[16:20] != b"CMYK":
        return [src.problem(where, f"expected a CMYK ICC profile, got {header[16:20].decode('latin-1')!r} in {shown}")]
    if len(data) > MAX_PROFILE_BYTES:
        return [src.problem(where, f"the profile {shown} is over {MAX_PROFILE_BYTES // 2**20} MB; an ICC "
                                   "output profile is a few hundred KB to a few MB")]
    # The output intent's identifier follows the profile: a workflow matches on it, and a
    # FOGRA51 profile announced as FOGRA39 can turn black text into four colours.
    condition = src.data["output_intent"]["condition"]
    named = _profile_condition(data)
    if named and named != condition:
        return [src.problem(("output_intent", "condition"),
                            f"the profile characterises {named} (its description says so), but the condition "
                            f"is {condition}; set condition: {named}")]
    return []


def _profile_condition(data: bytes) -> str | None:
    """The registered print condition an ICC profile's description names (FOGRA39, FOGRA51, …), if any."""
    import io
    import re

    from PIL import ImageCms

    try:
        description = ImageCms.ImageCmsProfile(io.BytesIO(data)).profile.profile_description or ""
    except (OSError, ImageCms.PyCMSError):
        return None
    found = re.search(r"\b(FOGRA\d+|GRACoL\w*|SWOP\w*|JapanColor\w*)", description)
    return found.group(1) if found else None


# The type sizes the templates and preflight read from brand.yaml, in points.
TYPE_ROLES = {
    "body-a4": "the brochure's body size", "body-a5": "the staff leaflet's body size",
    "body-a5-large": "the other leaflets' body size", "poster-min": "the smallest poster text at A3",
    "poster-max": "the largest fitted poster size at A3", "min-policy": "the smallest text in the brochure",
    "min-leaflet": "the smallest text in a leaflet", "min-poster-footer": "the smallest text in a poster footer",
    "reversed-min": "the smallest white text on colour (press files)",
    "reversed-bold-below": "the size under which white text on colour must be bold",
}


def _type_sizes(project: Project) -> list[Problem]:
    """The type sizes the build uses are all in brand.yaml, in points."""
    src = project.sources["brand"]
    sizes = src.data["type"]
    out = []
    for role, what in TYPE_ROLES.items():
        if role not in sizes:
            out.append(src.problem(("type",), f"missing '{role}' ({what}), e.g. {role}: 8pt"))
        elif not str(sizes[role]).endswith("pt"):
            out.append(src.problem(("type", role), f"expected a size in pt, got {sizes[role]!r}"))
    return out


def brand_font_files(project: Project) -> dict[str, list[Path]]:
    """The font files of each brand font family (from allow-listed packages only)."""
    from .fonts import package_font_files

    return {font["family"]: package_font_files(font["package"]) for font in project.data("brand")["fonts"].values()}


def _glyphs(project: Project) -> list[Problem]:
    """Every character of the content must have a glyph in the brand fonts (no tofu, no fallback)."""
    from . import levers
    from .fonts import char_map

    families = brand_font_files(project)
    # Read again each time with the levers off (the code before them); remembered per process with them on.
    maps = [char_map(path, remember=levers.on()) for paths in families.values() for path in paths]

    @functools.lru_cache(maxsize=None)   # a few hundred distinct characters, looked up thousands of times
    def covered(code: int) -> bool:
        return any(code in cmap for cmap in maps)
    names = ", ".join(families)
    out = []
    sources = list(project.sources.values()) + list(project.strings.values()) + list(project.translations.values())

    def walk(src, value, path):
        if isinstance(value, str):
            for ch in sorted(set(value)):
                if not ch.isspace() and ch not in IGNORABLE and not covered(ord(ch)):
                    out.append(src.problem(path, f"character {ch!r} (U+{ord(ch):04X}) has no glyph in the "
                                                 f"brand fonts ({names}); it would print in another font or as a box"))
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(src, item, path + (key,))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(src, item, path + (i,))

    for src in sources:
        walk(src, src.data, ())
    return out


# Characters that are never drawn: soft hyphen, joiners, directional marks.
IGNORABLE = {"\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\u200e", "\u200f"}
