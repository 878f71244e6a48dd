"""What a prepress desk checks in press files, and how office files print (issue 11, points 1–8 and 16)."""

from __future__ import annotations

import re
import subprocess

import pytest
from pypdf import PdfReader

from policyprint import build, press
from policyprint.errors import BuildError
from policyprint.impose import check_print_preferences

PRINT_FILES = ["policy", "leaflet-parents", "leaflet-staff", "leaflet-youth", "poster-vision",
               "poster-boernesyn", "poster-foraeldre", "poster-arbejdsform", "poster-begreber",
               "poster-sammenhaeng"]
POSTERS = [p for p in PRINT_FILES if p.startswith("poster-")]


def kind_of(product: str) -> str:
    return product.split("-")[0]


# ---- 1. bleed ----

@pytest.mark.parametrize("product", PRINT_FILES)
def test_everything_that_touches_the_trim_runs_into_the_bleed(built, product):
    pdf = (built / f"output/da/{product}.print.pdf").read_bytes()
    assert press.check_bleed(pdf, 3) == []


def test_a_header_band_that_stops_at_the_trim_fails_the_build(project_copy):
    # A designer's rule that resets the band's negative margins: the band stops at the trim.
    css = project_copy / "styles/poster.css"
    css.write_text(css.read_text(encoding="utf-8") + "\n.poster .poster-head { margin: 0 0 1.2rem; }\n",
                   encoding="utf-8")
    with pytest.raises(BuildError) as err:
        build(project_copy, products=("poster-vision",), variants=("print",))
    message = str(err.value)
    assert re.search(r"poster-vision / da / print: page 1: top edge: ink stops at the trim along 2\d\d mm; "
                     r"extend it 3 mm into the bleed", message), message
    assert "page 1: left edge: ink stops at the trim" in message


# ---- 2. black text ----

@pytest.mark.parametrize("product", PRINT_FILES)
def test_black_text_is_100_k_and_overprints(built, product):
    reader = PdfReader(built / f"output/da/{product}.print.pdf")
    assert press.check_black_text(reader) == []
    runs = press.text_runs(reader)
    black = [r for r in runs if r.colour == ("DeviceCMYK", (0.0, 0.0, 0.0, 1.0)) and r.text.strip()]
    assert black and all(r.overprint for r in black)
    # and anything else knocks out: white text never overprints (it would vanish)
    assert not any(r.overprint for r in runs if r.colour == ("DeviceCMYK", (0.0, 0.0, 0.0, 0.0)))


def test_the_overprint_state_sets_op_and_opm_1(built):
    reader = PdfReader(built / "output/da/leaflet-parents.print.pdf")
    states = reader.pages[1]["/Resources"]["/ExtGState"]
    state = states[f"/{press.OVERPRINT}"].get_object()
    assert (state["/OP"], state["/op"], state["/OPM"]) == (True, True, 1)


def test_small_text_in_several_inks_fails_the_build(project_copy):
    css = project_copy / "styles/leaflet.css"
    css.write_text(css.read_text(encoding="utf-8") + "\n.block p { color: var(--colour-accent); }\n",
                   encoding="utf-8")
    with pytest.raises(BuildError) as err:
        build(project_copy, products=("leaflet-parents",), variants=("print",))
    assert re.search(r"leaflet-parents / da / print: page 2: [\d.]+ pt text in 3 inks \(\"[^\"]+\"\): "
                     r"text under 12 pt may use one ink only", str(err.value)), str(err.value)


# ---- 3. output intent ----

@pytest.mark.parametrize("product", ["policy", "leaflet-staff", "poster-vision"])
def test_output_intent_names_its_registered_condition(built, product):
    reader = PdfReader(built / f"output/da/{product}.print.pdf")
    intent = reader.trailer["/Root"]["/OutputIntents"][0].get_object()
    assert intent["/OutputConditionIdentifier"] == "FOGRA39"
    assert intent["/RegistryName"] == "http://www.color.org"
    assert intent["/Info"] == "Offset printing on coated paper, ISO 12647-2 (FOGRA39)"
    assert press.check_output_intent_condition(reader, "FOGRA39") == []


def test_output_intent_follows_the_configured_condition(project_copy):
    # A print shop's own profile (its description names FOGRA51), with its condition.
    profile = (project_copy / ".cache/icc/FOGRA39.icc").read_bytes().replace(b"FOGRA39 (ISO", b"FOGRA51 (ISO")
    (project_copy / "content/shop.icc").write_bytes(profile)
    path = project_copy / "content/print.yaml"
    text = path.read_text(encoding="utf-8").replace("condition: FOGRA39", "condition: FOGRA51")
    text = text.replace("profile: FOGRA39", "profile: content/shop.icc")
    path.write_text(text.replace("(FOGRA39)", "(FOGRA51)"), encoding="utf-8")
    build(project_copy, products=("leaflet-youth",), variants=("print",))
    intent = PdfReader(project_copy / "output/da/leaflet-youth.print.pdf").trailer["/Root"]["/OutputIntents"][0]
    assert intent.get_object()["/OutputConditionIdentifier"] == "FOGRA51"


def test_two_profile_builds_are_identical(tmp_path):
    # colprof stamps the build time into the header; the script pins it. Two builds
    # started 1.5 s apart would differ in the header's seconds without the pin.
    import time

    from conftest import ROOT

    jobs = []
    for name in ("a", "b"):
        jobs.append(subprocess.Popen(["bash", str(ROOT / "scripts/build-fogra39.sh"), str(tmp_path / name / "p.icc")],
                                     cwd=tmp_path, stdout=subprocess.DEVNULL))
        time.sleep(1.5)
    assert [job.wait() for job in jobs] == [0, 0]
    first, second = (tmp_path / "a/p.icc").read_bytes(), (tmp_path / "b/p.icc").read_bytes()
    assert first == second
    assert first[36:40] == b"acsp"
    assert first == (ROOT / ".cache/icc/FOGRA39.icc").read_bytes()   # and the same as `make` built


# ---- 4. annotations ----

@pytest.mark.parametrize("product", PRINT_FILES)
def test_press_files_carry_no_annotations(built, product):
    assert press.check_no_annotations(PdfReader(built / f"output/da/{product}.print.pdf")) == []
    # the screen file keeps its live links
    screen = PdfReader(built / f"output/da/{product}.screen.pdf")
    assert any(page.get("/Annots") for page in screen.pages)


# ---- 5. reversed text ----

@pytest.mark.parametrize("product", PRINT_FILES)
def test_reversed_text_is_8_pt_and_bold_under_10_pt(built, product):
    reader = PdfReader(built / f"output/da/{product}.print.pdf")
    assert press.check_reversed_text(reader, 8, 10) == []


def test_the_staff_leaflet_age_bands_are_readable_on_press(built):
    runs = press.text_runs(PdfReader(built / "output/da/leaflet-staff.print.pdf"))
    labels = [r for r in runs if r.page == 4 and ("Dagtilbud" in r.text or "Arbejdsmarked" in r.text)]
    assert labels
    for run in labels:
        assert run.size >= 8.9   # the leaflet's body size, 9 pt
        white = run.colour == ("DeviceCMYK", (0.0, 0.0, 0.0, 0.0))
        assert not white or run.bold


# ---- 6. crop marks ----

def test_marks_keep_pdf_1_6_shared_resources_and_the_registration_colour(built, project_copy):
    build(project_copy, products=("policy",), variants=("print",), marks=True)
    path = project_copy / "output/da/policy.print-marks.pdf"
    data = path.read_bytes()
    plain = (built / "output/da/policy.print.pdf").read_bytes()
    assert data.startswith(b"%PDF-1.6")
    assert len(data) < len(plain) * 1.05          # was 1.27 MB against 189 KB: the profile copied 9 times
    reader = PdfReader(path)
    profiles = {id(o.get_object()) for o in _icc_streams(reader)}
    assert len(profiles) == 1
    for page in reader.pages:
        marks = page["/Contents"][-1].get_object().get_data()
        assert b"/Registration CS" in marks and b"1 SCN" in marks and b" K" not in marks
        space = page["/Resources"]["/ColorSpace"]["/Registration"]
        assert [str(space[0]), str(space[1])] == ["/Separation", "/All"]
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b"PDF/X-4" in xmp
    assert subprocess.run(["qpdf", "--check", str(path)], capture_output=True).returncode == 0


def _icc_streams(reader):
    found = [reader.trailer["/Root"]["/OutputIntents"][0].get_object()["/DestOutputProfile"]]
    for page in reader.pages:
        for space in (page["/Resources"].get("/ColorSpace") or {}).values():
            space = space.get_object()
            if isinstance(space, list) and space[0] == "/ICCBased":
                found.append(space[1])
    return found


# ---- 7. leftovers ----

@pytest.mark.parametrize("product", PRINT_FILES)
def test_no_unused_colour_spaces_or_transparency_groups(built, product):
    assert press.check_colour_space_leftovers(PdfReader(built / f"output/da/{product}.print.pdf")) == []


# ---- 8. office files ----

@pytest.mark.parametrize("product, duplex, words", [
    ("leaflet-parents", "/DuplexFlipShortEdge", "Udskriv på begge sider, vend på den korte kant, 100 %"),
    ("policy", "/DuplexFlipShortEdge", "Udskriv på begge sider, vend på den korte kant, 100 %"),
    ("poster-vision", "/Simplex", "Udskriv på én side, 100 %"),
])
def test_office_files_print_right_the_first_time(built, product, duplex, words):
    path = built / f"output/da/{product}.booklet.pdf"
    reader = PdfReader(path)
    prefs = reader.trailer["/Root"]["/ViewerPreferences"]
    assert (prefs["/Duplex"], prefs["/PrintScaling"]) == (duplex, "/None")
    assert check_print_preferences(reader, kind_of(product)) == []
    for side in range(1, len(reader.pages) + 1):
        # the instruction sits in the band under the pages, not on them
        out = subprocess.run(["pdftotext", "-f", str(side), "-l", str(side), "-y", str(595 - 28), "-H", "28",
                              "-W", "842", str(path), "-"], capture_output=True, text=True, check=True).stdout
        assert words in " ".join(out.split()), (side, out)


# ---- 16. type sizes ----

@pytest.mark.parametrize("product", PRINT_FILES)
@pytest.mark.parametrize("variant", ["screen", "print"])
def test_no_text_under_the_brand_minimum(built, product, variant):
    reader = PdfReader(built / f"output/da/{product}.{variant}.pdf")
    runs = [r for r in press.text_runs(reader) if r.text.strip()]
    smallest = min(r.size for r in runs)
    assert smallest >= {"policy": 8, "leaflet": 8, "poster": 8}[kind_of(product)] - 0.05
    if kind_of(product) == "poster":
        # outside the footer, nothing under the poster minimum of 18 pt (A3)
        body = [r for r in runs if r.y > 300]
        assert min(r.size for r in body) >= 17.95, min(body, key=lambda r: r.size)


def test_the_poster_diagram_labels_are_at_the_poster_minimum(built):
    runs = press.text_runs(PdfReader(built / "output/da/poster-sammenhaeng.screen.pdf"))
    label = next(r for r in runs if r.text.startswith("Dagtilbud"))
    assert label.size >= 17.95


def test_text_under_the_minimum_fails_with_page_size_and_words(project_copy):
    path = project_copy / "content/brand.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("min-leaflet: 8pt", "min-leaflet: 9.5pt"),
                    encoding="utf-8")
    with pytest.raises(BuildError) as err:
        build(project_copy, products=("leaflet-staff",), variants=("screen",))
    assert ('leaflet-staff / da / screen: page 4: 9 pt text ("Dagtilbud · 0–5 år") under the leaflet minimum '
            'of 9.5 pt') in str(err.value), str(err.value)


def test_only_opaque_transparency_groups_are_flattened():
    # SVG text with text-anchor is drawn in a group; one inside opacity < 1 must keep its group.
    from weasyprint import HTML

    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100">'
           '<text x="100" y="40" text-anchor="middle" fill="black">Opaque</text>'
           '<g opacity="0.5"><text x="100" y="80" text-anchor="middle" fill="black">Half</text></g></svg>')
    pdf = HTML(string=f"<html><body>{svg}</body></html>").write_pdf(
        finisher=press.press_finisher("FOGRA39", "test"))
    reader = PdfReader(__import__("io").BytesIO(pdf))
    forms = [x.get_object() for x in press._forms(reader.pages[0]["/Resources"], set())]
    grouped = [f for f in forms if "/Group" in f]
    assert len(forms) >= 2 and len(grouped) >= 1 and len(grouped) < len(forms)


def test_a_shop_profile_for_another_condition_needs_its_identifier(project_copy):
    from click.testing import CliRunner

    from policyprint.cli import main

    # A print shop's profile whose description names FOGRA51, left announced as FOGRA39.
    profile = (project_copy / ".cache/icc/FOGRA39.icc").read_bytes().replace(b"FOGRA39 (ISO", b"FOGRA51 (ISO")
    (project_copy / "content/shop.icc").write_bytes(profile)
    path = project_copy / "content/print.yaml"
    text = path.read_text(encoding="utf-8").replace("profile: FOGRA39", "profile: content/shop.icc")
    path.write_text(text, encoding="utf-8")
    line = next(n for n, s in enumerate(text.splitlines(), 1) if s.strip().startswith("condition:"))
    result = CliRunner().invoke(main, ["--root", str(project_copy), "check"])
    assert result.exit_code == 2
    assert (f"content/print.yaml:{line}: output_intent.condition: the profile characterises FOGRA51 (its "
            "description says so), but the condition is FOGRA39; set condition: FOGRA51") in result.stderr
    path.write_text(text.replace("condition: FOGRA39", "condition: FOGRA51"), encoding="utf-8")
    assert CliRunner().invoke(main, ["--root", str(project_copy), "check"]).exit_code == 0


def test_a_missing_type_minimum_is_a_content_error(project_copy):
    from click.testing import CliRunner

    from policyprint.cli import main

    path = project_copy / "content/brand.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("  min-leaflet: 8pt\n", ""), encoding="utf-8")
    result = CliRunner().invoke(main, ["--root", str(project_copy), "check"])
    assert result.exit_code == 2
    assert "content/brand.yaml" in result.stderr
    assert "type: missing 'min-leaflet' (the smallest text in a leaflet), e.g. min-leaflet: 8pt" in result.stderr


def test_each_text_box_of_a_press_file_is_a_text_object_of_its_own_and_looks_the_same():
    """Untagged, WeasyPrint joins the text boxes it draws one after another into one BT … ET;
    pypdf then read an Arabic box together with the box before it (a full stop inside the
    sentence, words out of order). The finisher ends the text object before each box's Tm:
    the page renders to the same pixels."""
    import io

    import pypdfium2 as pdfium
    from pypdf.generic import ContentStream
    from weasyprint import HTML

    html = ("<html><body style='font-size: 14pt'><p>One <b>bold</b> and <i>italic</i> line.</p>"
            "<p>Another <b>one</b>.</p></body></html>")

    def objects(pdf: bytes) -> list[int]:
        """How many Tm each text object of the first page holds."""
        reader = PdfReader(io.BytesIO(pdf))
        counts = []
        for _, operator in ContentStream(reader.pages[0].get_contents(), reader).operations:
            if operator == b"BT":
                counts.append(0)
            elif operator == b"Tm":
                counts[-1] += 1
        return counts

    def pixels(pdf: bytes) -> bytes:
        page = pdfium.PdfDocument(pdf)[0]
        return page.render(scale=2).to_pil().tobytes()

    plain = HTML(string=html).write_pdf(pdf_variant="pdf/x-4")
    finished = HTML(string=html).write_pdf(pdf_variant="pdf/x-4", finisher=press.press_finisher("FOGRA39", "test"))
    assert max(objects(plain)) >= 3   # "One ", "bold", " and " … in one text object
    assert set(objects(finished)) == {1} and sum(objects(finished)) == sum(objects(plain))
    assert pixels(finished) == pixels(plain)
