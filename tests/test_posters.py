"""Posters: one A3 page each, quoting commitments word for word, fitted type, QR code."""

from __future__ import annotations

import json

import pypdfium2 as pdfium
import pytest
import yaml
import zxingcpp
from pypdf import PdfReader

from conftest import flow_text
from policyprint import build, finish, verapdf
from policyprint.errors import BuildError

POSTERS = ("vision", "boernesyn", "foraeldre", "arbejdsform", "begreber", "sammenhaeng")


def poster_entries(root) -> dict:
    data = yaml.safe_load((root / "content/posters.yaml").read_text(encoding="utf-8"))
    return {p["id"]: p for p in data["posters"]}


def quoted_texts(root, poster) -> list[str]:
    policy = yaml.safe_load((root / "content/policy.yaml").read_text(encoding="utf-8"))
    lists = {lst["id"]: lst for s in policy["sections"] for lst in s.get("lists", [])}
    texts = []
    for block in poster["blocks"]:
        if "list" in block:
            texts += [lists[block["list"]]["intro"]] + [i["text"] for i in lists[block["list"]]["items"]]
    return texts


def test_six_posters_are_built(built):
    built_posters = sorted(p.name.split(".")[0].removeprefix("poster-")
                           for p in (built / "output/da").glob("poster-*.screen.pdf"))
    assert built_posters == sorted(POSTERS) == sorted(poster_entries(built))


@pytest.mark.parametrize("poster", POSTERS)
def test_one_a3_page(built, poster):
    reader = PdfReader(built / f"output/da/poster-{poster}.screen.pdf")
    assert len(reader.pages) == 1
    assert finish.trim_size_mm(reader.pages[0]) == (297.0, 420.0)


@pytest.mark.parametrize("poster", POSTERS)
def test_commitments_word_for_word(built, poster):
    entry = poster_entries(built)[poster]
    text = flow_text(built / f"output/da/poster-{poster}.screen.pdf")
    assert entry["title"] in text
    for quoted in quoted_texts(built, entry):
        assert quoted in text
    assert "Læs hele politikken" in text and text.endswith("Ballerup Kommune")


def test_every_commitment_list_has_a_poster(built):
    """Each list of commitments is printed whole, word for word, on a poster of its own."""
    policy = yaml.safe_load((built / "content/policy.yaml").read_text(encoding="utf-8"))
    lists = {lst["id"]: lst for s in policy["sections"] for lst in s.get("lists", [])}
    texts = {p: flow_text(built / f"output/da/poster-{p}.screen.pdf") for p in POSTERS}
    for list_id in ("vision", "boernesyn", "foraeldre", "arbejdsform"):
        lst = lists[list_id]
        holders = [p for p, text in texts.items()
                   if lst["intro"] in text and all(item["text"] in text for item in lst["items"])]
        assert holders == [list_id], list_id


@pytest.mark.parametrize("poster", POSTERS)
def test_qr_code_decodes(built, poster):
    page = pdfium.PdfDocument(built / f"output/da/poster-{poster}.screen.pdf")[0]
    decoded = [r.text for r in zxingcpp.read_barcodes(page.render(scale=150 / 72).to_pil())]
    assert decoded == ["https://ballerup.dk/boerne-og-ungepolitik"]


def test_institution_poster_footer_names_the_institution(built):
    text = flow_text(built / "output/da/institutions/eksempel-klub/poster-vision.screen.pdf")
    assert text.endswith("Klub Eksempel (eksempel)")


def test_a4_and_a2_from_the_same_template(project_copy):
    build(project_copy, products=("poster-vision",), size="A4")
    build(project_copy, products=("poster-vision",), size="A2")
    a4 = PdfReader(project_copy / "output/da/poster-vision.A4.screen.pdf")
    a2 = PdfReader(project_copy / "output/da/poster-vision.A2.screen.pdf")
    assert finish.trim_size_mm(a4.pages[0]) == (210.0, 297.0)
    assert finish.trim_size_mm(a2.pages[0]) == (420.0, 594.0)
    assert not (project_copy / "output/da/poster-vision.A3.screen.pdf").exists()
    manifest = json.loads((project_copy / "output/manifest.json").read_text(encoding="utf-8"))
    sizes = {a["path"]: a["trim_mm"] for a in manifest["artifacts"]}
    assert sizes["da/poster-vision.A4.screen.pdf"] == [210.0, 297.0]


def fitted_size(root) -> float:
    from policyprint.build import JobRunner
    from policyprint.plan import Job
    from policyprint.project import load_project

    result, _ = JobRunner(load_project(root)).run(Job("poster-arbejdsform", "da", "screen"))
    assert result.ok, result.errors
    return result.fit_pt


def lengthen(root, words: str) -> int:
    """Lengthen the 'arbejde-viden' commitment; return the line of its text."""
    path = root / "content/policy.yaml"
    old = "At de ansatte tager afsæt i anerkendt og relevant faglig viden."
    text = path.read_text(encoding="utf-8").replace(old, old[:-1] + " " + words + ".")
    path.write_text(text, encoding="utf-8")
    return next(n for n, line in enumerate(text.splitlines(), 1) if "At de ansatte tager afsæt" in line)


def test_longer_commitment_still_fits_at_a_smaller_size(project_copy):
    before = fitted_size(project_copy)
    lengthen(project_copy, "og i de erfaringer, som børn, unge, forældre og kolleger deler med os i hverdagen")
    after = fitted_size(project_copy)
    assert after < before
    assert after >= 18.0
    build(project_copy, products=("poster-arbejdsform",))
    reader = PdfReader(project_copy / "output/da/poster-arbejdsform.screen.pdf")
    assert len(reader.pages) == 1
    assert "deler med os i hverdagen" in flow_text(project_copy / "output/da/poster-arbejdsform.screen.pdf")


def test_far_too_long_commitment_fails_naming_the_key(project_copy):
    line = lengthen(project_copy, "og i den viden, vi deler med hinanden hver dag " * 40)
    with pytest.raises(BuildError) as err:
        build(project_copy, products=("poster-arbejdsform",))
    message = str(err.value)
    posters = (project_copy / "content/posters.yaml").read_text(encoding="utf-8").splitlines()
    blocks_line = next(n for n, l in enumerate(posters, 1) if "- id: arbejdsform" in l) + 3
    assert (f"poster-arbejdsform / da / screen: content/posters.yaml:{blocks_line}: posters[3].blocks: "
            "poster 'arbejdsform' does not fit on one page even at the brand's minimum type size "
            "(18.0 pt at this size); shorten its text. Its longest text is "
            f"content/policy.yaml:{line}: sections[5].lists[0].items[1].text") in message
    assert not (project_copy / "output/da/poster-arbejdsform.screen.pdf").exists()


def test_posters_pass_verapdf_pdf_ua_1(built):
    paths = [built / f"output/da/poster-{p}.screen.pdf" for p in POSTERS]
    verdicts = verapdf.validate(paths, "ua1", cache=built / ".cache")
    assert [(v.passed, v.failures) for v in verdicts] == [(True, [])] * len(paths)


def test_a_poster_too_long_names_its_own_long_text(project_copy):
    """The culprit is a 4,000-character text in posters.yaml, not the longest quoted policy item."""
    path = project_copy / "content/posters.yaml"
    text = path.read_text(encoding="utf-8")
    long = ("Alle børn og unge skal have mulighed for at deltage i fællesskaber. " * 60)[:3990]
    text = text.replace("      - text:\n", f'      - text:\n          - "{long}"\n', 1)
    path.write_text(text, encoding="utf-8")
    line = next(n for n, l in enumerate(text.splitlines(), 1) if l.startswith('          - "Alle børn og unge skal'))
    with pytest.raises(BuildError) as err:
        build(project_copy, products=("poster-begreber",), variants=("screen",))
    assert (f"shorten its text. Its longest text is content/posters.yaml:{line}: posters[4].blocks[0].text[0] "
            "(3990 characters)") in str(err.value)


def test_a_misspelt_id_gets_the_nearest_ids(project_copy):
    from click.testing import CliRunner

    from policyprint.cli import main

    posters = project_copy / "content/posters.yaml"
    posters.write_text(posters.read_text(encoding="utf-8").replace("      - list: boernesyn\n",
                                                                   "      - list: boernsyn\n", 1), encoding="utf-8")
    posters.write_text(posters.read_text(encoding="utf-8").replace(
        "      - list: vision\n", "      - items: [vision-faelesskaber]\n", 1), encoding="utf-8")
    result = CliRunner().invoke(main, ["--root", str(project_copy), "check"])
    assert result.exit_code == 2
    lines = posters.read_text(encoding="utf-8").splitlines()
    at = {key: next(n for n, l in enumerate(lines, 1) if key in l) for key in ("boernsyn", "faelesskaber")}
    assert (f"content/posters.yaml:{at['boernsyn']}: posters[1].blocks[0].list: no policy list has id 'boernsyn' "
            "(did you mean 'boernesyn'") in result.stderr
    assert (f"content/posters.yaml:{at['faelesskaber']}: posters[0].blocks[0].items[0]: no policy list item has id "
            "'vision-faelesskaber' (did you mean 'vision-faellesskaber'") in result.stderr
