"""Load stage: read every content file into one Project, reporting all problems at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import schema
from .content import Source, load_yaml, read_content_file
from .errors import ContentError, Problem

SOURCE_LANG = "da"

# The files of a project and the spec each must satisfy.
FILES = {
    "policy": ("content/policy.yaml", schema.POLICY_FILE),
    "site": ("content/site.yaml", schema.SITE_FILE),
    "products": ("content/products.yaml", schema.PRODUCTS_FILE),
    "brand": ("content/brand.yaml", schema.BRAND_FILE),
    "hyphenation": ("content/hyphenation.yaml", schema.HYPHENATION_FILE),
    "leaflets": ("content/leaflets.yaml", schema.LEAFLETS_FILE),
    "institutions": ("content/institutions.yaml", schema.INSTITUTIONS_FILE),
    "posters": ("content/posters.yaml", schema.POSTERS_FILE),
    "print": ("content/print.yaml", schema.PRINT_FILE),
    "languages": ("content/languages.yaml", schema.LANGUAGES_FILE),
}


# The file that marks a project folder.
MARKER = "content/products.yaml"


def is_project(folder: Path) -> bool:
    """Whether `folder` holds a project (its content/products.yaml); never raises."""
    try:
        return (folder / MARKER).is_file()
    except OSError:   # a path too long, a folder we may not enter
        return False


def find_root(start: Path) -> Path | None:
    """The nearest folder, from `start` upward, that holds content/products.yaml."""
    for folder in (start, *start.parents):
        if is_project(folder):
            return folder
    return None


@dataclass
class Project:
    """Everything a build reads, loaded and checked."""

    root: Path
    sources: dict[str, Source] = field(default_factory=dict)
    strings: dict[str, Source] = field(default_factory=dict)  # lang -> strings file
    translations: dict[str, Source] = field(default_factory=dict)  # lang -> content/translations/<lang>.yaml

    def data(self, name: str) -> Any:
        return self.sources[name].data

    @property
    def policy(self) -> dict:
        return self.data("policy")

    @property
    def products(self) -> list[dict]:
        """The registry: products.yaml's entries, then one product per poster."""
        registry = self.data("products")
        posters = [{**registry["posters"], "id": f"poster-{p['id']}", "kind": "poster", "poster": p["id"],
                    "title": f"{p['kicker']}: {p['title']}"} for p in self.data("posters")["posters"]]
        return registry["products"] + posters

    @property
    def langs(self) -> list[str]:
        """Languages that have a strings file, the source language first."""
        return sorted(self.strings, key=lambda lang: (lang != SOURCE_LANG, lang))

    def language(self, code: str) -> dict:
        """The entry of content/languages.yaml for `code`."""
        return next(lang for lang in self.data("languages")["languages"] if lang["code"] == code)

    def font_role(self, code: str) -> str:
        """The brand font role language `code` is set in (languages.yaml `font`, else "text")."""
        return self.language(code).get("font", "text")

    def locale(self, code: str) -> str:
        """The CLDR locale of language `code` (languages.yaml `locale`, else the code itself)."""
        return self.language(code).get("locale", code)

    def page_plan(self, lang: str) -> tuple[int, dict[str, int], tuple[str, tuple] | None]:
        """The brochure's page plan in `lang`: its page count, the page each section starts on,
        and where the plan is written (source name and key path) if the language has its own
        (content/languages.yaml page_plan:); else the Danish plan of content/policy.yaml."""
        pages = next((p["pages"] for p in self.data("products")["products"] if p["kind"] == "policy"), 999)
        plan = {s["id"]: s["page"] for s in self.policy["sections"]}
        languages = self.data("languages")["languages"]
        index = next((i for i, lang_ in enumerate(languages) if lang_["code"] == lang), None)
        if index is not None and "page_plan" in languages[index]:
            own = languages[index]["page_plan"]
            return own["pages"], {**plan, **own["sections"]}, ("languages", ("languages", index, "page_plan"))
        return pages, plan, None

    def pages(self, product: dict, lang: str) -> int:
        """The exact page count of a product in `lang` (the brochure follows the language's plan)."""
        return self.page_plan(lang)[0] if product["kind"] == "policy" else product["pages"]

    @property
    def institutions(self) -> list[dict]:
        return self.data("institutions")["institutions"]

    def institution(self, institution_id: str) -> dict:
        return next(i for i in self.institutions if i["id"] == institution_id)

    def institution_products(self, institution_id: str) -> list[str]:
        """The products an institution gets: its own list, or its kind's default, or every personalised one."""
        inst = self.institution(institution_id)
        personalised = [p["id"] for p in self.products if p.get("personalise")]
        wanted = inst.get("products") or self.data("products").get("institution_products", {}).get(inst["kind"])
        if wanted is None:
            return personalised
        expanded = {pid for name in wanted
                    for pid in ([p for p in personalised if p.startswith("poster-")] if name == "posters" else [name])}
        return [pid for pid in personalised if pid in expanded]

    def product(self, product_id: str) -> dict:
        return next(p for p in self.products if p["id"] == product_id)

    def cmyk_profile(self) -> Path:
        """The output-intent ICC profile for press files."""
        name = self.data("print")["output_intent"]["profile"]
        if name == "FOGRA39":
            return self.root / ".cache" / "icc" / "FOGRA39.icc"
        path = Path(name)
        return path if path.is_absolute() else self.root / path


# Content files as last loaded in this process, for `watch` and `serve` (a lever): (root, file) ->
# (its bytes, the spec it was checked against, the Source). A file whose bytes are unchanged is not
# parsed again; nothing after loading changes a Source's data. The cross-file rules run every time.
_LOADED: dict[tuple[Path, str], tuple[bytes, schema.Spec, Source]] = {}


def load_project(root: Path | str) -> Project:
    """Load and validate every content file; raise ContentError listing all problems.

    With the levers on, a file whose bytes are those it had at the last load in this process
    is taken as loaded then (`watch` and `serve` reload only the files that changed)."""
    from . import levers
    from .validate import validate_project

    root = Path(root).resolve()
    project = Project(root)
    problems: list[Problem] = []

    keep = levers.on()
    for other in [key for key in _LOADED if key[0] != root]:
        del _LOADED[other]   # one project per process is kept (the tests load many)

    def load(rel: str, spec: schema.Spec) -> Source | None:
        try:
            data = read_content_file(root / rel, rel)
            kept = _LOADED.get((root, rel)) if keep else None
            if kept is not None and kept[0] == data and kept[1] is spec:
                return kept[2]   # the same bytes as last time: parsed and checked then
            src = load_yaml(root / rel, root, data)
        except ContentError as exc:
            problems.extend(exc.problems)
            return None
        before = len(problems)
        spec.check(src.data, (), src, problems)
        if len(problems) != before:
            return None
        if keep:
            _LOADED[(root, rel)] = (data, spec, src)
        return src

    for name, (rel, spec) in FILES.items():
        src = load(rel, spec)
        if src is not None:
            project.sources[name] = src
    strings_dir = root / "content" / "strings"
    codes = [lang["code"] for lang in project.sources["languages"].data["languages"]] \
        if "languages" in project.sources else None
    for path in sorted(strings_dir.glob("*.yaml")):
        rel = path.relative_to(root).as_posix()
        if codes is not None and path.stem not in codes:
            # The code names an output folder: only listed codes, never '..' or a path.
            problems.append(Problem(rel, 1, "", f"{path.stem[:40]!r} is not a language code listed in "
                                                f"content/languages.yaml ({', '.join(codes)}); "
                                                "rename the file or add the language there"))
            continue
        src = load(rel, schema.STRINGS_FILE)
        if src is not None:
            project.strings[path.stem] = src
    for path in sorted((root / "content" / "translations").glob("*.yaml")):
        rel = path.relative_to(root).as_posix()
        if codes is not None and (path.stem not in codes or path.stem == SOURCE_LANG):
            problems.append(Problem(rel, 1, "", f"{path.stem[:40]!r} is not a language code listed in "
                                                f"content/languages.yaml other than the source language "
                                                f"({', '.join(c for c in codes if c != SOURCE_LANG) or 'none'}); "
                                                "rename the file or add the language there"))
            continue
        src = load(rel, schema.TRANSLATION_FILE)
        if src is not None:
            project.translations[path.stem] = src
    if SOURCE_LANG not in project.strings and not any(
            p.file.endswith(f"strings/{SOURCE_LANG}.yaml") for p in problems):
        problems.append(Problem(f"content/strings/{SOURCE_LANG}.yaml", 1, "",
                                "file not found: the source language's strings are required"))
    # Cross-file rules need every file; they run only on what loaded cleanly.
    if len(project.sources) == len(FILES) and SOURCE_LANG in project.strings:
        problems += validate_project(project)
    if problems:
        raise ContentError(problems)
    return project
