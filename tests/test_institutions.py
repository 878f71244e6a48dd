"""Each institution gets the products that fit it (issue 12): by kind, or its own list."""

from __future__ import annotations

from click.testing import CliRunner

from policyprint.cli import main
from policyprint.plan import plan
from policyprint.project import load_project

POSTERS = {"poster-vision", "poster-boernesyn", "poster-foraeldre", "poster-arbejdsform", "poster-begreber",
           "poster-sammenhaeng"}


def products_of(root, institution: str) -> set[str]:
    jobs = plan(load_project(root), institutions=(institution,), variants=("screen",))
    return {job.product for job in jobs if job.institution == institution}


def test_a_dagtilbud_gets_no_youth_leaflet(project_copy):
    assert products_of(project_copy, "eksempel-boernehus") == {"leaflet-parents", "leaflet-staff"} | POSTERS


def test_a_club_gets_the_youth_leaflet(project_copy):
    assert products_of(project_copy, "eksempel-klub") == {"leaflet-parents", "leaflet-staff", "leaflet-youth"} | POSTERS


def test_an_institution_lists_its_own_products(project_copy):
    path = project_copy / "content/institutions.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("    contact: Anna Eksempel, leder\n",
                                 "    contact: Anna Eksempel, leder\n    products: [leaflet-parents, poster-vision]\n", 1),
                    encoding="utf-8")
    assert products_of(project_copy, "eksempel-boernehus") == {"leaflet-parents", "poster-vision"}


def test_an_unknown_product_for_an_institution_is_named(project_copy):
    path = project_copy / "content/institutions.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("    contact: Anna Eksempel, leder\n",
                                 "    contact: Anna Eksempel, leder\n    products: [leaflet-parent]\n", 1),
                    encoding="utf-8")
    line = next(n for n, l in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "leaflet-parent]" in l)
    result = CliRunner().invoke(main, ["--root", str(project_copy), "check"])
    assert result.exit_code == 2
    assert (f"content/institutions.yaml:{line}: institutions[0].products[0]: 'leaflet-parent' is not a personalised "
            "product (posters, leaflet-parents, leaflet-staff, leaflet-youth, poster-vision, poster-boernesyn, "
            "poster-foraeldre, poster-arbejdsform, poster-begreber, poster-sammenhaeng) "
            "(did you mean 'leaflet-parents'") in result.stderr


def test_an_unlisted_language_for_an_institution_is_an_error(project_copy):
    path = project_copy / "content/institutions.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("    langs: [da]\n", "    langs: [da, fr]\n", 1), encoding="utf-8")
    line = next(n for n, l in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "[da, fr]" in l)
    result = CliRunner().invoke(main, ["--root", str(project_copy), "check"])
    assert result.exit_code == 2
    assert (f"content/institutions.yaml:{line}: institutions[1].langs[1]: 'fr' is not a language listed in "
            "content/languages.yaml (da, en, uk, ar)") in result.stderr


def test_the_institution_is_named_on_the_cover_and_in_the_title(built):
    from pypdf import PdfReader

    for product in ("leaflet-parents", "leaflet-youth"):
        reader = PdfReader(built / f"output/da/institutions/eksempel-klub/{product}.screen.pdf")
        assert "Klub Eksempel (eksempel)" in " ".join(reader.pages[0].extract_text().split())
        assert reader.metadata.title.endswith(" – Klub Eksempel (eksempel)")
    generic = PdfReader(built / "output/da/leaflet-parents.screen.pdf")
    assert "Klub Eksempel" not in generic.pages[0].extract_text() and "Klub" not in generic.metadata.title
    poster = PdfReader(built / "output/da/institutions/eksempel-klub/poster-vision.screen.pdf")
    assert poster.metadata.title.endswith(" – Klub Eksempel (eksempel)")


def test_check_warns_when_a_raster_logo_is_too_coarse_for_press(project_copy):
    from PIL import Image

    path = project_copy / "content/institutions.yaml"
    text = path.read_text(encoding="utf-8")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "logo: assets/eksempel-klub-logo.svg" in row)
    path.write_text(text.replace("assets/eksempel-klub-logo.svg", "assets/klub.png"), encoding="utf-8")
    Image.new("RGB", (200, 80), (0, 119, 173)).save(project_copy / "content/assets/klub.png")
    result = CliRunner().invoke(main, ["--root", str(project_copy), "check"])
    assert result.exit_code == 0, result.output
    assert (f"warning: content/institutions.yaml:{line}: institutions[2].logo: assets/klub.png is 200 px wide: "
            "169 ppi at its 30 mm width (institution logo in brand.yaml logos:); press files need 300 ppi, "
            "354 px or more, or an SVG.") in result.stderr
    assert "Content OK: 11 files checked, 1 warning(s)." in result.output
    Image.new("RGB", (360, 144), (0, 119, 173)).save(project_copy / "content/assets/klub.png")
    result = CliRunner().invoke(main, ["--root", str(project_copy), "check"])
    assert result.stderr == "" and "Content OK: 11 files checked." in result.output


def test_a_vector_logo_in_a_non_brand_colour_is_cmyk_in_press_files_and_kept_on_screen(project_copy):
    import re

    from pypdf import PdfReader

    from policyprint import build, finish

    logo = project_copy / "content/assets/eksempel-klub-logo.svg"
    logo.write_text(logo.read_text(encoding="utf-8").replace('fill="#2e7d32"', 'fill="#ff6600"')
                    .replace('r="10" fill="#ffffff"', 'r="10" fill="#f60"'), encoding="utf-8")
    build(project_copy, products=("leaflet-parents",), variants=("screen", "print"), institutions=("eksempel-klub",),
          only_institutions=True)
    folder = project_copy / "output/da/institutions/eksempel-klub"
    press = PdfReader(folder / "leaflet-parents.print.pdf")
    assert finish.check_no_rgb(press) == []
    streams = b"".join(page.get_contents().get_data() for page in press.pages)
    orange = [tuple(map(float, m)) for m in re.findall(rb"([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) scn\n", streams)]
    assert any(c < 0.1 and m > 0.5 and y > 0.8 for c, m, y, k in orange)   # FOGRA39's orange: about 0/70/95/0
    screen = b"".join(page.get_contents().get_data() for page in PdfReader(folder / "leaflet-parents.screen.pdf").pages)
    assert re.search(rb"\n1 0.4 0 (rg|scn)\n", screen)   # the logo's own #ff6600 and #f60


def test_every_example_institution_s_cover_is_clear_of_the_shapes(project_copy):
    from policyprint import build

    # A name as long as "Eksempelskolen (eksempel)" once ran into the cover's large circle.
    report = build(project_copy, products=("leaflet-parents",), variants=("screen",), institutions=("all",),
                   only_institutions=True)
    assert len(report.results) == 3 and not report.failed
