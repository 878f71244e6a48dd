"""The speed levers (issue 15) change no byte: each is compared with POLICYPRINT_LEVERS=off."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from policyprint import pdf
from policyprint.finish import pin_document_id
from policyprint.plan import Job
from policyprint.project import load_project
from policyprint.runner import JobRunner


def render(root, jobs, levers: str, monkeypatch) -> dict[Job, bytes]:
    monkeypatch.setenv("POLICYPRINT_LEVERS", levers)
    runner = JobRunner(load_project(root))
    out = {}
    for job in jobs:
        result, data = runner.run(job)
        assert result.ok, result.errors
        out[job] = data
    return out


def test_shared_stylesheets_and_renderer_give_the_same_bytes(project_copy, monkeypatch):
    """Stylesheets parsed once per process (and one Renderer for key and job) write the same
    PDFs as parsing them for every document: screen and print, leaflet, brochure and poster."""
    jobs = [Job(product, "da", variant) for product in ("leaflet-parents", "policy", "poster-vision")
            for variant in ("screen", "print")]
    before = pdf.STYLESHEETS_SHARED
    shared = render(project_copy, jobs, "on", monkeypatch)
    assert pdf.STYLESHEETS_SHARED - before >= 10   # base.css and pages.css, again and again
    again = render(project_copy, jobs, "on", monkeypatch)   # a warm process: every sheet shared
    before = pdf.STYLESHEETS_SHARED
    parsed = render(project_copy, jobs, "off", monkeypatch)
    assert pdf.STYLESHEETS_SHARED == before   # off: nothing shared
    for job in jobs:
        assert hashlib.sha256(shared[job]).digest() == hashlib.sha256(parsed[job]).digest(), job
        assert again[job] == parsed[job], job


SHEET = """
@layer base, brand;
@layer brand { p { color: rgb(200, 0, 0); } }
@layer base { p { color: rgb(0, 0, 200); font-size: 30pt; } }
@font-face { font-family: "Probe"; src: url("../fonts/probe.ttf"); }
@counter-style thumbs { system: cyclic; symbols: "A" "B"; suffix: " "; }
@page { size: 100mm 80mm; margin: 10mm; @top-center { content: "head " counter(page); } }
@page wide { size: 160mm 80mm; }
.wide { page: wide; }
ol { list-style: thumbs; }
@unknown-rule { x: y; }
"""


@pytest.mark.parametrize("variant", ["screen", "print"])
def test_page_rules_font_faces_counters_and_layers_survive_sharing(project_copy, monkeypatch, variant):
    """A stylesheet's @page rules, @font-face, @counter-style, @layer order and the warnings its
    parse logs reach every document that links it, not only the first."""
    from policyprint.fonts import static_faces

    brand = load_project(project_copy).data("brand")
    face = static_faces(brand)[0]["path"]
    (project_copy / "fonts").mkdir()
    (project_copy / "fonts" / "probe.ttf").write_bytes(face.read_bytes())
    (project_copy / "styles" / "probe.css").write_text(SHEET, encoding="utf-8")
    html = ('<html lang="da"><head><title>Probe</title><link rel="stylesheet" href="styles/probe.css">'
            '<meta name="dcterms.created" content="2026-01-01T00:00:00+00:00">'   # else a press file says "now"
            '<meta name="dcterms.modified" content="2026-01-01T00:00:00+00:00">'
            '<style>p { font-family: "Probe"; }</style></head>'
            '<body><p>Lag</p><ol><li>en</li><li>to</li></ol><div class="wide"><p>bred</p></div></body></html>')

    def twice(levers):
        monkeypatch.setenv("POLICYPRINT_LEVERS", levers)
        monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
        writer = pdf.PdfWriter([project_copy / "styles", project_copy / "fonts"])
        return [writer.render(html, project_copy, [], variant) for _ in range(2)]

    before = pdf.STYLESHEETS_SHARED
    first, second = twice("on")
    assert pdf.STYLESHEETS_SHARED > before
    off, _ = twice("off")
    for result in (first, second):   # a press file's XMP document id is random until the job pins it
        assert pin_document_id(result.pdf) == pin_document_id(off.pdf)
        assert result.pages == off.pages == 2
        assert any("Unknown rule" in w for w in result.warnings)   # the parse's warning, replayed
    reader = PdfReader(io.BytesIO(second.pdf))
    sizes = [round(float(p.mediabox.width) * 25.4 / 72) for p in reader.pages]
    assert sizes == [100, 160]                                     # @page and a named page
    text = reader.pages[0].extract_text()
    assert "head 1" in text and "\nA \nB " in text   # the margin box, the counter style's markers
    fonts = {str(f["/BaseFont"]) for p in reader.pages for f in p["/Resources"]["/Font"].values()}
    assert any("Probe" in f or face.stem.split("-")[0] in f for f in fonts)


def test_a_warm_rebuild_after_an_edit_writes_what_a_cold_build_writes(tmp_path, monkeypatch):
    """`watch` rebuilds in the same process: its second build keeps the fonts, the compiled
    templates and the parsed stylesheets, and writes the same bytes as a cold build (levers off)."""
    from conftest import copy_project

    from policyprint import build

    warm_root, cold_root = copy_project(tmp_path / "warm"), copy_project(tmp_path / "cold")
    selection = dict(products=("leaflet-parents", "policy"), variants=("screen", "print"), jobs=1)

    def edit(root):
        for name, old, new in (("leaflets.yaml", "vil du vide mere?", "vil du vide mere? Ny sætning."),
                               ("policy.yaml", "en tid fyldt med glæde", "en tid fuld af glæde")):
            path = root / "content" / name
            text = path.read_text(encoding="utf-8")
            assert old in text
            path.write_text(text.replace(old, new, 1), encoding="utf-8")

    monkeypatch.setenv("POLICYPRINT_LEVERS", "on")
    build(warm_root, **selection)
    edit(warm_root)
    reused = pdf.WARM_REUSED
    report = build(warm_root, **selection)
    assert pdf.WARM_REUSED > reused
    assert sorted(str(r.job.path) for r in report.rendered) == [
        "da/leaflet-parents.print.pdf", "da/leaflet-parents.screen.pdf", "da/policy.print.pdf",
        "da/policy.screen.pdf"]
    monkeypatch.setenv("POLICYPRINT_LEVERS", "off")
    edit(cold_root)
    reused = pdf.WARM_REUSED
    build(cold_root, **selection)
    assert pdf.WARM_REUSED == reused
    warm = {p.relative_to(warm_root): p.read_bytes() for p in sorted((warm_root / "output").rglob("*.pdf"))}
    cold = {p.relative_to(cold_root): p.read_bytes() for p in sorted((cold_root / "output").rglob("*.pdf"))}
    assert len(warm) == 4 and warm.keys() == cold.keys()
    for path in warm:
        assert warm[path] == cold[path], path


def test_the_faster_preflight_finds_what_the_plain_one_finds(project_copy, monkeypatch):
    """Preflight reading objects as asked (and each font once) gives the same findings as pypdf's
    whole-stream reading: a glyph the brand fonts lack, text under a minimum, on screen and press."""
    from policyprint import finish, press

    path = project_copy / "templates" / "base.html.j2"   # a template, where content checks do not look
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("</body>", "<p>\u2603</p></body>", 1), encoding="utf-8")
    runner = JobRunner(load_project(project_copy))
    for variant in ("screen", "print"):
        job = Job("leaflet-parents", "da", variant)
        rendered = runner.render(job)
        found = {}
        for levers in ("on", "off"):
            monkeypatch.setenv("POLICYPRINT_LEVERS", levers)
            reader = finish.read(rendered.pdf)
            found[levers] = (runner.preflight(job, rendered),
                             press.check_min_text_size(reader, 40, "leaflet"), len(reader.resolved_objects))
        (checks, findings), small, _ = found["on"]
        assert any("U+2603" in f and "no glyph" in f for f in findings), findings
        assert len(small) > 10
        assert found["on"][:2] == found["off"][:2]
        if variant == "screen":   # the structure tree is never read
            assert found["on"][2] < found["off"][2] / 2


def test_the_key_and_the_job_share_one_renderer(project_copy, monkeypatch):
    """A build compiles its templates once: the job keys, the jobs and the catalogue use one
    Renderer (three with the levers off, as before)."""
    from policyprint import build
    from policyprint.render import Renderer

    made = []
    real = Renderer.__init__

    def counting(self, project):
        made.append(project)
        real(self, project)

    monkeypatch.setattr(Renderer, "__init__", counting)
    selection = dict(products=("leaflet-parents",), variants=("screen",), jobs=1, force=True)
    monkeypatch.setenv("POLICYPRINT_LEVERS", "on")
    build(project_copy, **selection)
    assert len(made) == 1
    made.clear()
    monkeypatch.setenv("POLICYPRINT_LEVERS", "off")
    build(project_copy, **selection)
    assert len(made) == 3


def test_compiled_templates_are_kept_on_disk_and_an_edit_is_seen(project_copy, monkeypatch):
    """Jinja's bytecode cache serves a new process, lives beside Python's compiled code (not in the
    untrusted .cache/), and a template edited since is compiled again."""
    from policyprint import render
    from policyprint.render import Renderer

    monkeypatch.setenv("POLICYPRINT_LEVERS", "on")
    job = Job("leaflet-parents", "da", "screen")
    monkeypatch.setattr(render, "_ENVIRONMENTS", {})
    first = Renderer(load_project(project_copy)).html(job)
    folder = render._ENVIRONMENTS[project_copy.resolve()].bytecode_cache.directory
    assert Path(folder).parent.name == "__pycache__" and Path(folder).parent.parent.name == "policyprint"
    assert list(Path(folder).glob("__jinja2_*.cache"))
    assert not (project_copy / ".cache" / f"jinja-{render.jinja2.__version__}").exists()
    template = project_copy / "templates" / "base.html.j2"
    template.write_text(template.read_text(encoding="utf-8").replace("</body>", "<p>ny linje</p></body>", 1),
                        encoding="utf-8")
    monkeypatch.setattr(render, "_ENVIRONMENTS", {})   # a new process: only the disk cache is left
    second = Renderer(load_project(project_copy)).html(job)
    assert "<p>ny linje</p>" in second and "<p>ny linje</p>" not in first


def test_a_second_build_in_one_process_renders_with_its_own_renderer(languages_copy):
    """Two builds in one process (watch, serve, the tests): the second loads the project again
    and gets a new Renderer on the shared Jinja environment. Templates imported by others
    (partials/age_bands.html.j2) keep in their cached module the globals of the renderer they were
    first imported for, so the Arabic diagram's labels were drawn by the first build's renderer,
    in its Latin font: empty. The second build must write the same bytes as the first."""
    from policyprint import build

    import subprocess
    import sys

    selection = dict(products=("leaflet-staff",), langs=("ar",), variants=("screen",), jobs=1, force=True)
    pdf = languages_copy / "output/ar/leaflet-staff.screen.pdf"
    subprocess.run([sys.executable, "-m", "policyprint", "--root", str(languages_copy), "build", "--product",
                    "leaflet-staff", "--lang", "ar", "--variant", "screen", "--force"], check=True,
                   capture_output=True)
    fresh = pdf.read_bytes()   # a process of its own: one renderer
    for _ in range(2):
        build(languages_copy, **selection)
        assert pdf.read_bytes() == fresh


def test_remembered_compression_writes_the_same_bytes(project_copy, monkeypatch):
    """Each distinct stream is compressed once per process: a second press leaflet takes the ICC
    profile's and the pages' compressed bytes from the first, and writes what compressing them
    again writes (levers off)."""
    jobs = [Job("leaflet-parents", "da", variant) for variant in ("print", "screen")]
    first = render(project_copy, jobs, "on", monkeypatch)
    before = pdf.COMPRESSED_SHARED
    again = render(project_copy, jobs, "on", monkeypatch)
    assert pdf.COMPRESSED_SHARED - before >= 10   # the profile, the pages, the fonts
    before = pdf.COMPRESSED_SHARED
    plain = render(project_copy, jobs, "off", monkeypatch)
    assert pdf.COMPRESSED_SHARED == before   # off: every stream compressed again
    for job in jobs:
        assert first[job] == again[job] == plain[job], job


def test_remembered_compression_is_zlib_s_and_keeps_a_bounded_amount(monkeypatch):
    import random
    import zlib

    import pydyf

    pdf.share_compressed_streams()
    monkeypatch.setenv("POLICYPRINT_LEVERS", "on")
    monkeypatch.setattr(pdf, "_COMPRESSED", {})
    monkeypatch.setattr(pdf, "_COMPRESSED_BYTES", 0)
    monkeypatch.setattr(pdf, "COMPRESSED_KEPT_BYTES", 50_000)
    rng = random.Random(15)
    blobs = [bytes(rng.randrange(256) for _ in range(20_000)) for _ in range(5)] + [b"q 1 0 0 1 0 0 cm Q\n" * 500]
    for blob in blobs + blobs[::-1]:
        compressor = pydyf.zlib.compressobj(level=9)
        assert compressor.compress(blob) + compressor.flush() == zlib.compress(blob, 9)
        assert pydyf.zlib.compress(blob) == zlib.compress(blob)
    assert pdf._COMPRESSED_BYTES == sum(map(len, pdf._COMPRESSED.values())) <= 50_000
    assert 1 < len(pdf._COMPRESSED) < 2 * len(blobs)


def test_a_reload_parses_only_the_content_files_that_changed(project_copy, monkeypatch):
    """`watch` and `serve` load the project again after every save: a file whose bytes are unchanged
    is taken as loaded before, an edited one is parsed again and its new text is seen; with the
    levers off every file is parsed."""
    from policyprint import content, project as project_module

    parsed = []
    real = content.load_yaml

    def counting(path, root, data=None):
        parsed.append(path.relative_to(root).as_posix())
        return real(path, root, data)

    monkeypatch.setattr(project_module, "load_yaml", counting)
    monkeypatch.setattr(project_module, "_LOADED", {})
    monkeypatch.setenv("POLICYPRINT_LEVERS", "on")
    load_project(project_copy)
    everything = len(parsed)
    assert everything == 11   # the ten files and the Danish strings
    path = project_copy / "content" / "leaflets.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("vil du vide mere?", "vil du vide mere? Ny.", 1),
                    encoding="utf-8")
    parsed.clear()
    loaded = load_project(project_copy)
    assert parsed == ["content/leaflets.yaml"]
    assert "vil du vide mere? Ny." in repr(loaded.data("leaflets"))
    parsed.clear()
    monkeypatch.setenv("POLICYPRINT_LEVERS", "off")
    load_project(project_copy)
    assert len(parsed) == everything


def test_a_build_leaves_the_kept_content_as_it_was_loaded(languages_copy, monkeypatch):
    """The content kept between loads is shared by every later build in the process: nothing a
    build does (keys, renders, translations, preflight, the catalogue) may change it."""
    from policyprint import build, project as project_module
    from policyprint.content import load_yaml

    monkeypatch.setenv("POLICYPRINT_LEVERS", "on")
    monkeypatch.setattr(project_module, "_LOADED", {})
    build(languages_copy, products=("leaflet-parents", "policy", "poster-vision"), langs=("da", "en"),
          variants=("screen", "print"), institutions=("eksempel-klub",), jobs=1)
    kept = {rel: (data, src) for (root, rel), (data, _spec, src) in project_module._LOADED.items()
            if root == languages_copy.resolve()}
    assert "content/policy.yaml" in kept and "content/translations/en.yaml" in kept
    for rel, (data, src) in kept.items():
        assert src.data == load_yaml(languages_copy / rel, languages_copy, data).data, rel


def test_the_brochure_s_lead_sits_beside_its_body_without_a_grid(languages_copy):
    """The lead column is a float beside a block (not a grid): 62 mm wide, 9 mm from the body, the
    body's top level with the lead's, at the left in Danish and the right in Arabic; a list the page
    breaks stays one list in the tags (a grid item split across pages was tagged twice)."""
    from weasyprint.formatting_structure.boxes import BlockBox

    runner = JobRunner(load_project(languages_copy))
    mm = 96 / 25.4
    for lang in ("da", "ar"):
        layout = runner.full_layout(Job("policy", lang, "screen"))
        pairs = 0
        for page in layout.document.pages:
            boxes = [b for b in page._page_box.descendants() if isinstance(b, BlockBox) and b.element is not None]
            sections = [b for b in boxes if "layout-lead-aside" in (b.element.get("class") or "").split()]
            for body in (b for s in sections for b in s.children
                         if isinstance(b, BlockBox) and (b.element.get("class") or "") == "section-body"):
                kids = {(k.element.get("class") or ""): k for k in body.children if isinstance(k, BlockBox)}
                if "lead" not in kids or "main" not in kids:
                    continue
                lead, main = kids["lead"], kids["main"]
                assert abs(lead.border_width() - 62 * mm) < 0.5 and abs(lead.border_box_y() - main.border_box_y()) < 0.5
                left, right = (lead, main) if lang == "da" else (main, lead)
                gap = right.border_box_x() - (left.border_box_x() + left.border_width())
                assert abs(gap - 9 * mm) < 0.5, (lang, gap / mm)
                pairs += 1
        assert pairs >= 3, lang
    lists = {}
    for lang in ("da", "en"):   # the same lists in both; the English pages break inside one
        result, data = runner.run(Job("policy", lang, "screen"))
        reader = PdfReader(io.BytesIO(data))
        found = []

        def walk(node):
            node = node.get_object()
            if node.get("/S") in ("/L", "/LI"):
                found.append(str(node["/S"]))
            kids = node.get("/K")
            kids = kids.get_object() if kids is not None else []
            for kid in kids if isinstance(kids, list) else [kids]:
                kid = kid.get_object() if hasattr(kid, "get_object") else kid
                if hasattr(kid, "get"):
                    walk(kid)

        walk(reader.trailer["/Root"]["/StructTreeRoot"])
        lists[lang] = (found.count("/L"), found.count("/LI"))
    assert lists["da"] == lists["en"] and lists["da"][1] >= 20, lists


# ---- memory: what the forked workers inherit ---------------------------------------------------

def test_babel_s_data_is_let_go_and_the_formatted_dates_stay():
    """release_cldr drops the CLDR data Babel keeps for the life of the process (its global
    tables and each locale), and date_long still gives its dates without loading it again."""
    import datetime

    import babel.core
    import babel.localedata

    from policyprint.render import date_long, release_cldr

    date_long.cache_clear()
    day = datetime.date(2026, 1, 1)
    assert date_long(day, "da_DK") == "1.\u00a0januar\u00a02026"
    assert babel.localedata._cache and babel.core._global_data is not None   # what Babel keeps
    release_cldr()
    assert not babel.localedata._cache and babel.core._global_data is None
    assert date_long(day, "da_DK") == "1.\u00a0januar\u00a02026"
    assert not babel.localedata._cache   # remembered, not formatted again
    assert date_long(day, "en_GB") == "1\u00a0January\u00a02026"   # a new one loads Babel again


def test_a_build_with_workers_releases_babel_before_forking_and_unfreezes_after(project_copy, monkeypatch):
    """Before the workers fork, the build lets go of Babel's data and freezes the objects the
    workers inherit (gc.freeze: their collections then leave those pages shared); after the
    workers are done, nothing stays frozen, so the main process collects its garbage again."""
    import gc

    from policyprint import build, render

    released = []
    monkeypatch.setattr(render, "release_cldr", lambda: released.append(gc.get_freeze_count()))
    report = build(project_copy, products=("policy", "leaflet-parents"), langs=("da",), variants=("screen",),
                   jobs=2)
    assert len(report.results) == 2 and all(r.ok for r in report.results)
    assert released == [0]   # once, before the freeze
    assert gc.get_freeze_count() == 0
