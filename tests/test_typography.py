"""Danish typography and reading comfort: dashes, hyphenation, contrast, bookmarks (issue 11, 15 and 17-19)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from click.testing import CliRunner
from pypdf import PdfReader

from conftest import ROOT
from policyprint.cli import main

PDFS = ["da/policy.screen.pdf", "da/leaflet-parents.screen.pdf", "da/leaflet-staff.screen.pdf",
        "da/leaflet-youth.screen.pdf"]
# WeasyPrint's hyphenate-character at a line end, as the text layer writes it (policyprint.structure):
# pdftotext joins such lines, so the hyphenation tests read the lines in raw order (-raw).
HYPHEN = "-"


def pdftotext(pdf: Path, page: int | None = None, raw: bool = False) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    mode = ["-raw"] if raw else []
    return subprocess.run(["pdftotext", *mode, *pages, str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


def folded(text: str) -> str:
    return re.sub(r"\s+", " ", text)


# ---- dashes ----------------------------------------------------------------------------

def test_ranges_and_clause_dashes_are_en_dashes(built):
    text = folded(pdftotext(built / "output/da/policy.screen.pdf").replace(HYPHEN + "\n", ""))
    assert "fra 0–25 år" in text                          # policy.yaml: "fra 0-25 år"
    assert "livsduelighed – at barnet" in text            # policy.yaml: "livsduelighed - at barnet"
    assert "hinanden – og en værdi" in text
    assert "»Fællesskaber for alle – Alle i fællesskab«" in text   # the motto's second line starts with "- "
    assert not re.search(r"\d-\d", text) and " - " not in text


def test_the_diagram_labels_use_en_dashes(built):
    text = folded(pdftotext(built / "output/da/policy.screen.pdf", page=11))
    assert "0–5 år" in text and "6–16 år" in text and "0-5" not in text


def test_the_yaml_keeps_the_municipalitys_hyphens():
    policy = (ROOT / "content/policy.yaml").read_text(encoding="utf-8")
    assert "0-25 år" in policy and "livsduelighed - at barnet" in policy


# ---- hyphenation ---------------------------------------------------------------------------

def test_no_paragraph_ends_on_a_hyphenated_word(built):
    """A line that ends in a hyphen is never followed by a lone word that ends its paragraph."""
    for name in PDFS:
        lines = pdftotext(built / "output" / name, raw=True).split("\n")
        tails = [(a, b) for a, b in zip(lines, lines[1:])
                 if a.endswith(HYPHEN) and len(b.split()) == 1 and re.search(r"[.!?:;»«]$", b.strip())]
        assert tails == [], name


def test_no_word_is_hyphenated_across_a_page_turn(built):
    for name in PDFS:
        pdf = built / "output" / name
        for page in range(1, len(PdfReader(pdf).pages)):
            lines = [line for line in pdftotext(pdf, page, raw=True).split("\n")
                     if line.strip() and not re.search(r"Side \d+ af \d+", line)]
            assert not lines or not lines[-1].rstrip().endswith(HYPHEN), (name, page, lines[-1])


def test_compounds_break_at_their_boundary(built):
    exceptions = {"samarbejde": "sam", "samarbejder": "sam", "samarbejdet": "sam", "succesoplevelser": "succes",
                  "arbejdsproces": "arbejds", "interkulturel": "inter"}
    seen = 0
    for name in PDFS:
        lines = pdftotext(built / "output" / name, raw=True).split("\n")
        for a, b in zip(lines, lines[1:]):
            if a.endswith(HYPHEN) and a.split() and b.split():
                head, tail = a.split()[-1][:-1], b.split()[0]
                word = re.sub(r"\W", "", head + tail).lower()
                if word in exceptions:
                    seen += 1
                    assert re.sub(r"\W", "", head).lower() == exceptions[word], (name, a, b)
    assert seen   # the brochure does break some of these words


def test_a_word_hyphenated_across_a_page_turn_is_found_and_kept_whole(tmp_path):
    """The detector the job runner uses: a small two-page document that hyphenates across the turn."""
    from policyprint.pdf import PdfWriter

    def layout(word_html):
        html = ('<html lang="da"><style>@page { size: 62mm 17mm; margin: 2mm }'
                'body { font: 10pt/12pt sans-serif; hyphens: auto; margin: 0 }'
                '.nohyphen { hyphens: none }</style>'
                f'<p>Alle de mange og glade ord {word_html} i dag.</p></html>')
        return PdfWriter([tmp_path]).layout(html, tmp_path, "screen")

    for filler in range(0, 30):
        text = "ja " * filler
        found = layout(f"{text}samarbejdsrelationerne").page_turn_hyphens()
        if found:
            break
    assert found == {"samarbejdsrelationerne"}
    assert layout(f'{text}<span class="nohyphen">samarbejdsrelationerne</span>').page_turn_hyphens() == set()


# ---- contrast ----------------------------------------------------------------------------------

def test_every_declared_colour_pair_meets_wcag_aa():
    from policyprint.project import load_project
    from policyprint.validate import contrast_ratio

    brand = load_project(ROOT).data("brand")
    pairs = brand["contrast"]
    assert {"text": "accent-dark", "background": "accent-light", "where": "commitment card numbers"} in pairs
    for pair in pairs:
        ratio = contrast_ratio(brand["colours"][pair["text"]]["rgb"], brand["colours"][pair["background"]]["rgb"])
        assert ratio >= (3 if pair.get("large") else 4.5), pair


def test_a_pair_under_wcag_aa_fails_check_with_its_roles_and_colours(project_copy):
    brand = project_copy / "content/brand.yaml"
    text = brand.read_text(encoding="utf-8")
    old = '  - {text: accent-dark, background: accent-light, where: "commitment card numbers"}'
    assert old in text
    brand.write_text(text.replace(old, '  - {text: accent, background: accent-light, where: "card numbers"}'),
                     encoding="utf-8")
    line = next(n for n, s in enumerate(brand.read_text(encoding="utf-8").splitlines(), 1) if "card numbers" in s)
    result = CliRunner().invoke(main, ["--root", str(project_copy), "check"])
    assert result.exit_code == 2
    assert (f"content/brand.yaml:{line}: contrast[7]: accent (#0077ad) on accent-light (#e3f2fa) has a contrast "
            "of 4.33:1, under WCAG 2.1's 4.5:1 for normal text") in result.stderr


def test_the_card_numbers_use_the_passing_pair():
    css = (ROOT / "styles/base.css").read_text(encoding="utf-8")
    rule = css[css.index(".list-commitments li::before"):]
    rule = rule[:rule.index("}")]
    assert "color: var(--colour-accent-dark)" in rule


# ---- bookmarks ---------------------------------------------------------------------------------

def test_the_brochure_opens_with_its_bookmarks_shown(built):
    reader = PdfReader(built / "output/da/policy.screen.pdf")
    assert reader.trailer["/Root"]["/PageMode"] == "/UseOutlines"
    assert len(reader.outline) >= 7
    assert "/PageMode" not in PdfReader(built / "output/da/leaflet-parents.screen.pdf").trailer["/Root"]
