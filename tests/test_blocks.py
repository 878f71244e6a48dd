"""Every block kind works on every product kind, at every size, and a layout check catches
text that runs into other text, a rule or a decorative shape (issue 12, point 7)."""

from __future__ import annotations

import pytest

from policyprint import build
from policyprint.errors import BuildError

# One poster per block kind, YAML only, as an editor would add them. The first title has a
# word longer than the title's measure, next to the header's decorative circle.
POSTERS = """
  - id: blok-liste
    kicker: Fire temaer
    title: Forældresamarbejdsudviklingsmulighederne i Ballerup
    blocks:
      - list: temaer
  - id: blok-punkter
    kicker: Indsatser
    title: Det gør vi
    blocks:
      - list: indsatser
  - id: blok-citat
    kicker: Samarbejdet med forældrene
    title: Sammen om barnet
    blocks:
      - quote: foraeldre
  - id: blok-udvalgte
    kicker: Det lover politikken
    title: Udvalgte løfter
    blocks:
      - items: [vision-faellesskaber, syn-styrker, foraeldre-dialog]
  - id: blok-figur
    kicker: Forpligtende samarbejder
    title: Fra 0 til 25 år
    blocks:
      - figure: age_bands
  - id: blok-tekst
    kicker: Vores egne ord
    title: Kort fortalt
    blocks:
      - heading: Fællesskaber for alle
        text:
          - "Alle børn og unge skal kunne indgå i **fællesskaber**."
          - "Vi samarbejder med forældrene om barnets trivsel."
  - id: blok-kort
    kicker: Tre begreber
    title: Som kort
    blocks:
      - cards: true
        text:
          - "**Dannelse** handler om værdier."
          - "**Læring** er allestedsnærværende."
  - id: blok-fremhaevet
    kicker: Et løfte
    title: Fremhævet
    blocks:
      - pull_quote: syn-hoere-til
"""
KINDS = ["blok-liste", "blok-punkter", "blok-citat", "blok-udvalgte", "blok-figur", "blok-tekst", "blok-kort",
         "blok-fremhaevet"]


@pytest.fixture(scope="module")
def block_project(tmp_path_factory):
    from conftest import copy_project

    root = copy_project(tmp_path_factory.mktemp("blocks"))
    path = root / "content/posters.yaml"
    path.write_text(path.read_text(encoding="utf-8").rstrip() + "\n" + POSTERS, encoding="utf-8")
    return root


@pytest.mark.parametrize("size", ["A4", "A3", "A2"])
def test_every_block_kind_on_a_poster_at_every_size(block_project, size):
    report = build(block_project, products=tuple(f"poster-{k}" for k in KINDS), variants=("screen",),
                   size=size)
    assert [r.job.product for r in report.results if not r.ok] == []
    assert all("text clear of text, rules and shapes" in r.checks for r in report.results)


# The test leaflets are short: their inside pages are marked as designed to breathe.
LEAFLET_BLOCKS = {
    "parents": """    breathe: [2, 3]
    blocks:
      - heading: Indsatser
        list: indsatser
      - heading: Aldersgrupper
        figure: age_bands
      - heading: Kort fortalt
        text:
          - "Vi samarbejder med dig om dit barns **trivsel**."
      - cards: true
        text:
          - "**Dannelse** handler om værdier."
          - "**Trivsel** handler om at høre til."
""",
    "youth": """    breathe: [2, 3]
    blocks:
      - heading: Samarbejdet
        pull_quote: syn-styrker
        quote: foraeldre
      - heading: Fire temaer
        list: temaer
      - heading: Det lover vi
        items: [vision-faellesskaber, syn-styrker]
""",
}


def test_every_block_kind_on_a_leaflet(project_copy):
    import re

    path = project_copy / "content/leaflets.yaml"
    text = path.read_text(encoding="utf-8")
    for audience, blocks in LEAFLET_BLOCKS.items():
        # Replace the audience's blocks: from its "    blocks:" line to its "    back:" line.
        start = text.index("    blocks:\n", text.index(f"  {audience}:\n"))
        end = text.index("    back:\n", start)
        text = text[:start] + blocks + text[end:]
    path.write_text(text, encoding="utf-8")
    report = build(project_copy, products=("leaflet-parents", "leaflet-youth"), variants=("screen",))
    assert [r.job.product for r in report.results if not r.ok] == []
    assert re.search(r"figure", text)


def test_text_over_a_decorative_shape_fails_the_build(project_copy):
    sheet = project_copy / "styles/leaflet.css"
    sheet.write_text(sheet.read_text(encoding="utf-8")
                     + "\n.leaflet-cover .shape-2 { top: 120mm; right: 60mm; }\n", encoding="utf-8")
    with pytest.raises(BuildError) as err:
        build(project_copy, products=("leaflet-parents",), variants=("screen",))
    assert "leaflet-parents / da / screen: page 1: text 'Alle i fællesskab' runs into a decorative " \
           "shape (span.shape) at 14 × 116 mm from the top left" in str(err.value)


def test_text_over_a_rule_or_other_text_fails_the_build(project_copy):
    sheet = project_copy / "styles/leaflet.css"
    sheet.write_text(sheet.read_text(encoding="utf-8")
                     + "\n.block + .block { margin-top: -6mm; }\n.block h2 { margin-bottom: -4mm; }\n",
                     encoding="utf-8")
    with pytest.raises(BuildError) as err:
        build(project_copy, products=("leaflet-parents",), variants=("screen",))
    message = str(err.value)
    assert "leaflet-parents / da / screen: page 2: text '" in message
    assert "runs into the top rule of section.block at" in message
    assert "leaflet-parents / da / screen: page 2: text 'Samarbejdet med forældrene' runs into text '" in message
