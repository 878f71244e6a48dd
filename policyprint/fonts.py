"""Static instances of the brand's variable fonts, made once and cached.

The fontpkg packages ship Noto Sans as variable fonts. WeasyPrint instantiates
a variable font again for every weight of every PDF it writes (fontTools'
instancer), which took about 45 % of the whole build. So each weight the
stylesheets use is instantiated once, here, from the same pinned files, and
cached by the source file's hash. The instances are saved without a new
timestamp, so they are the same bytes on every machine with the same fonts.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import tempfile
from pathlib import Path

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
        files = sorted((Path(importlib.import_module(font["package"]).ROOT) / "files").glob("*.[ot]tf"))
        for source in files:
            style = "italic" if "Italic" in source.name else "normal"
            digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
            for weight in WEIGHTS[style]:
                target = cache_dir() / digest / f"{source.stem.split('[')[0]}-{weight}.ttf"
                if not target.is_file():
                    _instance(source, weight, target)
                faces.append({"family": font["family"], "weight": weight, "style": style, "path": target})
    return faces


def prepare(brand_file: Path = Path("content/brand.yaml")) -> None:
    """Make every static instance now (run by `make`): about a minute, once per font version."""
    import yaml

    brand = yaml.safe_load(brand_file.read_text(encoding="utf-8"))
    fonts = list(brand["fonts"].values())
    print(f"Preparing static font instances in {cache_dir()} (once per font version; about a minute)…")
    faces = static_faces({"fonts": {str(i): f for i, f in enumerate(fonts)}})
    print(f"{len(faces)} font faces ready.")


if __name__ == "__main__":
    prepare()
