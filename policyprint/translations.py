"""Translations: the one definition of translation ids, fingerprints, status, and the
translated view of the content that a language's files are rendered from.

Every translatable Danish text has an id: the dotted path of its key in the content,
where a list element that has an `id` is named by it and any other by its index
(`policy.sections.vision.lists.vision.items.vision-faellesskaber.text`,
`leaflets.youth.blocks.1.text.0`). The roots are `policy` (its meta limited to title,
subtitle, subject and keywords), `leaflets`, `posters`, `products.<id>.title` and
`site.publisher.department` / `site.publisher.logo_alt`. Ids change only when the
Danish structure changes (a new item, a renamed id), never when its words do.

A language's translation file, content/translations/<lang>.yaml, maps each id to
its text, the fingerprint of the Danish text it was translated from (`source`), and
a status: `draft`, or `approved` with `approved_by` and `date`. An entry whose
fingerprint differs from the current Danish is *stale*. The fixed words the
templates use (page labels, "Contact", …) are not here: they live in
content/strings/<lang>.yaml.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .project import SOURCE_LANG, Project

# Keys whose values are never translated (ids, numbers, references, settings), as in
# the extraction the translators worked from. A key listed here is still walked when its
# value is a mapping or a list of mappings (`items:` of a policy list, `lists:`).
SKIP_KEYS = {"id", "kind", "layout", "template", "stylesheet", "size", "url", "date", "logo", "web", "email",
             "phone", "figure", "quote", "list", "pull_quote", "items", "open_with", "audience", "dir", "code",
             "profile", "condition", "info", "package", "family", "from", "to", "axis_max", "page", "pages",
             "personal_pages", "new_page", "cards", "max_lix", "breathe"}

# Keys that hold text in one place and an id in another: `body:` is a section's paragraphs in
# policy.yaml, and the id of the section quoted in a leaflet's block. A single string is the id.
ID_WHEN_STRING = {"body"}

META_KEYS = ("title", "subtitle", "subject", "keywords")
STATES = ("approved", "draft", "stale", "missing")
FINGERPRINT_LEN = 12


def fingerprint(text: str) -> str:
    """The fingerprint of a Danish text: the first 12 hex digits of its SHA-256."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:FINGERPRINT_LEN]


@dataclass(frozen=True)
class SourceText:
    """One translatable Danish text: where it is and what it says."""

    id: str
    text: str
    source: str        # the project source it lives in: policy, leaflets, posters, products, site
    path: tuple        # its key path in that source's data

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.text)


def _walk(node: Any, ident: str, path: tuple, source: str, out: dict) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in SKIP_KEYS and not isinstance(value, dict) and not (
                    isinstance(value, list) and value and isinstance(value[0], dict)):
                continue
            if key in ID_WHEN_STRING and isinstance(value, str):
                continue
            _walk(value, f"{ident}.{key}" if ident else key, path + (key,), source, out)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            seg = value["id"] if isinstance(value, dict) and "id" in value else str(i)
            _walk(value, f"{ident}.{seg}", path + (i,), source, out)
    elif isinstance(node, str) and node.strip():
        out[ident] = SourceText(ident, node, source, path)


def source_texts(project: Project) -> dict[str, SourceText]:
    """Every translatable Danish text by id, in the order of the content files."""
    out: dict[str, SourceText] = {}
    policy = project.data("policy")
    meta = policy["meta"]
    for key in META_KEYS:
        if key in meta:
            _walk(meta[key], f"policy.meta.{key}", ("meta", key), "policy", out)
    for key, value in policy.items():
        if key != "meta":
            _walk({key: value}, "policy", (), "policy", out)
    _walk(project.data("leaflets"), "", (), "leaflets", out)
    _walk(project.data("posters"), "", (), "posters", out)
    for i, product in enumerate(project.data("products")["products"]):
        out[f"products.{product['id']}.title"] = SourceText(
            f"products.{product['id']}.title", product["title"], "products", ("products", i, "title"))
    publisher = project.data("site")["publisher"]
    for key in ("department", "logo_alt"):
        if publisher.get(key):
            out[f"site.publisher.{key}"] = SourceText(f"site.publisher.{key}", publisher[key], "site",
                                                      ("publisher", key))
    return out


def where_source(project: Project, text: SourceText) -> str:
    """'file:line' of a Danish text."""
    src = project.sources[text.source]
    return f"{src.file}:{src.line(text.path)}"


# ---- status ----------------------------------------------------------------------

@dataclass
class EntryState:
    id: str
    state: str                 # approved, draft, stale or missing
    where: str | None          # file:line of the translation (None when missing)
    source_where: str          # file:line of the Danish


def entry_states(project: Project, lang: str) -> dict[str, EntryState]:
    """The state of every translatable id in `lang`, in source order."""
    texts = source_texts(project)
    out = {}
    src = project.translations.get(lang)
    entries = src.data if src is not None else {}
    for ident, text in texts.items():
        entry = entries.get(ident)
        source_where = where_source(project, text)
        if entry is None:
            out[ident] = EntryState(ident, "missing", None, source_where)
            continue
        where = f"{src.file}:{src.line((ident,))}"
        if str(entry.get("source")) != text.fingerprint:
            state = "stale"
        else:
            state = entry.get("status", "draft")
        out[ident] = EntryState(ident, state, where, source_where)
    return out


def unknown_ids(project: Project, lang: str) -> list[str]:
    """Ids in a translation file that no Danish text has (removed or mistyped)."""
    src = project.translations.get(lang)
    if src is None:
        return []
    texts = source_texts(project)
    return [ident for ident in src.data if ident not in texts]


# ---- the translated view of the content ------------------------------------------------

@dataclass
class Localised:
    """The content data a language's files are rendered from: the Danish data with every
    translated text put in its place. Missing entries keep their Danish text here, but a
    job that uses one fails before rendering (JobRunner), so Danish never reaches a
    translated file."""

    lang: str
    data: dict[str, Any]                      # source name -> data
    missing: set[str] = field(default_factory=set)
    drafts: set[str] = field(default_factory=set)   # draft or stale

    @property
    def policy(self) -> dict:
        return self.data["policy"]

    def products(self, project: Project) -> list[dict]:
        registry = self.data["products"]
        posters = [{**registry["posters"], "id": f"poster-{p['id']}", "kind": "poster", "poster": p["id"],
                    "title": f"{p['kicker']}: {p['title']}"} for p in self.data["posters"]["posters"]]
        return registry["products"] + posters

    def product(self, project: Project, product_id: str) -> dict:
        return next(p for p in self.products(project) if p["id"] == product_id)


LOCALISED_SOURCES = ("policy", "leaflets", "posters", "products", "site")


def _put(data: Any, path: tuple, value: str) -> None:
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


def localise(project: Project, texts: dict[str, str], lang: str = SOURCE_LANG,
             states: dict[str, EntryState] | None = None) -> Localised:
    """The content with `texts` (id -> text) put in place of the Danish."""
    data = {name: copy.deepcopy(project.data(name)) for name in LOCALISED_SOURCES}
    loc = Localised(lang, data)
    for ident, source in source_texts(project).items():
        if ident in texts:
            _put(data[source.source], source.path, texts[ident])
        else:
            loc.missing.add(ident)
    if states:
        loc.drafts = {ident for ident, st in states.items() if st.state in ("draft", "stale")}
    return loc


def localised(project: Project, lang: str) -> Localised:
    """The content of `lang` (cached on the project): Danish as it is, or the translations."""
    cache = project.__dict__.setdefault("_localised", {})
    if lang not in cache:
        if lang == SOURCE_LANG:
            cache[lang] = Localised(lang, {name: project.data(name) for name in LOCALISED_SOURCES})
        else:
            src = project.translations.get(lang)
            entries = src.data if src is not None else {}
            cache[lang] = localise(project, {k: v["text"] for k, v in entries.items()}, lang,
                                   entry_states(project, lang))
    return cache[lang]


# Private-use characters around an entry number: rendering the content with every text
# replaced by its marker shows exactly which ids a product uses.
MARK_OPEN, MARK_CLOSE = "\ue000", "\ue001"
_MARKER = re.compile(f"{MARK_OPEN}(\\d+){MARK_CLOSE}")


def marked(project: Project) -> tuple[Localised, list[str]]:
    """The content with every text replaced by a numbered marker, and the ids in number order."""
    cache = project.__dict__.setdefault("_localised", {})
    if "\0marked" not in cache:
        ids = list(source_texts(project))
        cache["\0marked"] = (localise(project, {ident: f"{MARK_OPEN}{n}{MARK_CLOSE}"
                                                for n, ident in enumerate(ids)}), ids)
    return cache["\0marked"]


def ids_in(html: str, ids: list[str]) -> set[str]:
    return {ids[int(n)] for n in _MARKER.findall(html)}


# ---- writing translation files, keeping comments and order ----------------------------

_TOP_KEY = re.compile(r"^(?P<key>[^\s#'\"][^:]*|\"[^\"]+\"|'[^']+'):(\s|$)")


def _entry_lines(ident: str, entry: dict) -> list[str]:
    import yaml

    body = yaml.safe_dump(entry, allow_unicode=True, sort_keys=False, width=10**6, default_flow_style=False)
    key = ident if re.fullmatch(r"[A-Za-z0-9_.-]+", ident) else yaml.safe_dump(ident).strip().removesuffix("\n...")
    return [f"{key}:\n"] + [f"  {line}\n" for line in body.splitlines()]


def _blocks(text: str):
    """Split a translation file into its header, and per top-level key its leading comment
    lines and its own lines; plus the keys in file order."""
    import yaml

    header: list[str] = []
    pending: list[str] = []
    comments: dict[str, list[str]] = {}
    own: dict[str, list[str]] = {}
    order: list[str] = []
    current = None
    for line in text.splitlines(keepends=True):
        m = _TOP_KEY.match(line)
        if m and not line.startswith((" ", "\t")):
            key = m.group("key")
            if key[0] in "'\"":
                key = yaml.safe_load(key)
            current = key
            order.append(key)
            comments[key] = pending
            pending = []
            own[key] = [line]
        elif current is None:
            header.append(line)
        elif line.startswith((" ", "\t")) and line.strip() and not line.lstrip().startswith("#"):
            own[current] += pending + [line]
            pending = []
        else:
            pending.append(line)
    return header, comments, own, order, pending


def write_entries(path: Path, changed: dict[str, dict], order: list[str]) -> None:
    """Write `changed` entries into the translation file at `path`, in `order` (the Danish
    order; ids not in it keep their place at the end). Everything else in the file, its
    comments included, stays as it was."""
    from .build import write_atomic

    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if not text:
        text = ("# Translations. Each entry: the id of a Danish text (policyprint/translations.py), its\n"
                "# translation, the fingerprint of the Danish it was translated from (source), and its\n"
                "# status: draft, or approved with approved_by and date. Edit through\n"
                "# `policyprint translations export` / `import`; see docs/translations.md.\n")
    header, comments, own, keys, tail = _blocks(text)
    for ident, entry in changed.items():
        own[ident] = _entry_lines(ident, entry)
        comments.setdefault(ident, [])
    rank = {ident: i for i, ident in enumerate(order)}
    present = list(dict.fromkeys(keys + [k for k in changed if k not in keys]))
    known = sorted((k for k in present if k in rank), key=rank.get)
    unknown = [k for k in present if k not in rank]
    out = list(header)
    for ident in known + unknown:
        out += comments.get(ident, []) + own[ident]
    out += tail
    write_atomic(path, "".join(out).encode("utf-8"))


def new_entry(text: str, danish: str, status: str = "draft", approved_by: str | None = None,
              date: dt.date | None = None) -> dict:
    entry = {"text": text, "source": fingerprint(danish), "status": status}
    if status == "approved":
        entry["approved_by"] = approved_by
        entry["date"] = date
    return entry


def translation_path(root: Path, lang: str) -> Path:
    return root / "content" / "translations" / f"{lang}.yaml"


# ---- gettext PO ------------------------------------------------------------------

def export_po(project: Project, lang: str) -> str:
    """The language's translations as a gettext PO file: msgctxt the id, msgid the Danish,
    msgstr the translation (empty when missing), `fuzzy` when stale."""
    import polib

    from . import __version__

    po = polib.POFile(wrapwidth=0)
    po.metadata = {
        "Project-Id-Version": f"policyprint {__version__}",
        "Language": lang,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        "X-Source-Language": SOURCE_LANG,
    }
    states = entry_states(project, lang)
    src = project.translations.get(lang)
    entries = src.data if src is not None else {}
    for ident, text in source_texts(project).items():
        state = states[ident]
        entry = entries.get(ident, {})
        file, line = state.source_where.rsplit(":", 1)
        po_entry = polib.POEntry(msgctxt=ident, msgid=text.text, msgstr=entry.get("text", ""),
                                 occurrences=[(file, line)],
                                 comment=f"status: {state.state}" + (
                                     f", approved by {entry['approved_by']} on {entry['date']}"
                                     if state.state == "approved" else ""))
        if state.state == "stale":
            po_entry.flags.append("fuzzy")
        po.append(po_entry)
    return str(po)


@dataclass
class ImportReport:
    lang: str
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    confirmed: list[str] = field(default_factory=list)   # same words, now translated from the current Danish
    unchanged: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)


def read_po(data: str) -> tuple[str | None, list[tuple[str, str, str, bool]]]:
    """A PO file's language and its entries as (id, Danish, translation, fuzzy)."""
    import polib

    po = polib.pofile(data)
    entries = [(e.msgctxt or "", e.msgid, e.msgstr, "fuzzy" in e.flags) for e in po if not e.obsolete]
    return po.metadata.get("Language"), entries


def import_entries(project: Project, lang: str, entries: list[tuple[str, str, str, bool]],
                   write: bool = True) -> ImportReport:
    """Take translations back as drafts. An entry is written only if its words changed, or if
    they were translated from a different Danish text than the file records (a translator
    who clears `fuzzy` confirms the words for the Danish shown). Entries still `fuzzy`
    keep the fingerprint the file had: they stay stale. Everything else is left as it was."""
    texts = source_texts(project)
    src = project.translations.get(lang)
    current = src.data if src is not None else {}
    report = ImportReport(lang)
    changed: dict[str, dict] = {}
    for ident, danish, text, fuzzy in entries:
        if ident not in texts:
            report.unknown.append(ident)
            continue
        if not text.strip():
            report.empty.append(ident)
            continue
        old = current.get(ident)
        source = fingerprint(danish)
        if fuzzy:
            source = str(old["source"]) if old else "0" * FINGERPRINT_LEN
        if old is None:
            changed[ident] = {"text": text, "source": source, "status": "draft"}
            report.new.append(ident)
        elif old["text"] != text:
            changed[ident] = {"text": text, "source": source, "status": "draft"}
            report.changed.append(ident)
        elif str(old["source"]) != source:
            changed[ident] = {"text": text, "source": source, "status": "draft"}
            report.confirmed.append(ident)
        else:
            report.unchanged.append(ident)
    if write and changed:
        write_entries(translation_path(project.root, lang), changed, list(texts))
    return report


# ---- reports ---------------------------------------------------------------------

def table(project: Project, lang: str) -> list[tuple[str, dict[str, int]]]:
    """Per product (and `all` ids), how many entries the language has in each state."""
    from .render import Renderer

    renderer = Renderer(project)
    states = entry_states(project, lang)
    rows = []
    for product in project.products:
        used = renderer.used_ids(product["id"])
        counts = {state: 0 for state in STATES}
        for ident in used:
            counts[states[ident].state] += 1
        rows.append((product["id"], {"entries": len(used), **counts}))
    counts = {state: 0 for state in STATES}
    for st in states.values():
        counts[st.state] += 1
    rows.append(("(all texts)", {"entries": len(states), **counts}))
    return rows


def check_lines(project: Project) -> list[str]:
    """Every missing, stale and unapproved entry of every language, with file:line of the
    translation and of the Danish: what `check` prints."""
    lines = []
    for lang in project.langs:
        if lang == SOURCE_LANG:
            continue
        states = entry_states(project, lang)
        file = f"content/translations/{lang}.yaml"
        for st in states.values():
            if st.state == "approved":
                continue
            where = st.where or file
            what = {"missing": "missing", "stale": "stale: the Danish changed since it was translated",
                    "draft": "draft: not approved"}[st.state]
            lines.append(f"{where}: {st.id}: {lang} {what} (Danish: {st.source_where})")
        for ident in unknown_ids(project, lang):
            src = project.translations[lang]
            lines.append(f"{src.file}:{src.line((ident,))}: {ident}: no Danish text has this id "
                         "(removed or mistyped); it is not used")
    return lines


def summary(project: Project) -> list[str]:
    out = []
    for lang in project.langs:
        if lang == SOURCE_LANG:
            continue
        counts = {state: 0 for state in STATES}
        for st in entry_states(project, lang).values():
            counts[st.state] += 1
        out.append(f"{lang}: " + ", ".join(f"{counts[s]} {s}" for s in STATES))
    return out
