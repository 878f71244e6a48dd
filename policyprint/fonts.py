"""Static instances of the brand's variable fonts, and the only fonts rendering may see.

The fontpkg packages ship Noto Sans as variable fonts. WeasyPrint instantiates
a variable font again for every weight of every PDF it writes (fontTools'
instancer), which took about 45 % of the whole build. So each weight the
stylesheets use is instantiated once, here, from the same pinned files, and
cached by the source file's hash, in the checkout's `.cache/fonts/` (never in
HOME). The instances are saved without a new timestamp, so they are the same
bytes on every machine with the same fonts.

Rendering sees only these fonts: `use_project_fonts()` writes a private
fontconfig configuration that lists their folders and nothing else (no system
or user fonts) and points FONTCONFIG_FILE at it before fontconfig loads. A
character the brand fonts lack then prints as .notdef on every machine, and
preflight fails on it, instead of silently taking whatever font a machine has.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import tempfile
from pathlib import Path

# The font packages content may name, and the family each ships. Content never
# names code: brand.yaml picks from this list, and a package's files are found
# without importing it. Add a package here (and pin it in pyproject.toml) to offer it.
FONT_PACKAGES = {
    "fontpkg_noto_sans": "Noto Sans",
    "fontpkg_noto_sans_arabic": "Noto Sans Arabic",
    # Arabic text: with Noto Sans Arabic 2.012, WeasyPrint 70 writes a wrong ToUnicode map
    # (WeasyPrint issue #2841: "طفل" extracts as "طنل"), which a screen reader would read
    # out; IBM Plex Sans Arabic extracts correctly (tests/test_languages.py checks it).
    "fontpkg_ibm_plex_sans_arabic": "IBM Plex Sans Arabic",
}


def package_font_files(package: str) -> list[Path]:
    """The font files an allow-listed font package ships, found without running its code."""
    if package not in FONT_PACKAGES:
        raise ValueError(f"{package!r} is not an allow-listed font package ({', '.join(FONT_PACKAGES)})")
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(f"the font package {package!r} is not installed (run `make`)")
    folder = Path(next(iter(spec.submodule_search_locations))).resolve() / "files"
    return sorted(folder.glob("*.[ot]tf"))

_STATIC_WEIGHTS = {"Thin": 100, "ExtraLight": 200, "Light": 300, "Regular": 400, "Text": 450, "Medium": 500,
                   "SemiBold": 600, "Bold": 700, "ExtraBold": 800, "Black": 900}


def static_weight(name: str) -> int:
    """The weight of a static font file from its name (IBMPlexSansArabic-SemiBold.ttf: 600)."""
    style = name.rsplit(".", 1)[0].rsplit("-", 1)[-1].replace("Italic", "") or "Regular"
    return _STATIC_WEIGHTS.get(style, 400)


# The weights the stylesheets use; anything else falls to the nearest one.
WEIGHTS = {"normal": (400, 500, 600, 700, 800), "italic": (400, 700)}


# The checkout that holds the package: its .cache/ keeps what `make` prepares.
TOOL_ROOT = Path(__file__).resolve().parent.parent


def cache_dir() -> Path:
    return TOOL_ROOT / ".cache" / "fonts"


def _instance(source: Path, weight: int, target: Path) -> None:
    from fontTools.ttLib import TTFont
    from fontTools.varLib.instancer import instantiateVariableFont

    font = TTFont(source)
    limits = {"wght": weight}
    if "wdth" in {axis.axisTag for axis in font["fvar"].axes}:
        limits["wdth"] = 100
    static = instantiateVariableFont(font, limits, updateFontNames=True)
    static["OS/2"].usWeightClass = weight
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    os.close(fd)
    static.recalcTimestamp = False  # keep the source's dates: the same bytes every time
    static.save(tmp)
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)


# Bumped when split_ligatures or widen_kerned_glyphs changes: the split copies are made again.
SPLIT_VERSION = b"split-ligatures-2"
# Fonts whose two-letter ligatures are set as two glyphs (see split_ligatures).
SPLIT_LIGATURES = {"fontpkg_ibm_plex_sans_arabic"}


def split_ligatures(font) -> int:
    """Set each two-letter required ligature (rlig) of `font` as two glyphs: the ligature glyph
    for the first letter, and an empty glyph of no width for the second. Returns how many.

    The page looks the same, but every glyph then stands for one letter. A ligature glyph
    stands for two, and the PDF's ToUnicode map gives it both: pypdf then treats the pair as
    a neutral character (it is put at the wrong end of a right-to-left run: "إلى" extracted
    as "إ … لى"), and poppler reverses the pair ("في" as "يف", "الأطفال" as "األطفال"). IBM
    Plex Sans Arabic sets lam-alef and 240 other pairs (beh-reh, noon-yeh, …) as ligatures.

    The ligature lookup becomes a chained contextual one, in the same place in the lookup
    list (so the lookups after it still see what they saw): for each second letter, the
    first letter becomes the ligature glyph and the second its empty glyph. The empty
    glyphs are marks to GDEF, so the kerning and contextual lookups that skip marks see
    the ligature next to the following letter, as before.
    """
    from fontTools.ttLib.tables import otTables as ot
    from fontTools.ttLib.tables._g_l_y_f import Glyph

    gsub = font["GSUB"].table
    indices = sorted({i for record in gsub.FeatureList.FeatureRecord if record.FeatureTag == "rlig"
                      for i in record.Feature.LookupListIndex})
    lookups = gsub.LookupList.Lookup
    order = font.getGlyphOrder()
    glyph_classes = font["GDEF"].table.GlyphClassDef.classDefs
    count = 0

    def coverage(glyphs):
        cov = ot.Coverage()
        cov.glyphs = sorted(glyphs, key=font.getGlyphID)
        return cov

    def single(mapping):
        sub = ot.SingleSubst()
        sub.mapping = dict(mapping)
        lookup = ot.Lookup()
        lookup.LookupType, lookup.LookupFlag, lookup.SubTable = 1, 0, [sub]
        lookups.append(lookup)
        return len(lookups) - 1

    for index in indices:
        lookup = lookups[index]
        if lookup.LookupType != 4:
            continue
        by_second: dict[str, dict[str, str]] = {}
        for sub in lookup.SubTable:
            for first, ligatures in sub.ligatures.items():
                for lig in ligatures:
                    if len(lig.Component) == 1:
                        by_second.setdefault(lig.Component[0], {}).setdefault(first, lig.LigGlyph)
        if not by_second or any(len(lig.Component) != 1 for sub in lookup.SubTable
                                for ligs in sub.ligatures.values() for lig in ligs):
            continue   # only lookups of two-letter ligatures are rewritten
        empties = {}
        for second in sorted(by_second, key=font.getGlyphID):
            empty = f"{second}.ligpart"
            font["glyf"].glyphs[empty] = Glyph()
            font["hmtx"].metrics[empty] = (0, 0)
            order.append(empty)
            glyph_classes[empty] = 3
            empties[second] = empty
        empty_lookup = single(empties)
        subtables = []
        for second in sorted(by_second, key=font.getGlyphID):
            firsts = by_second[second]
            chain = ot.ChainContextSubst()
            chain.Format = 3
            chain.BacktrackGlyphCount, chain.BacktrackCoverage = 0, []
            chain.LookAheadGlyphCount, chain.LookAheadCoverage = 0, []
            chain.InputGlyphCount = 2
            chain.InputCoverage = [coverage(firsts), coverage([second])]
            records = []
            for position, target in ((0, single(firsts)), (1, empty_lookup)):
                record = ot.SubstLookupRecord()
                record.SequenceIndex, record.LookupListIndex = position, target
                records.append(record)
            chain.SubstCount, chain.SubstLookupRecord = 2, records
            subtables.append(chain)
            count += len(firsts)
        lookup.LookupType, lookup.SubTable = 6, subtables
    gsub.LookupList.LookupCount = len(lookups)
    font.setGlyphOrder(order)
    font["maxp"].numGlyphs = len(order)
    return count


def _pair_value(subtables, first: str, second: str):
    """The first glyph's value record that a pair positioning lookup gives `first` before `second`,
    as HarfBuzz finds it: the first subtable that covers `first` and (a list of pairs) lists the pair."""
    for sub in subtables:
        if first not in sub.Coverage.glyphs:
            continue
        if sub.Format == 1:
            pairs = sub.PairSet[sub.Coverage.glyphs.index(first)].PairValueRecord
            record = next((r for r in pairs if r.SecondGlyph == second), None)
            if record is None:
                continue
            return record.Value1
        row = sub.Class1Record[sub.ClassDef1.classDefs.get(first, 0)]
        return row.Class2Record[sub.ClassDef2.classDefs.get(second, 0)].Value1
    return None


def _gap(value) -> int:
    """How far a right-to-left pair value opens the pair (0 unless it moves the first glyph by as
    much as it widens it, which is how a right-to-left kerning pair opens a gap)."""
    advance = getattr(value, "XAdvance", 0) or 0 if value is not None else 0
    placement = getattr(value, "XPlacement", 0) or 0 if value is not None else 0
    return advance if advance > 0 and advance == placement else 0


def widen_kerned_glyphs(font, share: float = 0.4) -> int:
    """Set each right-to-left kerning pair that opens a gap of `share` of a space or more as a wider
    glyph: the second letter (at the left) is a copy of its glyph with the gap added to its
    advance, chosen by a contextual substitution, and the pair is no longer kerned. Returns how
    many (letter, gap) copies were made.

    The page looks the same: the copy stands where the glyph stood and the letter before it where
    the kerning put it. But WeasyPrint writes a kerning gap as a number in the TJ array, and pypdf
    reads a number of 95 % of half a space or more as a word gap (pypdf 7.1.0, _page.py: TJ, and
    TextExtraction.process_tj_offset): IBM Plex Sans Arabic opens "أكثر" by 140/1000 em between
    the alef and the kaf, and pypdf extracted "أكثر ." (the space it adds goes to the end of the
    text box, before the full stop's box). poppler, which reads the glyphs' places, read "أ كثر".
    `share` (0.4) leaves room below pypdf's limit (0.475 space) for rounding.

    Only the right-to-left kerning lookups (lookup flag RightToLeft) are read. The copies take the
    glyph's place everywhere else: its kerning with the letter after it, its mark anchors, its
    glyph class. The substitution is the last lookup of 'calt', after every Arabic form is chosen.
    """
    import copy

    from fontTools.ttLib.tables import otTables as ot

    gsub, gpos = font["GSUB"].table, font["GPOS"].table
    kern = sorted({i for record in gpos.FeatureList.FeatureRecord if record.FeatureTag == "kern"
                   for i in record.Feature.LookupListIndex})
    rtl = [gpos.LookupList.Lookup[i] for i in kern if gpos.LookupList.Lookup[i].LookupFlag & 1
           and gpos.LookupList.Lookup[i].LookupType == 2]
    glyph_classes = font["GDEF"].table.GlyphClassDef.classDefs
    least = share * font["hmtx"]["space"][0]
    pairs: dict[tuple[str, int], set[str]] = {}   # (second glyph, gap) -> first glyphs
    for lookup in rtl:
        for sub in lookup.SubTable:
            if sub.Format == 1:
                candidates = [(first, record.SecondGlyph) for first, pairset in zip(sub.Coverage.glyphs, sub.PairSet)
                              for record in pairset.PairValueRecord if _gap(record.Value1) >= least]
            else:
                firsts: dict[int, list[str]] = {}
                for glyph in sub.Coverage.glyphs:
                    firsts.setdefault(sub.ClassDef1.classDefs.get(glyph, 0), []).append(glyph)
                seconds: dict[int, list[str]] = {}
                for glyph, klass in sub.ClassDef2.classDefs.items():
                    seconds.setdefault(klass, []).append(glyph)
                candidates = [(first, second) for c1, row in enumerate(sub.Class1Record)
                              for c2, record in enumerate(row.Class2Record)
                              if c2 and _gap(record.Value1) >= least   # class 0 (every other glyph) is not read
                              for first in firsts.get(c1, []) for second in seconds.get(c2, [])]
            for first, second in candidates:
                gap = _gap(_pair_value(lookup.SubTable, first, second))   # this subtable may not be the one applied
                if gap >= least and glyph_classes.get(second) != 3:
                    pairs.setdefault((second, gap), set()).add(first)
    if not pairs:
        return 0
    order = font.getGlyphOrder()
    copies: dict[tuple[str, int], str] = {}
    for second, gap in sorted(pairs, key=lambda key: (font.getGlyphID(key[0]), key[1])):
        name = f"{second}.gap{gap}"
        font["glyf"].glyphs[name] = copy.deepcopy(font["glyf"][second])
        advance, lsb = font["hmtx"].metrics[second]
        font["hmtx"].metrics[name] = (advance + gap, lsb)
        order.append(name)
        if second in glyph_classes:
            glyph_classes[name] = glyph_classes[second]
        copies[(second, gap)] = name
    font.setGlyphOrder(order)
    font["maxp"].numGlyphs = len(order)

    # A copy is kerned with the letter after it, and carries marks, as its glyph does.
    for lookup in gpos.LookupList.Lookup:
        for sub in lookup.SubTable:
            for (second, _), name in copies.items():
                if lookup.LookupType == 2 and second in sub.Coverage.glyphs:
                    if sub.Format == 1:
                        sub.PairSet.append(copy.deepcopy(sub.PairSet[sub.Coverage.glyphs.index(second)]))
                        sub.PairSetCount = len(sub.PairSet)
                    elif second in sub.ClassDef1.classDefs:
                        sub.ClassDef1.classDefs[name] = sub.ClassDef1.classDefs[second]
                    sub.Coverage.glyphs.append(name)
                elif lookup.LookupType == 4 and second in sub.BaseCoverage.glyphs:
                    sub.BaseArray.BaseRecord.append(copy.deepcopy(
                        sub.BaseArray.BaseRecord[sub.BaseCoverage.glyphs.index(second)]))
                    sub.BaseArray.BaseCount = len(sub.BaseArray.BaseRecord)
                    sub.BaseCoverage.glyphs.append(name)
                elif lookup.LookupType == 5 and second in sub.LigatureCoverage.glyphs:
                    sub.LigatureArray.LigatureAttach.append(copy.deepcopy(
                        sub.LigatureArray.LigatureAttach[sub.LigatureCoverage.glyphs.index(second)]))
                    sub.LigatureArray.LigatureCount = len(sub.LigatureArray.LigatureAttach)
                    sub.LigatureCoverage.glyphs.append(name)

    def coverage(glyphs):
        cov = ot.Coverage()
        cov.glyphs = sorted(glyphs, key=font.getGlyphID)
        return cov

    lookups = gsub.LookupList.Lookup
    widen = {}
    for gap in sorted({gap for _, gap in copies}):
        sub = ot.SingleSubst()
        sub.mapping = {second: name for (second, g), name in copies.items() if g == gap}
        lookup = ot.Lookup()
        lookup.LookupType, lookup.LookupFlag, lookup.SubTable = 1, 0, [sub]
        lookups.append(lookup)
        widen[gap] = len(lookups) - 1
    # A first glyph may itself be a copy (a letter between two opening pairs).
    copies_of: dict[str, set[str]] = {}
    for (second, _), name in copies.items():
        copies_of.setdefault(second, set()).add(name)
    groups: dict[tuple[int, frozenset], set[str]] = {}
    for (second, gap), firsts in pairs.items():
        groups.setdefault((gap, frozenset(firsts)), set()).add(second)
    chain = ot.Lookup()
    chain.LookupType, chain.LookupFlag, chain.SubTable = 6, 8, []   # 8: marks are skipped, as in the kerning
    for (gap, firsts), seconds in sorted(groups.items(), key=lambda item: (item[0][0], sorted(item[1]))):
        sub = ot.ChainContextSubst()
        sub.Format = 3
        sub.BacktrackGlyphCount = 1
        sub.BacktrackCoverage = [coverage(set(firsts).union(*(copies_of.get(g, set()) for g in firsts)))]
        sub.InputGlyphCount, sub.InputCoverage = 1, [coverage(seconds)]
        sub.LookAheadGlyphCount, sub.LookAheadCoverage = 0, []
        record = ot.SubstLookupRecord()
        record.SequenceIndex, record.LookupListIndex = 0, widen[gap]
        sub.SubstCount, sub.SubstLookupRecord = 1, [record]
        chain.SubTable.append(sub)
    chain.SubTableCount = len(chain.SubTable)
    lookups.append(chain)
    gsub.LookupList.LookupCount = len(lookups)
    tags = {record.FeatureTag for record in gsub.FeatureList.FeatureRecord}
    for record in gsub.FeatureList.FeatureRecord:
        if record.FeatureTag == ("calt" if "calt" in tags else "rlig"):
            record.Feature.LookupListIndex.append(len(lookups) - 1)
            record.Feature.LookupCount = len(record.Feature.LookupListIndex)
    return len(copies)


def _split_copy(source: Path, target: Path) -> None:
    """A copy of the static font `source` with its two-letter ligatures split (split_ligatures) and
    its wide right-to-left kerning gaps set as glyph advances (widen_kerned_glyphs)."""
    from fontTools.ttLib import TTFont

    font = TTFont(source)
    split_ligatures(font)
    widen_kerned_glyphs(font)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    os.close(fd)
    font.recalcTimestamp = False  # the same bytes every time
    font.save(tmp)
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)


def static_faces(brand: dict) -> list[dict]:
    """Every font face the stylesheets need: family, weight, style and a static font file."""
    faces = []
    for font in brand["fonts"].values():
        for source in package_font_files(font["package"]):
            style = "italic" if "Italic" in source.name else "normal"
            if "[" not in source.name:   # a static font (one file per weight): used as it is
                weight = static_weight(source.name)
                if weight not in WEIGHTS[style]:
                    continue
                if font["package"] in SPLIT_LIGATURES:   # ... or with its ligatures split
                    digest = hashlib.sha256(source.read_bytes() + SPLIT_VERSION).hexdigest()[:16]
                    target = cache_dir() / digest / source.name
                    if not target.is_file():
                        _split_copy(source, target)
                    source = target
                faces.append({"family": font["family"], "weight": weight, "style": style, "path": source})
                continue
            digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
            for weight in WEIGHTS[style]:
                target = cache_dir() / digest / f"{source.stem.split('[')[0]}-{weight}.ttf"
                if not target.is_file():
                    _instance(source, weight, target)
                faces.append({"family": font["family"], "weight": weight, "style": style, "path": target})
    return faces


def all_faces() -> list[dict]:
    """The static faces of every allow-listed font package (made if missing)."""
    return static_faces({"fonts": {package: {"package": package, "family": family}
                                   for package, family in FONT_PACKAGES.items()}})


def fontconfig_xml(folders: list[Path], cachedir: Path) -> str:
    """A complete fontconfig configuration: these folders only, no system or user fonts."""
    from xml.sax.saxutils import escape

    dirs = "".join(f"  <dir>{escape(str(folder))}</dir>\n" for folder in folders)
    return ('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
            "<!-- Generated by policyprint (policyprint/fonts.py): rendering sees the brand fonts only. -->\n"
            f"<fontconfig>\n{dirs}  <cachedir>{escape(str(cachedir))}</cachedir>\n</fontconfig>\n")


_FONTCONFIG_FILE: Path | None = None


def use_project_fonts() -> Path:
    """Point fontconfig at a private configuration that lists only the brand font instances.

    Must run before fontconfig loads its configuration: WeasyPrint loads one when it is
    imported and again for every FontConfiguration; forked workers inherit the variable.
    Returns the configuration file.
    """
    global _FONTCONFIG_FILE
    if _FONTCONFIG_FILE is None:
        folders = sorted({face["path"].parent for face in all_faces()})
        path = cache_dir() / "fonts.conf"
        text = fontconfig_xml(folders, cache_dir() / "fontconfig")
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        _FONTCONFIG_FILE = path
    os.environ["FONTCONFIG_FILE"] = str(_FONTCONFIG_FILE)
    return _FONTCONFIG_FILE


class CharMap:
    """A font file's character map and advance widths, compact: the code points it maps, sorted,
    and each one's advance, in two arrays (6 bytes a character). As dicts and sets of Python ints
    they took about 3 MB for the brand fonts, held by the main process and by every worker it
    forks (bench/compare.py measures the build's peak memory, workers included)."""

    def __init__(self, path: Path):
        from array import array

        from fontTools.ttLib import TTFont

        self.path = path
        self.codes = array("I", sorted(TTFont(path, lazy=True).getBestCmap()))

    @functools.cached_property
    def _metrics(self) -> tuple:
        """(widths, units per em), read when a width is first asked for: validation needs only the map."""
        from array import array

        from fontTools.ttLib import TTFont

        font = TTFont(self.path, lazy=True)
        metrics, cmap = font["hmtx"].metrics, font.getBestCmap()
        return array("H", [metrics[cmap[code]][0] for code in self.codes]), font["head"].unitsPerEm

    @property
    def upem(self) -> int:
        return self._metrics[1]

    def _index(self, code: int) -> int | None:
        from bisect import bisect_left

        i = bisect_left(self.codes, code)
        return i if i < len(self.codes) and self.codes[i] == code else None

    def __contains__(self, code: int) -> bool:
        return self._index(code) is not None

    def advance(self, code: int) -> int:
        """The advance of a character in font units; half an em if the font lacks it."""
        i = self._index(code)
        widths, upem = self._metrics
        return upem // 2 if i is None else widths[i]


# Character maps as read in this process, for `watch` and `serve` (a lever): (path, size, mtime) ->
# CharMap. Reading one costs 10-20 ms.
_CHARMAPS: dict[tuple, CharMap] = {}


def char_map(path: Path, remember: bool = True) -> CharMap:
    """The font file's CharMap, remembered per process unless `remember` is false."""
    if not remember:
        return CharMap(path)
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _CHARMAPS:
        _CHARMAPS[key] = CharMap(path)
    return _CHARMAPS[key]


def text_width(faces: list[dict], text: str, size_pt: float, weight: int = 400) -> float:
    """How wide `text` sets in the nearest upright face of `faces` at `size_pt`, in points (no kerning)."""
    face = min((f for f in faces if f["style"] == "normal"), key=lambda f: abs(f["weight"] - weight))
    cmap = char_map(face["path"])
    return sum(cmap.advance(ord(ch)) for ch in text) * size_pt / cmap.upem


def prepare() -> None:
    """Make every static instance now (run by `make`): about a minute, once per font version.

    It prepares every allow-listed package, so it reads no content at all.
    """
    print(f"Preparing static font instances in {cache_dir()} (once per font version; about a minute)…")
    faces = all_faces()
    print(f"{len(faces)} font faces ready; fontconfig sees only them ({use_project_fonts()}).")
