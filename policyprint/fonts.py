"""Static instances of the brand's variable fonts, made once and cached.

The fontpkg packages ship Noto Sans as variable fonts. WeasyPrint instantiates
a variable font again for every weight of every PDF it writes (fontTools'
instancer), which took about 45 % of the whole build. So each weight the
stylesheets use is instantiated once, here, from the same pinned files, and
cached by the source file's hash. The instances are saved without a new
timestamp, so they are the same bytes on every machine with the same fonts.
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

# The weights the stylesheets use; anything else falls to the nearest one.
WEIGHTS = {"normal": (400, 500, 600, 700, 800), "italic": (400, 700)}


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "policyprint" / "fonts"


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


def static_faces(brand: dict) -> list[dict]:
    """Every font face the stylesheets need: family, weight, style and a static font file."""
    faces = []
    for font in brand["fonts"].values():
        for source in package_font_files(font["package"]):
            style = "italic" if "Italic" in source.name else "normal"
            digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
            for weight in WEIGHTS[style]:
                target = cache_dir() / digest / f"{source.stem.split('[')[0]}-{weight}.ttf"
                if not target.is_file():
                    _instance(source, weight, target)
                faces.append({"family": font["family"], "weight": weight, "style": style, "path": target})
    return faces


@functools.lru_cache(maxsize=8)
def _advances(path: Path) -> tuple[dict[int, int], int]:
    """A font's advance widths by character, and its units per em."""
    from fontTools.ttLib import TTFont

    font = TTFont(path, lazy=True)
    metrics = font["hmtx"].metrics
    return ({code: metrics[name][0] for code, name in font.getBestCmap().items()}, font["head"].unitsPerEm)


def text_width(faces: list[dict], text: str, size_pt: float, weight: int = 400) -> float:
    """How wide `text` sets in the nearest upright face of `faces` at `size_pt`, in points (no kerning)."""
    face = min((f for f in faces if f["style"] == "normal"), key=lambda f: abs(f["weight"] - weight))
    advances, upem = _advances(face["path"])
    return sum(advances.get(ord(ch), upem // 2) for ch in text) * size_pt / upem


def prepare() -> None:
    """Make every static instance now (run by `make`): about a minute, once per font version.

    It prepares every allow-listed package, so it reads no content at all.
    """
    print(f"Preparing static font instances in {cache_dir()} (once per font version; about a minute)…")
    faces = static_faces({"fonts": {package: {"package": package, "family": family}
                                    for package, family in FONT_PACKAGES.items()}})
    print(f"{len(faces)} font faces ready.")


if __name__ == "__main__":
    prepare()
