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
    path.write_text(text.replace("    langs: [da]\n", "    langs: [da, ar]\n", 1), encoding="utf-8")
    line = next(n for n, l in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "[da, ar]" in l)
    result = CliRunner().invoke(main, ["--root", str(project_copy), "check"])
    assert result.exit_code == 2
    assert (f"content/institutions.yaml:{line}: institutions[0].langs[1]: 'ar' is not a language listed in "
            "content/languages.yaml (da)") in result.stderr


def test_the_institution_is_named_on_the_cover_and_in_the_title(built):
    from pypdf import PdfReader

    for product in ("leaflet-parents", "leaflet-youth"):
        reader = PdfReader(built / f"output/da/institutions/eksempel-klub/{product}.screen.pdf")
        assert "Klub Eksempel (eksempel)" in reader.pages[0].extract_text()
        assert reader.metadata.title.endswith(" – Klub Eksempel (eksempel)")
    generic = PdfReader(built / "output/da/leaflet-parents.screen.pdf")
    assert "Klub Eksempel" not in generic.pages[0].extract_text() and "Klub" not in generic.metadata.title
    poster = PdfReader(built / "output/da/institutions/eksempel-klub/poster-vision.screen.pdf")
    assert poster.metadata.title.endswith(" – Klub Eksempel (eksempel)")
