"""Validate stage: rules that span files (references, assets, page plan, tokens)."""

from __future__ import annotations

import re

from .errors import Problem
from .project import SOURCE_LANG, Project

VAR_RE = re.compile(r"var\(--colour-([a-z0-9-]+)")


def validate_project(project: Project) -> list[Problem]:
    """Return every cross-file problem; an empty list means the project is sound."""
    problems: list[Problem] = []
    problems += _unique_ids(project)
    problems += _page_plan(project)
    problems += _assets(project)
    problems += _hyphenation(project)
    problems += _strings(project)
    problems += _colour_roles(project)
    return problems


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
    out = []
    site = project.sources["site"]
    logo = site.data["publisher"]["logo"]
    if not (project.root / "content" / logo).is_file():
        out.append(site.problem(("publisher", "logo"), f"file not found: content/{logo}"))
    products = project.sources["products"]
    for i, product in enumerate(products.data["products"]):
        for key, folder in (("template", "templates"), ("stylesheet", "styles")):
            if not (project.root / folder / product[key]).is_file():
                out.append(products.problem(("products", i, key), f"file not found: {folder}/{product[key]}"))
    return out


def _hyphenation(project: Project) -> list[Problem]:
    src = project.sources["hyphenation"]
    out = []
    for i, entry in enumerate(src.data["exceptions"]):
        for word, marked in entry.items():
            if marked.replace("|", "") != word:
                out.append(src.problem(("exceptions", i, word),
                                       f"expected '{word}' with '|' at break points, got {marked!r}"))
    return out


def _strings(project: Project) -> list[Problem]:
    source = project.strings[SOURCE_LANG].data
    out = []
    for lang, src in project.strings.items():
        for key in src.data:
            if key not in source:
                out.append(src.problem((key,), f"unknown key '{key}' (not in strings/{SOURCE_LANG}.yaml)"))
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
