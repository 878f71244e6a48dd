"""Post-build stage: what changed since the previous build, page by page (the proofing view).

Each build keeps the version of every PDF it wrote in `.cache/pages/<sha256>/source.pdf`
(a hard link to the file in output/, so it costs no disk until the file is replaced;
a copy where links are refused). When a file's checksum differs from the previous
build's, both versions' pages are rendered at thumbnail resolution into
`.cache/pages/<sha256>/<n>.png` (once per checksum) and compared pixel by pixel: a
page that differs is recorded with the box that holds every difference, and a page
added or removed counts as changed. Pages are rendered only to be compared, so a
cold build renders none. The catalogue (policyprint/catalogue.py) shows the result
as `output/changes.html`, each changed page before and after with the changed area
outlined, and the manifest records `changed_pages` for each file.

A build that changes no PDF keeps the previous build's record, so the view always
answers "what did the last build that changed something change".
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from pathlib import Path

PROOF_WIDTH = 160            # px, like the catalogue's thumbnails
PAGES_DIR = ".cache/pages"
SOURCE = "source.pdf"       # the kept version of a PDF, in PAGES_DIR/<sha256>/
STATE = ".cache/proof.json"  # {"files": {path: sha256}, "changes": [{path, before, after, pages}]}
OUTLINE = (204, 0, 0)        # the changed area's outline
MARGIN = 3                   # px around the changed area


def keep(root: Path, pdf: Path, sha: str) -> None:
    """Keep this version of a PDF under .cache/pages/<sha>/ for the next build to compare with."""
    from .output import refuse_link

    folder = root / PAGES_DIR / sha
    refuse_link(folder.parent)   # a planted link must not take the kept files (or renders) elsewhere
    refuse_link(folder)
    kept = folder / SOURCE
    if kept.is_file() or (folder / "pages.json").is_file():
        return
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f"{SOURCE}.tmp"
    tmp.unlink(missing_ok=True)
    try:
        os.link(pdf, tmp)   # output/ replaces a file by renaming a new one over it: the link keeps this version
    except OSError:
        shutil.copyfile(pdf, tmp)
    os.replace(tmp, kept)


def page_images(root: Path, sha: str, pdf: Path | None = None) -> list[Path] | None:
    """The pages of the PDF whose checksum is `sha` as PNGs PROOF_WIDTH wide, rendered once per
    checksum, from `pdf` or the version kept in .cache; None if no file of that checksum is at hand
    (.cache is not trusted: a kept file is rendered only if its bytes have that checksum)."""
    folder = root / PAGES_DIR / sha
    done = folder / "pages.json"
    if done.is_file():
        return [folder / f"{n}.png" for n in range(1, json.loads(done.read_text())["pages"] + 1)]
    try:
        data = (pdf or folder / SOURCE).read_bytes()
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest() != sha:
        return None
    import pypdfium2 as pdfium

    folder.mkdir(parents=True, exist_ok=True)
    document = pdfium.PdfDocument(data)
    try:
        paths = []
        for n in range(len(document)):
            page = document[n]
            image = page.render(scale=PROOF_WIDTH / page.get_size()[0]).to_pil().convert("RGB")
            page.close()
            paths.append(folder / f"{n + 1}.png")
            image.save(paths[-1], format="PNG")
    finally:
        document.close()
    done.write_text(json.dumps({"pages": len(paths)}))
    return paths


def compare(before: list[Path], after: list[Path]) -> list[dict]:
    """The pages that differ: [{"page": n, "box": [left, top, right, bottom]}] in the renders' pixels."""
    from PIL import Image, ImageChops

    changed = []
    for n in range(max(len(before), len(after))):
        if n >= len(before) or n >= len(after):
            image = Image.open((after if n < len(after) else before)[n])
            changed.append({"page": n + 1, "box": [0, 0, image.width, image.height]})
            continue
        old, new = Image.open(before[n]).convert("RGB"), Image.open(after[n]).convert("RGB")
        if old.size != new.size:
            changed.append({"page": n + 1, "box": [0, 0, new.width, new.height]})
            continue
        box = ImageChops.difference(old, new).getbbox()
        if box:
            changed.append({"page": n + 1, "box": list(box)})
    return changed


def outlined(path: Path | None, box: list[int]) -> bytes:
    """A page render with the changed area outlined, as PNG bytes (a blank page if it is missing)."""
    from PIL import Image, ImageDraw

    image = Image.open(path).convert("RGB") if path and path.is_file() else None
    if image is None:
        image = Image.new("RGB", (max(box[2], 1), max(box[3], 1)), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    left, top = max(box[0] - MARGIN, 0), max(box[1] - MARGIN, 0)
    right, bottom = min(box[2] + MARGIN, image.width) - 1, min(box[3] + MARGIN, image.height) - 1
    draw.rectangle([left, top, right, bottom], outline=OUTLINE, width=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def changes(root: Path, output: Path, current: dict[str, str]) -> list[dict]:
    """Compare the files of this build (path → sha256) with the previous build's; record and return
    the changes (the previous record when no file changed)."""
    state_path = root / STATE
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
        previous, recorded = dict(state["files"]), list(state["changes"])
    except (OSError, ValueError, KeyError, TypeError):
        previous, recorded = {}, []
    for rel, sha in current.items():
        keep(root, output / rel, sha)   # so that the next build can compare with it
    differs = sorted(rel for rel, sha in current.items() if rel in previous and previous[rel] != sha)
    if not differs and previous:
        found = recorded
    else:
        found = []
        for rel in differs:
            pages = compare(page_images(root, previous[rel]) or [],
                            page_images(root, current[rel], output / rel) or [])
            found.append({"path": rel, "before": previous[rel], "after": current[rel], "pages": pages})
    wanted = set(current.values()) | {c["before"] for c in found}
    folder = root / PAGES_DIR
    if folder.is_dir():
        for old in folder.iterdir():
            if old.name not in wanted and old.is_dir() and not old.is_symlink():
                shutil.rmtree(old)
    state_path.parent.mkdir(parents=True, exist_ok=True)
    state_path.write_text(json.dumps({"files": dict(sorted(current.items())), "changes": found}, indent=1) + "\n",
                          encoding="utf-8")
    return found


def image_names(change: dict, page: int) -> tuple[str, str]:
    """The before and after images of a changed page, relative to output/."""
    return (f"changes/{change['before']}-{page}.png", f"changes/{change['after']}-{page}.png")
