"""Preflight catches deliberately broken input, with a message that names what and where."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from policyprint import build
from policyprint.cli import main
from policyprint.errors import BuildError


def test_image_without_alt_text_fails_the_screen_build(project_copy):
    from PIL import Image

    Image.new("RGB", (300, 300), "#0077ad").save(project_copy / "content/assets/photo.png", dpi=(300, 300))
    template = project_copy / "templates/leaflet.html.j2"
    text = template.read_text(encoding="utf-8")
    template.write_text(text.replace('<p class="cover-policy">',
                                     '<img src="content/assets/photo.png" style="width: 10mm"><p class="cover-policy">'),
                        encoding="utf-8")
    with pytest.raises(BuildError) as err:
        build(project_copy, products=("leaflet-youth",), variants=("screen",))
    assert ('leaflet-youth / da / screen: Image "content/assets/photo.png" has no required alt description'
            in str(err.value))


def test_rgb_colour_in_the_print_stylesheet_fails_the_print_build(project_copy):
    css = project_copy / "styles/leaflet.css"
    css.write_text(css.read_text(encoding="utf-8") + "\n.block h2 { color: rgb(255 0 0); }\n", encoding="utf-8")
    with pytest.raises(BuildError) as err:
        build(project_copy, products=("leaflet-youth",), variants=("print",))
    assert "leaflet-youth / da / print: page 2: RGB colour 1 0 0 (rg)" in str(err.value)


def test_missing_glyph_is_a_content_error_with_file_and_line(project_copy):
    path = project_copy / "content/leaflets.yaml"
    text = path.read_text(encoding="utf-8").replace("Det kan du regne med", "Det kan du regne med \U0001F600", 1)
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["--root", str(project_copy), "check"])
    assert result.exit_code == 2
    line = next(n for n, l in enumerate(text.splitlines(), 1) if "\U0001F600" in l)
    assert (f"content/leaflets.yaml:{line}: leaflets.youth.blocks[1].heading: character '\U0001F600' (U+1F600) "
            "has no glyph in the brand fonts (Noto Sans, IBM Plex Sans Arabic); it would print in another font "
            "or as a box") in result.stderr


THAI = "\u0e01\u0e02"


def _thai_in_the_leaflet_template(project) -> int:
    """Put two Thai letters (no brand font has them) into the leaflet template; return their line."""
    template = project / "templates/leaflet.html.j2"
    text = template.read_text(encoding="utf-8").replace('<p class="cover-policy">',
                                                        f'<p>{THAI}</p><p class="cover-policy">')
    template.write_text(text, encoding="utf-8")
    return next(n for n, line in enumerate(text.splitlines(), 1) if THAI in line)


def test_fallback_font_in_a_pdf_is_reported(project_copy):
    # A template word that is not in the content files bypasses the content check. Rendering
    # sees only the brand fonts, so on every machine it prints as .notdef, which preflight fails.
    line = _thai_in_the_leaflet_template(project_copy)
    with pytest.raises(BuildError) as err:
        build(project_copy, products=("leaflet-youth",), variants=("screen",))
    for char in THAI:
        assert (f"leaflet-youth / da / screen: page 1: character '{char}' (U+{ord(char):04X}) has no glyph in "
                f"the brand fonts and prints as a box (.notdef); it comes from templates/leaflet.html.j2:{line}"
                ) in str(err.value)


def _font_with_thai(path) -> None:
    """A tiny TrueType font that covers the two Thai letters (a square each)."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    def square():
        pen = TTGlyphPen(None)
        pen.moveTo((100, 0)), pen.lineTo((100, 600)), pen.lineTo((500, 600)), pen.lineTo((500, 0))
        pen.closePath()
        return pen.glyph()

    names = [".notdef", "ko", "kho"]
    fb = FontBuilder(1000, isTTF=True)
    fb.setupGlyphOrder(names)
    fb.setupCharacterMap({0x0E01: "ko", 0x0E02: "kho"})
    fb.setupGlyf({name: square() for name in names})
    fb.setupHorizontalMetrics({name: (600, 100) for name in names})
    fb.setupHorizontalHeader(ascent=800, descent=-200)
    fb.setupNameTable({"familyName": "Fallback Thai Test", "styleName": "Regular"})
    fb.setupOS2(sTypoAscender=800, usWinAscent=800, usWinDescent=200)
    fb.setupPost()
    fb.save(str(path))


def test_fonts_outside_the_project_change_nothing(project_copy, tmp_path):
    """A font that the machine (or the user) has, which covers a character the brand fonts lack,
    is never used: the PDFs are byte-identical with and without it, and the glyph still fails."""
    import os
    import subprocess
    import sys

    from conftest import ROOT

    line = _thai_in_the_leaflet_template(project_copy)
    extra = tmp_path / "extra-fonts"
    extra.mkdir()
    _font_with_thai(extra / "FallbackThai.ttf")
    home = tmp_path / "home"
    (home / ".fonts").mkdir(parents=True)
    _font_with_thai(home / ".fonts" / "FallbackThai.ttf")
    conf = tmp_path / "extra.conf"
    conf.write_text(f'<?xml version="1.0"?>\n<fontconfig><include ignore_missing="yes">/etc/fonts/fonts.conf'
                    f'</include><dir>{extra}</dir><cachedir>{tmp_path / "fc"}</cachedir></fontconfig>\n',
                    encoding="utf-8")
    command = [sys.executable, str(ROOT / "build.py"), "--root", str(project_copy), "build",
               "--product", "leaflet-youth", "--variant", "screen", "--jobs", "1"]
    rejected = project_copy / ".cache/rejected/da/leaflet-youth.screen.pdf"
    runs = []
    for env in ({}, {"FONTCONFIG_FILE": str(conf), "HOME": str(home), "XDG_DATA_HOME": str(home)}):
        done = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True)
        runs.append((done.returncode, rejected.read_bytes()))
        assert done.returncode == 1, done.stderr
        assert (f"character '\u0e01' (U+0E01) has no glyph in the brand fonts and prints as a box (.notdef); "
                f"it comes from templates/leaflet.html.j2:{line}") in done.stderr
    assert runs[0][1] == runs[1][1]


def test_brand_font_names():
    from policyprint.finish import _is_brand_font

    families = ["notosansarabic", "notosans"]
    for name in ("Noto-Sans", "Noto-Sans-Bold", "Noto-Sans-Semi-Bold", "Noto-Sans-Ultra-Bold", "Noto-Sans-Arabic"):
        assert _is_brand_font(name, families), name
    for name in ("Noto-Sans-Thai", "DejaVu-Sans", "Noto-Sans-Egyptian-Hieroglyphs"):
        assert not _is_brand_font(name, families), name


def test_low_resolution_image_fails_the_print_build(project_copy):
    from PIL import Image

    Image.new("RGB", (40, 40), "#0077ad").save(project_copy / "content/assets/small.png")
    template = project_copy / "templates/leaflet.html.j2"
    text = template.read_text(encoding="utf-8")
    template.write_text(text.replace('<p class="cover-policy">',
                                     '<img src="content/assets/small.png" alt="Et lille billede" style="width: 20mm">'
                                     '<p class="cover-policy">'), encoding="utf-8")
    with pytest.raises(BuildError) as err:
        build(project_copy, products=("leaflet-youth",), variants=("print",))
    # 40 px over 20 mm is 50.8 ppi
    assert "leaflet-youth / da / print: page 1: image 0 (40 × 40 px) is placed at 51 ppi, below the 300 ppi " \
           "required" in str(err.value)


def test_check_pdf_on_built_files(built):
    ok = CliRunner().invoke(main, ["check", "--pdf", str(built / "output/da/poster-vision.print.pdf"),
                                   "--pdf", str(built / "output/da/policy.screen.pdf")])
    assert ok.exit_code == 0, ok.output
    assert ("poster-vision.print.pdf: 1 page(s), trim 297 × 420 mm; press file (PDF/X) (guessed; choose with "
            "--press, --screen or --booklet); bleed 3 mm") in ok.output
    assert "policy.screen.pdf: 12 page(s), trim 210 × 297 mm; screen file (guessed;" in ok.output


def test_the_tools_own_booklets_pass_their_own_check(built):
    booklets = [str(p) for p in sorted((built / "output/da").glob("*.booklet.pdf"))]
    assert len(booklets) >= 9
    result = CliRunner().invoke(main, ["check", *(a for b in booklets for a in ("--pdf", b))])
    assert result.exit_code == 0, result.output + result.stderr
    assert "policy.booklet.pdf: 6 page(s), trim 297 × 210 mm; office booklet (guessed;" in result.output


def test_check_pdf_kind_is_chosen_not_guessed(built):
    booklet = str(built / "output/da/leaflet-youth.booklet.pdf")
    as_screen = CliRunner().invoke(main, ["check", "--pdf", booklet, "--screen"])
    assert as_screen.exit_code == 1
    assert "leaflet-youth.booklet.pdf: 2 page(s), trim 297 × 210 mm; screen file; language not set" in as_screen.output
    assert "leaflet-youth.booklet.pdf: is not tagged (no structure tree)" in as_screen.stderr
    screen = str(built / "output/da/leaflet-youth.screen.pdf")
    as_press = CliRunner().invoke(main, ["check", "--pdf", screen, "--press"])
    assert as_press.exit_code == 1
    assert "leaflet-youth.screen.pdf: 4 page(s), trim 148 × 210 mm; press file (PDF/X); bleed 0 mm" in as_press.output
    assert "leaflet-youth.screen.pdf: bleed is 0 mm, expected at least 3 mm" in as_press.stderr
    usage = CliRunner().invoke(main, ["check", "--press"])
    assert usage.exit_code == 2 and "give one with --pdf FILE" in usage.stderr


def test_check_pdf_finds_rgb_in_a_press_file(built, tmp_path):
    # A press file with an RGB colour added, as a designer's tool might leave it.
    pdf = (built / "output/da/leaflet-youth.print.pdf").read_bytes()
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import DecodedStreamObject, NameObject
    import io
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    page = writer.pages[1]
    extra = DecodedStreamObject()
    extra.set_data(b"q 1 0 0 rg 10 10 50 50 re f Q")
    contents = page.get_contents()
    combined = DecodedStreamObject()
    combined.set_data(contents.get_data() + b"\n" + extra.get_data())
    page[NameObject("/Contents")] = writer._add_object(combined)
    path = tmp_path / "from-designer.pdf"
    writer.write(path)
    result = CliRunner().invoke(main, ["check", "--pdf", str(path)])
    assert result.exit_code == 1
    assert f"{path}: page 2: RGB colour 1 0 0 (rg)" in result.stderr


def test_check_pdf_on_a_file_that_is_not_a_pdf(tmp_path):
    path = tmp_path / "notes.pdf"
    path.write_text("not a pdf", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--pdf", str(path)])
    assert result.exit_code == 1
    # One clean line: no pypdf repair notes ("invalid pdf header", "EOF marker not found").
    assert result.stderr == (f"  {path}: not a PDF file (a PDF starts with %PDF-; this starts with 'not a pd')\n")
