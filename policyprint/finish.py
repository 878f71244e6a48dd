"""Post-process stage: small, pure checks on a written PDF (pypdf). Each returns findings."""

from __future__ import annotations

import io

from pypdf import PdfReader

MM_PER_PT = 25.4 / 72
SIZE_TOLERANCE_MM = 0.5


def read(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def check_page_count(reader: PdfReader, expected: int) -> list[str]:
    n = len(reader.pages)
    return [] if n == expected else [f"has {n} pages, expected exactly {expected}"]


def trim_size_mm(page) -> tuple[float, float]:
    box = page.trimbox
    return (round(float(box.width) * MM_PER_PT, 1), round(float(box.height) * MM_PER_PT, 1))


def check_page_size(reader: PdfReader, size_mm: tuple[float, float]) -> list[str]:
    findings = []
    for i, page in enumerate(reader.pages, 1):
        w, h = trim_size_mm(page)
        if abs(w - size_mm[0]) > SIZE_TOLERANCE_MM or abs(h - size_mm[1]) > SIZE_TOLERANCE_MM:
            findings.append(f"page {i} is {w} × {h} mm, expected {size_mm[0]:g} × {size_mm[1]:g} mm")
    return findings


def _fonts(resources, seen: set) -> list:
    """Yield the font dictionaries of a resources dictionary, following Form XObjects."""
    found = []
    if not resources:
        return found
    resources = resources.get_object()
    for font in (resources.get("/Font") or {}).values():
        font = font.get_object()
        if id(font) not in seen:
            seen.add(id(font))
            found.append(font)
    for xobj in (resources.get("/XObject") or {}).values():
        xobj = xobj.get_object()
        if xobj.get("/Subtype") == "/Form" and id(xobj) not in seen:
            seen.add(id(xobj))
            found += _fonts(xobj.get("/Resources"), seen)
    return found


def check_fonts_embedded(reader: PdfReader) -> list[str]:
    """Every font must carry its font program (FontFile, FontFile2 or FontFile3)."""
    findings, seen = [], set()
    for page in reader.pages:
        for font in _fonts(page.get("/Resources"), seen):
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = target.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor else {}
            if not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                findings.append(f"font {font.get('/BaseFont')} is not embedded")
    return findings


def check_screen_basics(reader: PdfReader, lang: str) -> list[str]:
    """Screen files must be tagged, carry a language and show their title."""
    root = reader.trailer["/Root"]
    findings = []
    if "/StructTreeRoot" not in root:
        findings.append("is not tagged (no structure tree)")
    if str(root.get("/Lang", "")) != lang:
        findings.append(f"has /Lang {root.get('/Lang')!r}, expected {lang!r}")
    prefs = root.get("/ViewerPreferences")
    if not prefs or not prefs.get_object().get("/DisplayDocTitle"):
        findings.append("does not ask viewers to show the document title")
    if not (reader.metadata and reader.metadata.title):
        findings.append("has no document title")
    return findings
