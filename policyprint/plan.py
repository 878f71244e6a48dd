"""Plan stage: products × languages × variants × institutions → jobs with output paths."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import PurePosixPath

from .errors import UsageError
from .project import Project

ALL_VARIANTS = ("screen", "print", "booklet")

# Trimmed page sizes in millimetres (ISO 216).
PAGE_SIZES_MM = {"A5": (148.0, 210.0), "A4": (210.0, 297.0), "A3": (297.0, 420.0), "A2": (420.0, 594.0)}
BOOKLET_SHEET_MM = (297.0, 210.0)   # office files: every variant="booklet" file prints on A4 landscape

# How each kind of booklet is printed: (the viewer's /Duplex, the strings key of the instruction).
# Here, not in impose.py, so that keying a booklet job does not load pypdf in the main process
# (its forked workers would each carry it).
PRINTING = {
    "leaflet": ("/DuplexFlipShortEdge", "print_duplex_short"),
    "policy": ("/DuplexFlipShortEdge", "print_duplex_short"),
    "poster": ("/Simplex", "print_simplex"),
}


@dataclass(frozen=True, order=True)
class Job:
    """One output file."""

    product: str
    lang: str
    variant: str
    institution: str | None = None
    size: str | None = None  # a poster built at another size than its default
    marks: bool = False      # a press file with crop marks: its own file name, never the plain one

    @cached_property
    def path(self) -> PurePosixPath:
        """The output path relative to output/; a non-default size is in the name."""
        folder = PurePosixPath(self.lang)
        if self.institution:
            folder = folder / "institutions" / self.institution
        size = f".{self.size}" if self.size else ""
        marks = "-marks" if self.marks else ""
        return folder / f"{self.product}{size}.{self.variant}{marks}.pdf"

    def fields(self) -> list:
        """The job as a JSON list (build state, job keys); Job(*fields) restores it."""
        return [self.product, self.lang, self.variant, self.institution, self.size, self.marks]

    def describe(self) -> str:
        parts = [self.product + (f" ({self.size})" if self.size else ""), self.lang,
                 self.variant + (" with crop marks" if self.marks else "")]
        if self.institution:
            parts.append(f"institution {self.institution}")
        return " / ".join(parts)


def _select(kind: str, asked: tuple[str, ...] | None, known: list[str]) -> list[str]:
    if not asked:
        return known
    unknown = [a for a in asked if a not in known]
    if unknown:
        raise UsageError(f"unknown {kind} {', '.join(map(repr, unknown))}; known: {', '.join(known)}")
    return [k for k in known if k in asked]


def select_institutions(project: Project, asked) -> list[str]:
    """Resolve --institution values ('all' or ids) against content/institutions.yaml."""
    known = [i["id"] for i in project.institutions]
    if not asked:
        return []
    if "all" in asked:
        return known
    unknown = [a for a in asked if a not in known]
    if unknown:
        raise UsageError(f"unknown institution {', '.join(map(repr, unknown))}: "
                         f"content/institutions.yaml lists {', '.join(known) or 'none'}")
    return [k for k in known if k in asked]


POSTER_SIZES = ("A4", "A3", "A2")


def institution_langs(inst: dict) -> list[str] | None:
    """The languages an institution asks for (`languages:`, or the older `langs:`); None: every one."""
    return inst.get("languages", inst.get("langs"))


def plan(project: Project, products=None, langs=None, variants=None, institutions=None,
         size: str | None = None, marks: bool = False, only_institutions: bool = False) -> list[Job]:
    """Return the jobs for a build, checked so that no two write the same path.

    `size` (A4, A3 or A2) builds posters at that size; other products keep theirs.
    `marks` gives press files crop marks (and their own names). `only_institutions`
    leaves out the municipality's generic files: only the institutions' own.
    """
    if size is not None and size not in POSTER_SIZES:
        raise UsageError(f"unknown poster size {size!r}; known: {', '.join(POSTER_SIZES)}")
    product_ids = _select("product", products, [p["id"] for p in project.products])
    lang_ids = project.langs if langs and "all" in langs else _select("language", langs, project.langs)
    default_variants = project.data("products")["variants"]
    variant_ids = _select("variant", variants, default_variants)
    def job_size(product_id: str) -> str | None:
        product = project.product(product_id)
        return size if product["kind"] == "poster" and size and size != product["size"] else None

    def job(p, lang, v, inst_id=None):
        return Job(p, lang, v, inst_id, job_size(p), marks and v == "print")

    institution_ids = select_institutions(project, institutions)
    if only_institutions and not institution_ids:
        raise UsageError("--only-institutions needs --institution ID (or --institution all)")
    jobs = [] if only_institutions else [job(p, lang, v) for p in product_ids for lang in lang_ids
                                          for v in variant_ids]
    for inst_id in institution_ids:
        inst = project.institution(inst_id)
        wanted = institution_langs(inst)
        inst_langs = [lang for lang in lang_ids if wanted is None or lang in wanted]
        gets = project.institution_products(inst_id)
        jobs += [job(p, lang, v, inst_id) for p in product_ids
                 if p in gets for lang in inst_langs for v in variant_ids]
    if only_institutions and not jobs:
        raise UsageError(f"nothing to build: {', '.join(institution_ids)} get(s) none of "
                         f"{', '.join(product_ids)} (see products: in content/institutions.yaml)")
    paths = {}
    for job in jobs:
        if job.path in paths:
            raise UsageError(f"two jobs write {job.path}: {paths[job.path].describe()} and {job.describe()}")
        paths[job.path] = job
    return jobs
