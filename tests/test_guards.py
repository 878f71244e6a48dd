"""Every guard shown to fail on a bad case, with its exact finding.

A good file from the session build is spoilt in one way (with pypdf, in memory), and the
check that guards against that spoiling must name it. `scripts/mutate.py` (make mutate)
disables each guard in turn and shows that these tests then fail.
"""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (ArrayObject, DecodedStreamObject, DictionaryObject, NameObject, NumberObject,
                           TextStringObject)

from conftest import ROOT, copy_project
from policyprint import finish, press
from policyprint.plan import Job
from policyprint.project import load_project

STAFF_PRINT = "output/da/leaflet-staff.print.pdf"
STAFF_SCREEN = "output/da/leaflet-staff.screen.pdf"


@pytest.fixture(scope="module")
def staff(tmp_path_factory):
    """The staff leaflet's screen and press files: small, and quick to build on their own
    (so that scripts/mutate.py, which runs these tests alone, need not build the whole pack)."""
    from policyprint import build

    root = copy_project(tmp_path_factory.mktemp("staff"))
    build(root, products=("leaflet-staff",), variants=("screen", "print", "booklet"))
    return root


def spoilt(path, edit) -> PdfReader:
    """The PDF at `path`, changed by `edit(writer)`, written out and read back."""
    writer = PdfWriter(clone_from=str(path))
    edit(writer)
    out = io.BytesIO()
    writer.write(out)
    return PdfReader(io.BytesIO(out.getvalue()))


def replace_in_contents(page, old: bytes, new: bytes) -> None:
    data = page.get_contents().get_data()
    assert old in data, old
    stream = DecodedStreamObject()
    stream.set_data(data.replace(old, new))
    page.replace_contents(stream)


# ---- page count, page size ---------------------------------------------------------------------

def test_a_wrong_page_count_is_found(staff):
    reader = PdfReader(staff / STAFF_SCREEN)
    assert finish.check_page_count(reader, 4) == []
    assert finish.check_page_count(reader, 12) == ["has 4 pages, expected exactly 12"]


def test_a_page_of_the_wrong_size_is_found(staff):
    reader = PdfReader(staff / STAFF_SCREEN)
    assert finish.check_page_size(reader, (148.0, 210.0)) == []
    assert finish.check_page_size(reader, (210.0, 297.0)) == [
        f"page {i} is 148.0 × 210.0 mm, expected 210 × 297 mm" for i in range(1, 5)]


# ---- fonts -------------------------------------------------------------------------------------

def _first_font(writer):
    fonts = writer.pages[0]["/Resources"]["/Font"]
    return next(iter(fonts.values())).get_object()


def test_a_font_without_its_program_is_not_embedded(staff):
    assert finish.check_fonts_embedded(PdfReader(staff / STAFF_SCREEN)) == []
    names = []

    def drop_program(writer):
        font = _first_font(writer)
        names.append(str(font["/BaseFont"]))
        target = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
        descriptor = target["/FontDescriptor"].get_object()
        for key in ("/FontFile", "/FontFile2", "/FontFile3"):
            descriptor.pop(key, None)

    reader = spoilt(staff / STAFF_SCREEN, drop_program)
    assert finish.check_fonts_embedded(reader) == [f"font {names[0]} is not embedded"]


def test_a_font_outside_the_brand_is_found(staff):
    families = ["Noto Sans", "Noto Sans Arabic"]
    assert finish.check_font_families(PdfReader(staff / STAFF_SCREEN), families) == []

    def rename(writer):
        _first_font(writer)[NameObject("/BaseFont")] = NameObject("/ABCDEF+DejaVuSans-Bold")

    reader = spoilt(staff / STAFF_SCREEN, rename)
    assert finish.check_font_families(reader, families) == [
        "page 1: font DejaVuSans-Bold is not a brand font (Noto Sans, Noto Sans Arabic): "
        "some text lacks a glyph in the brand fonts"]


# ---- screen files: tags, language, title --------------------------------------------------------

def test_an_untagged_screen_file_without_language_or_title_is_found(staff):
    assert finish.check_screen_basics(PdfReader(staff / STAFF_SCREEN), "da") == []

    def strip(writer):
        root = writer._root_object
        for key in ("/StructTreeRoot", "/ViewerPreferences", "/MarkInfo"):
            root.pop(key, None)
        root[NameObject("/Lang")] = TextStringObject("en")
        writer.add_metadata({"/Title": ""})

    reader = spoilt(staff / STAFF_SCREEN, strip)
    assert finish.check_screen_basics(reader, "da") == [
        "is not tagged (no structure tree)", "has /Lang 'en', expected 'da'",
        "does not ask viewers to show the document title", "has no document title"]


# ---- office files (booklets): the print dialog -----------------------------------------------------

def test_a_booklet_without_its_print_preferences_is_found(staff):
    from policyprint.impose import check_print_preferences

    booklet = staff / "output/da/leaflet-staff.booklet.pdf"
    assert check_print_preferences(PdfReader(booklet), "leaflet") == []

    def drop(writer):
        del writer._root_object["/ViewerPreferences"]

    assert check_print_preferences(spoilt(booklet, drop), "leaflet") == [
        "ViewerPreferences /Duplex is not set, expected /DuplexFlipShortEdge",
        "ViewerPreferences /PrintScaling is not set, expected /None (print at 100 %)"]


# ---- press files -------------------------------------------------------------------------------

def test_a_bleed_box_without_the_bleed_is_found(staff):
    reader = PdfReader(staff / STAFF_PRINT)
    assert finish.check_press_boxes(reader, (148.0, 210.0), 3) == []
    trim = [float(v) for v in reader.pages[0].trimbox]
    bleed = [float(v) for v in reader.pages[1].bleedbox]

    def spoil(writer):
        writer.pages[0].bleedbox = writer.pages[0].trimbox          # no bleed at all
        writer.pages[1].mediabox = writer.pages[1].trimbox          # the bleed cut off by the MediaBox

    found = finish.check_press_boxes(spoilt(staff / STAFF_PRINT, spoil), (148.0, 210.0), 3)
    assert found == [f"page 1: BleedBox {trim} is not the TrimBox plus 3 mm",
                     f"page 2: MediaBox {[float(v) for v in reader.pages[1].trimbox]} does not contain the BleedBox"]
    assert bleed != trim


def test_a_press_file_without_its_output_intent_is_found(staff):
    assert finish.check_output_intent(PdfReader(staff / STAFF_PRINT)) == []

    def drop(writer):
        del writer._root_object["/OutputIntents"]

    def rgb_profile(writer):
        intent = writer._root_object["/OutputIntents"][0].get_object()
        intent["/DestOutputProfile"].get_object()[NameObject("/N")] = NumberObject(3)

    for spoil in (drop, rgb_profile):
        assert finish.check_output_intent(spoilt(staff / STAFF_PRINT, spoil)) == [
            "has no PDF/X output intent with a CMYK (N 4) profile"]


def test_an_output_intent_for_another_condition_is_found(staff):
    reader = PdfReader(staff / STAFF_PRINT)
    assert press.check_output_intent_condition(reader, "FOGRA39") == []
    assert press.check_output_intent_condition(reader, "FOGRA51") == [
        "output intent: OutputConditionIdentifier is 'FOGRA39', expected 'FOGRA51'"]

    def unregistered(writer):
        del writer._root_object["/OutputIntents"][0].get_object()["/RegistryName"]

    assert press.check_output_intent_condition(spoilt(staff / STAFF_PRINT, unregistered), "FOGRA39") == [
        f"output intent: RegistryName is missing, expected {press.REGISTRY}"]


def test_an_annotation_in_a_press_file_is_found(staff):
    assert press.check_no_annotations(PdfReader(staff / STAFF_PRINT)) == []

    def link(writer):
        from pypdf.annotations import Link

        writer.add_annotation(0, Link(rect=(50, 50, 100, 100), url="https://ballerup.dk"))

    assert press.check_no_annotations(spoilt(staff / STAFF_PRINT, link)) == [
        "page 1: 1 annotation(s) (Link); press files carry none"]


def _black_run(reader, page: int):
    return next(r for r in press.text_runs(reader)
                if r.page == page and r.colour == ("DeviceCMYK", (0.0, 0.0, 0.0, 1.0)) and r.text.strip())


def test_black_text_that_is_not_100_k_or_does_not_overprint_is_found(staff):
    reader = PdfReader(staff / STAFF_PRINT)
    assert press.check_black_text(reader) == []
    run = _black_run(reader, 2)
    quoted = press._quote(run.text)

    knocks_out = spoilt(staff / STAFF_PRINT, lambda w: replace_in_contents(w.pages[1], b"/OPK gs", b"/KO gs"))
    assert f'page 2: black text does not overprint ("{quoted}"): it knocks out what lies behind it' \
        in press.check_black_text(knocks_out)
    grey = spoilt(staff / STAFF_PRINT, lambda w: replace_in_contents(w.pages[1], b"0 0 0 1 scn", b"0 0 0 0.9 scn"))
    assert f'page 2: black text is 0/0/0/90, not 0/0/0/100 ("{quoted}")' in press.check_black_text(grey)


def test_thin_or_small_reversed_text_is_found(staff):
    reader = PdfReader(staff / STAFF_PRINT)
    assert press.check_reversed_text(reader, 8, 10) == []
    white = [r for r in press.text_runs(reader) if not r.inks and r.colour[0] == "DeviceCMYK" and r.text.strip()]
    small = min(white, key=lambda r: r.size)
    assert (f'page {small.page}: {small.size:g} pt reversed (white) text ("{press._quote(small.text)}") '
            f"under {small.size + 1:g} pt") in press.check_reversed_text(reader, small.size + 1, 10)
    regular = next(r for r in white if not r.bold)
    assert (f'page {regular.page}: {regular.size:g} pt reversed (white) text ("{press._quote(regular.text)}") '
            f"is not bold; reversed text under {regular.size + 1:g} pt must be bold"
            ) in press.check_reversed_text(reader, 1, regular.size + 1)


def test_unused_colour_spaces_and_transparency_groups_are_found(staff):
    assert press.check_colour_space_leftovers(PdfReader(staff / STAFF_PRINT)) == []

    def spoil(writer):
        resources = writer.pages[0]["/Resources"]
        resources[NameObject("/ColorSpace")] = DictionaryObject(
            {NameObject("/CSunused"): ArrayObject([NameObject("/ICCBased")])})
        form = writer._add_object(DecodedStreamObject())
        form.get_object().update({NameObject("/Type"): NameObject("/XObject"),
                                  NameObject("/Subtype"): NameObject("/Form"),
                                  NameObject("/BBox"): ArrayObject([NumberObject(0)] * 4),
                                  NameObject("/Group"): DictionaryObject(
                                      {NameObject("/S"): NameObject("/Transparency")})})
        resources["/XObject"][NameObject("/Xgroup")] = form

    # The four pages share one resources dictionary (as WeasyPrint writes them).
    assert press.check_colour_space_leftovers(spoilt(staff / STAFF_PRINT, spoil)) == [
        finding for page in range(1, 5) for finding in (
            f"page {page}: declares colour spaces it does not use: CSunused",
            f"page {page}: 1 transparency group(s); flatten them, or a RIP that ignores the output intent blends "
            "their black into four colours")]


# ---- posters: the largest size that fits, never above the brand maximum ----------------------------

def test_posters_fit_at_the_largest_size_within_the_brand_maximum(built):
    from policyprint.runner import JobRunner

    project = load_project(built)
    top = float(project.data("brand")["type"]["poster-max"].removesuffix("pt"))   # A3, the posters' size
    manifest = json.loads((built / "output/manifest.json").read_text(encoding="utf-8"))
    fitted = {(a["product"], a["lang"]): a["type_pt"] for a in manifest["artifacts"]
              if a["kind"] == "poster" and a["variant"] == "screen" and a["institution"] is None}
    assert len(fitted) == 6 * len(project.data("languages")["languages"])   # every poster in every language
    runner = JobRunner(project)
    for (product, lang), size in sorted(fitted.items()):
        assert size <= top, (product, lang, size)
        if size < top:   # the next step on the 0.5 pt grid does not fit
            bigger = runner.layout(Job(product, lang, "screen"), size + 0.5)
            assert bigger.pages > 1 or bigger.overlaps(), (product, lang, size)


def test_a_short_poster_is_set_at_the_brand_maximum_and_no_larger(project_copy):
    from policyprint.runner import JobRunner

    path = project_copy / "content/posters.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count("      - list: vision\n") == 1
    text = text.replace("    title: Fællesskaber for alle – Alle i fællesskab\n", "    title: Fællesskaber\n", 1)
    path.write_text(text.replace("      - list: vision\n", "      - text:\n          - Kort tekst.\n"), encoding="utf-8")
    project = load_project(project_copy)
    top = float(project.data("brand")["type"]["poster-max"].removesuffix("pt"))
    result, _ = JobRunner(project).run(Job("poster-vision", "da", "screen"))
    assert result.ok, result.errors
    assert (result.fit_pt, top) == (40.0, 40.0)


# ---- job keys: what a job reads ---------------------------------------------------------------

def _keys(root, jobs):
    from policyprint.cache import Keyer

    keyer = Keyer(load_project(root))
    return {job: keyer.key(job) for job in jobs}


def test_a_new_cmyk_profile_rebuilds_the_press_files_only(project_copy):
    jobs = [Job("leaflet-parents", "da", v) for v in ("screen", "print")]
    before = _keys(project_copy, jobs)
    profile = project_copy / ".cache/icc/FOGRA39.icc"
    data = bytearray(profile.read_bytes())
    data[100] ^= 1    # a reserved header byte: still a valid CMYK profile, other bytes
    profile.write_bytes(bytes(data))
    after = _keys(project_copy, jobs)
    assert [before[j] == after[j] for j in jobs] == [True, False]


def test_a_page_plan_edit_rebuilds_the_brochure(project_copy):
    jobs = [Job("policy", "da", "screen"), Job("leaflet-parents", "da", "screen")]
    before = _keys(project_copy, jobs)
    policy = project_copy / "content/policy.yaml"
    text = policy.read_text(encoding="utf-8")
    assert text.count("    page: 4\n") == 1
    policy.write_text(text.replace("    page: 4\n", "    page: 5\n"), encoding="utf-8")   # still in order
    after = _keys(project_copy, jobs)
    assert [before[j] == after[j] for j in jobs] == [False, True]


def test_a_logo_edit_rebuilds_the_files_that_show_it(project_copy):
    from test_security_assets import logo_png, set_logo

    (project_copy / "content/assets/logo.png").write_bytes(logo_png())
    set_logo(project_copy, "assets/logo.png")
    jobs = [Job("leaflet-parents", "da", "screen", "eksempel-klub"), Job("leaflet-parents", "da", "screen")]
    before = _keys(project_copy, jobs)
    (project_copy / "content/assets/logo.png").write_bytes(logo_png(size=(481, 192)))
    after = _keys(project_copy, jobs)
    assert [before[j] == after[j] for j in jobs] == [False, True]


# ---- templates escape what they print -------------------------------------------------------------

def test_a_template_escapes_what_it_prints(project_copy):
    from policyprint.render import Renderer

    path = project_copy / "content/institutions.yaml"
    text = path.read_text(encoding="utf-8")
    assert "name: Klub Eksempel" in text
    path.write_text(text.replace("name: Klub Eksempel", "name: Klub <b>Eksempel</b> & Co", 1), encoding="utf-8")
    html = Renderer(load_project(project_copy)).html(Job("leaflet-parents", "da", "screen", "eksempel-klub"))
    assert '<p class="cover-institution">Klub &lt;b&gt;Eksempel&lt;/b&gt; &amp; Co (eksempel)</p>' in html
    assert "<b>Eksempel</b>" not in html


# ---- validator rules: each gives `file:line: key: message` ----------------------------------------

def _edit(root, rel: str, old: str, new: str) -> int:
    """Replace the one `old` in content file `rel` with `new`; return the line it is on."""
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    return text[:text.index(old)].count("\n") + 1


def _lix(root):
    from policyprint.readability import lix
    from policyprint.validate import leaflet_paragraphs

    line = _edit(root, "content/leaflets.yaml", "    max_lix: 35\n", "    max_lix: 10\n")
    score = lix(leaflet_paragraphs(load_project(ROOT).data("leaflets")["leaflets"]["youth"]))
    assert 10 < score <= 35
    return (f"content/leaflets.yaml:{line}: leaflets.youth.max_lix: the text's LIX is {score:.1f}, above the "
            "limit 10: use shorter sentences and shorter words")


def _unknown_quote(root):
    line = _edit(root, "content/leaflets.yaml", "        quote: foraeldre\n", "        quote: foraeldr\n")
    return (f"content/leaflets.yaml:{line}: leaflets.parents.blocks[0].quote: no section or subsection with a "
            "lead has id 'foraeldr' (did you mean 'foraeldre'?)")


def _unknown_list(root):
    line = _edit(root, "content/posters.yaml", "      - list: vision\n", "      - list: visjon\n")
    return (f"content/posters.yaml:{line}: posters[0].blocks[0].list: no policy list has id 'visjon' "
            "(did you mean 'vision'?)")


def _unknown_item(root):
    line = _edit(root, "content/leaflets.yaml", "        items: [foraeldre-ansvar, foraeldre-samarbejde]\n",
                 "        items: [foraeldre-ansvar, foraeldre-samarbejd]\n")
    return (f"content/leaflets.yaml:{line}: leaflets.parents.blocks[3].items[1]: no policy list item has id "
            "'foraeldre-samarbejd' (did you mean 'foraeldre-samarbejde' or 'foraeldre-ansvar' or 'foraeldre-dialog'?)")


def _duplicate_poster(root):
    line = _edit(root, "content/posters.yaml", "  - id: foraeldre\n", "  - id: boernesyn\n")
    return f"content/posters.yaml:{line}: posters[2].id: duplicate id 'boernesyn'"


def _duplicate_institution(root):
    line = _edit(root, "content/institutions.yaml", "  - id: eksempel-klub\n", "  - id: eksempel-skole\n")
    first = next(n for n, text in enumerate((root / "content/institutions.yaml").read_text(encoding="utf-8")
                                           .splitlines(), 1) if "id: eksempel-skole" in text)
    return (f"content/institutions.yaml:{line}: institutions[2].id: duplicate id 'eksempel-skole' "
            f"(first used at line {first})")


def _icc_missing(root):
    (root / ".cache/icc/FOGRA39.icc").unlink()
    line = _edit(root, "content/print.yaml", "  profile: FOGRA39\n", "  profile: FOGRA39\n")
    return (f"content/print.yaml:{line}: output_intent.profile: file not found: {root / '.cache/icc/FOGRA39.icc'} "
            "(run `make` to build it)")


def _icc_rgb(root):
    from PIL import ImageCms

    (root / "srgb.icc").write_bytes(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    line = _edit(root, "content/print.yaml", "  profile: FOGRA39\n", "  profile: srgb.icc\n")
    return (f"content/print.yaml:{line}: output_intent.profile: expected a CMYK ICC profile, got 'RGB ' in "
            f"{root / 'srgb.icc'}")


def _template_missing(root):
    line = _edit(root, "content/products.yaml", "    template: policy.html.j2\n", "    template: brochure.html.j2\n")
    return f"content/products.yaml:{line}: products[0].template: file not found: templates/brochure.html.j2"


def _age_bands(root):
    line = _edit(root, "content/policy.yaml", "{id: klub, ages: 10-18 år, label: Klub, from: 10, to: 19}",
                 "{id: klub, ages: 10-18 år, label: Klub, from: 10, to: 9}")
    return f"content/policy.yaml:{line}: age_bands.bands[2].to: expected a number above 'from' (10), got 9"


def _page_plan(root):
    line = _edit(root, "content/policy.yaml", "    page: 6\n", "    page: 4\n")
    return (f"content/policy.yaml:{line}: sections[2].page: expected a page after 4 and before the back cover "
            "(12), got 4")


def _hyphenation(root):
    line = _edit(root, "content/hyphenation.yaml", "  - Ungepolitik: Unge|politik\n", "  - Ungepolitik: Unge|polotik\n")
    return (f"content/hyphenation.yaml:{line}: exceptions[1].Ungepolitik: expected 'Ungepolitik' with '|' at "
            "break points, got 'Unge|polotik'")


@pytest.mark.parametrize("spoil", [_hyphenation, _lix, _unknown_quote, _unknown_list, _unknown_item, _duplicate_poster,
                                   _duplicate_institution, _icc_missing, _icc_rgb, _template_missing,
                                   _age_bands, _page_plan], ids=lambda f: f.__name__.strip("_"))
def test_validator_rules_name_file_line_and_key(project_copy, spoil):
    from click.testing import CliRunner

    from policyprint.cli import main

    expected = spoil(project_copy)
    result = CliRunner().invoke(main, ["--root", str(project_copy), "check"])
    assert result.exit_code == 2, result.output
    assert expected in result.stderr.splitlines(), result.stderr


# ---- output/ containment, for any path (property-based) ------------------------------------------

@pytest.fixture(scope="module")
def output_with_links(tmp_path_factory):
    """output/ holding a folder, a link out of it, a link within it and a link to itself."""
    top = tmp_path_factory.mktemp("contain")
    base = top / "output"
    (base / "da").mkdir(parents=True)
    (top / "elsewhere").mkdir()
    (base / "out").symlink_to(top / "elsewhere")
    (base / "in").symlink_to(base / "da")
    (base / "self").symlink_to(base)
    return base


@given(parts=st.lists(st.sampled_from(["da", "out", "in", "self", "..", ".", "", "x.pdf", "a\\b", "/", "é"]),
                      min_size=1, max_size=6))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_path_is_refused_or_lands_inside_output(output_with_links, parts):
    import os

    from policyprint.output import OutputRefused, contained

    base = output_with_links
    rel = "/".join(parts)
    try:
        path = contained(base, rel)
    except OutputRefused as refused:
        assert str(refused).startswith(f"refused to write {rel!r}: not a plain path inside output/") or \
            str(refused).startswith(f"refused to write output/{rel}: it resolves to ")
        return
    real, real_base = os.path.realpath(path), os.path.realpath(base)
    assert path == base / rel and real != real_base and real.startswith(real_base + os.sep), (rel, real)
