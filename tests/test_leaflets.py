"""The audience leaflets: format, quoted content, readability, personalisation, QR code."""

from __future__ import annotations

import io
import json

import pypdfium2 as pdfium
import pytest
import yaml
import zxingcpp
from pypdf import PdfReader

from conftest import FOOTER_RE, flow_text, normalise, page_texts
from policyprint import build, finish, verapdf
from policyprint.errors import BuildError, ContentError
from policyprint.readability import lix
from policyprint.validate import leaflet_paragraphs

LEAFLETS = ("leaflet-parents", "leaflet-staff", "leaflet-youth")
AUDIENCE_WORDS = {"leaflet-parents": "Til forældre", "leaflet-staff": "Til medarbejdere",
                  "leaflet-youth": "Til dig mellem 13 og 25 år"}


def policy(root) -> dict:
    return yaml.safe_load((root / "content" / "policy.yaml").read_text(encoding="utf-8"))


def policy_list(root, list_id) -> dict:
    return next(lst for s in policy(root)["sections"] for lst in s.get("lists", []) if lst["id"] == list_id)


@pytest.mark.parametrize("product", LEAFLETS)
def test_four_a5_pages(built, product):
    reader = PdfReader(built / f"output/da/{product}.screen.pdf")
    assert len(reader.pages) == 4
    assert {finish.trim_size_mm(p) for p in reader.pages} == {(148.0, 210.0)}


@pytest.mark.parametrize("product", LEAFLETS)
def test_cover_names_the_audience(built, product):
    cover = page_texts(built / f"output/da/{product}.screen.pdf")[0]
    assert AUDIENCE_WORDS[product] in cover


def test_parents_leaflet_has_the_four_themes_word_for_word(built):
    text = flow_text(built / "output/da/leaflet-parents.screen.pdf")
    themes = policy_list(built, "temaer")
    assert len(themes["items"]) == 4
    for item in themes["items"]:
        assert item["text"] in text
    assert "Samarbejdet med forældrene" in text
    assert "Det forventer vi af dig" in text


def test_staff_leaflet_has_every_commitment_of_how_we_work(built):
    text = flow_text(built / "output/da/leaflet-staff.screen.pdf")
    for item in policy_list(built, "arbejdsform")["items"]:
        assert item["text"] in text


def test_youth_leaflet_is_plain_danish_with_lix_at_most_35(built):
    leaflet = yaml.safe_load((built / "content/leaflets.yaml").read_text(encoding="utf-8"))["leaflets"]["youth"]
    score = lix(leaflet_paragraphs(leaflet))
    assert score <= 35
    text = flow_text(built / "output/da/leaflet-youth.screen.pdf")
    assert " du " in text and "Du skal" in text


def test_lix_known_values():
    # 9 words, 2 sentences, 1 long word (sætning): 4.5 + 11.1
    assert round(lix(["Dette er en kort sætning.", "Her er endnu en."]), 1) == 15.6
    # The policy's own vision lead is harder reading than the youth retelling.
    assert lix(["Børne- og Ungepolitikken sætter den overordnede ramme for, hvordan alle børn "
                "og unge fra 0-25 år indgår i og bidrager til fællesskaber."]) > 35


def test_editing_a_commitment_changes_the_leaflet(project_copy):
    path = project_copy / "content/policy.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("At vi understøtter og forventer at forældrene samarbejder med hinanden.",
                                 "At vi understøtter og forventer at forældrene taler sammen."), encoding="utf-8")
    build(project_copy, products=("leaflet-parents",))
    out = flow_text(project_copy / "output/da/leaflet-parents.screen.pdf")
    assert "At vi understøtter og forventer at forældrene taler sammen." in out


def test_personalised_leaflet_carries_the_institution(built):
    inst = flow_text(built / "output/da/institutions/eksempel-klub/leaflet-parents.screen.pdf")
    generic = flow_text(built / "output/da/leaflet-parents.screen.pdf")
    assert "Klub Eksempel (eksempel)" in inst and "99 88 77 66" in inst
    assert "Klub" in inst and "Jonas Eksempel, klubleder" in inst
    assert "Klub Eksempel" not in generic and "99 88 77 66" not in generic
    assert "Ballerup Kommune" in generic and "44 77 20 00" in generic


def test_manifest_lists_leaflets_with_audience_and_institution(built):
    manifest = json.loads((built / "output/manifest.json").read_text(encoding="utf-8"))
    by_path = {a["path"]: a for a in manifest["artifacts"]}
    generic = by_path["da/leaflet-youth.screen.pdf"]
    assert (generic["audience"], generic["institution"], generic["pages"]) == ("youth", None, 4)
    assert generic["trim_mm"] == [148.0, 210.0]
    inst = by_path["da/institutions/eksempel-klub/leaflet-staff.screen.pdf"]
    assert (inst["audience"], inst["institution"], inst["kind"]) == ("staff", "eksempel-klub", "leaflet")
    assert not any(a["product"] == "policy" and a["institution"] for a in manifest["artifacts"])


def test_overlong_parent_text_fails_naming_the_yaml_key(project_copy):
    path = project_copy / "content/leaflets.yaml"
    text = path.read_text(encoding="utf-8")
    long = "Vi glæder os til at samarbejde med dig om dit barns hverdag. " * 30
    text = text.replace("      - heading: Det forventer vi af dig\n",
                        f"      - heading: Det forventer vi af dig\n        text: [\"{long}\"]\n", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BuildError) as err:
        build(project_copy, products=("leaflet-parents",))
    line = next(n for n, l in enumerate(text.splitlines(), 1) if "heading: Det forventer vi af dig" in l)
    assert (f"leaflet-parents / da / screen: content/leaflets.yaml:{line}: leaflets.parents.blocks[3]: "
            "the text runs over the inside pages (2–3) from this block ('Det forventer vi af dig') on") \
        in str(err.value)


def test_unknown_institution_is_a_usage_error(project_copy):
    from click.testing import CliRunner

    from policyprint.cli import main
    result = CliRunner().invoke(main, ["--root", str(project_copy), "build", "--institution", "nope"])
    assert result.exit_code == 2
    assert result.stderr.strip() == ("error: unknown institution 'nope': content/institutions.yaml lists "
                                     "eksempel-boernehus, eksempel-skole, eksempel-klub")


def test_bad_institution_data_points_into_the_file(project_copy):
    from click.testing import CliRunner

    from policyprint.cli import main
    path = project_copy / "content/institutions.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("    phone: 55 66 77 88\n", "", 1)
    text = text.replace("klubben@eksempel.dk", "klubben(at)eksempel.dk")
    text = text.replace("assets/eksempel-klub-logo.svg", "assets/no-such-logo.svg")
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["--root", str(project_copy), "check"])
    assert result.exit_code == 2
    lines = text.splitlines()
    skole = next(n for n, l in enumerate(lines, 1) if "id: eksempel-skole" in l)
    email = next(n for n, l in enumerate(lines, 1) if "klubben(at)" in l)
    assert (f"content/institutions.yaml:{skole}: institutions[1]: missing required key 'phone' (phone number)"
            in result.stderr)
    assert (f"content/institutions.yaml:{email}: institutions[2].email: expected an e-mail address such as "
            "navn@ballerup.dk, got 'klubben(at)eksempel.dk'" in result.stderr)
    # With the e-mail and phone fixed, the cross-file rule finds the missing logo.
    path.write_text(text.replace("klubben(at)", "klubben@").replace(
        "    email: kontor@", "    phone: 55 66 77 88\n    email: kontor@"), encoding="utf-8")
    result = CliRunner().invoke(main, ["--root", str(project_copy), "check"])
    logo = next(n for n, l in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "no-such-logo" in l)
    assert (f"content/institutions.yaml:{logo}: institutions[2].logo: file not found: "
            "content/assets/no-such-logo.svg") in result.stderr


@pytest.mark.parametrize("product", LEAFLETS)
def test_qr_code_decodes_to_the_policy_url(built, product):
    url = policy(built)["meta"]["url"]
    page = pdfium.PdfDocument(built / f"output/da/{product}.screen.pdf")[3]
    image = page.render(scale=300 / 72).to_pil()
    decoded = [(r.text, r.ec_level) for r in zxingcpp.read_barcodes(image)]
    assert decoded == [(url, "M")]


def test_qr_svg_has_alt_text_and_the_url():
    from policyprint.render import qr_svg

    svg = str(qr_svg("https://ballerup.dk/x", "QR-kode til https://ballerup.dk/x"))
    assert "<title>QR-kode til https://ballerup.dk/x</title>" in svg
    assert 'role="img"' in svg
    # The code's content and its error correction level (M) are read back from the PDF:
    # test_qr_code_decodes_to_the_policy_url.


def test_leaflets_pass_verapdf_pdf_ua_1(built):
    paths = [built / f"output/da/{p}.screen.pdf" for p in LEAFLETS]
    paths.append(built / "output/da/institutions/eksempel-klub/leaflet-parents.screen.pdf")
    verdicts = verapdf.validate(paths, "ua1", cache=built / ".cache")
    assert [(v.passed, v.failures) for v in verdicts] == [(True, [])] * len(paths)


def test_the_parents_back_page_uses_its_space(built):
    """The back page carries the policy's shared-task paragraph (quoted by id with `body:`) and its
    text runs down past 70 % of the page: not a pull quote and a contact block above an empty half."""
    section = next(s for s in policy(built)["sections"] if s["id"] == "foraeldre")
    pdf = built / "output/da/leaflet-parents.screen.pdf"
    back = normalise(FOOTER_RE.sub("", page_texts(pdf)[3]))
    assert "En fælles opgave" in back
    assert section["body"][0] in back
    page = pdfium.PdfDocument(pdf)[3]
    text = page.get_textpage()
    lowest = min(text.get_charbox(i)[1] for i in range(text.count_chars())
                 if not text.get_text_range(i, 1).isspace())
    height = page.get_height()
    assert (height - lowest) / height > 0.7     # before: 0.55 (a pull quote and the contact block)


def test_a_body_quote_of_an_unknown_id_names_the_yaml_key(project_copy):
    path = project_copy / "content/leaflets.yaml"
    text = path.read_text(encoding="utf-8")
    assert "          body: foraeldre\n" in text
    path.write_text(text.replace("          body: foraeldre\n", "          body: foraeldr\n"), encoding="utf-8")
    line = text.splitlines().index("          body: foraeldre") + 1
    with pytest.raises(ContentError) as err:
        build(project_copy, products=("leaflet-parents",))
    assert (f"content/leaflets.yaml:{line}: leaflets.parents.back.blocks[1].body: no section or subsection "
            "with body paragraphs has id 'foraeldr' (did you mean 'foraeldre'?)") in str(err.value)


@pytest.mark.parametrize("lang", ["da", "en", "uk", "ar"])
def test_the_youth_back_page_uses_its_space(built, lang):
    """The youth leaflet's back page quotes the policy's own words behind a promise retold inside,
    so its text runs down past 70 % of the page (before: 55 %, a pull quote and the contact block)."""
    page = pdfium.PdfDocument(built / f"output/{lang}/leaflet-youth.screen.pdf")[3]
    text = page.get_textpage()
    lowest = min(text.get_charbox(i)[1] for i in range(text.count_chars())
                 if not text.get_text_range(i, 1).isspace())
    assert (page.get_height() - lowest) / page.get_height() > 0.7
