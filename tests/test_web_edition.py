"""The web edition (policyprint/web.py): output/<lang>/policy.html from the same content and typesetter
as the PDF. In the browser it is checked by tests/test_catalogue.py (axe, screenshots, keyboard, links)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from policyprint.render import dashes


class Outline(HTMLParser):
    """The page's landmarks, headings (level, text), ids, and the text of the whole page."""

    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.headings: list[list] = []
        self.ids: set[str] = set()
        self.text: list[str] = []
        self._heading = None
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = [int(tag[1]), ""]
            self.headings.append(self._heading)

    def handle_endtag(self, tag):
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = None

    def handle_data(self, data):
        self.text.append(data)
        if self._heading is not None:
            self._heading[1] += data


@pytest.fixture(scope="module")
def page(built) -> tuple[Path, str, Outline]:
    path = built / "output" / "da" / "policy.html"
    html = path.read_text(encoding="utf-8")
    outline = Outline()
    outline.feed(html)
    return path, html, outline


def test_semantic_outline(page, built):
    _, html, outline = page
    assert html.startswith("<!DOCTYPE html>") and '<html lang="da" dir="ltr">' in html
    for tag in ("header", "nav", "main", "footer"):
        assert outline.tags.count(tag) == 1, tag
    assert "script" not in outline.tags and " style=" not in html   # no scripts, no inline styles (CSP)
    levels = [level for level, _ in outline.headings]
    assert levels.count(1) == 1 and levels[0] == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:])), f"a heading level skipped: {levels}"
    assert re.search(r'<a class="skip" href="#indhold">', html) and 'id="indhold"' in html
    policy = yaml.safe_load((built / "content" / "policy.yaml").read_text(encoding="utf-8"))
    toc = re.search(r'<nav class="toc".*?</ol>', html, re.S).group(0)
    anchors = re.findall(r'href="#([^"]+)"', toc)
    assert anchors == [s["id"] for s in policy["sections"]]
    assert all(a in outline.ids for a in anchors)


def test_same_text_and_typography_as_the_pdf(page, built):
    _, html, outline = page
    text = re.sub(r"\s+", " ", "".join(outline.text).replace("\u00ad", ""))
    policy = yaml.safe_load((built / "content" / "policy.yaml").read_text(encoding="utf-8"))
    for section in policy["sections"]:
        for paragraph in section.get("lead", []) + section.get("body", []):
            expected = re.sub(r'"([^"]*)"', "»\\1«", dashes(paragraph)).replace("\u00a0", " ")
            assert re.sub(r"\s+", " ", expected) in text.replace("\u00a0", " ")
    assert "0–25 år" in text                       # the typesetter's en dash, as in the PDF
    assert "»Fællesskaber for alle" in text       # its quotes


def test_age_band_diagram_is_svg_with_title_desc_and_a_table(page, built):
    _, html, _ = page
    bands = yaml.safe_load((built / "content" / "policy.yaml").read_text(encoding="utf-8"))["age_bands"]
    svg = re.search(r"<svg role=\"img\" aria-labelledby=\"age-bands-title\".*?</svg>", html, re.S).group(0)
    assert f'<title id="age-bands-title">{bands["title"]}</title>' in svg
    desc = re.search(r'<desc id="age-bands-desc">(.*?)</desc>', svg).group(1)
    assert all(b["label"] in desc for b in bands["bands"])
    table = re.search(r'<table class="age-table">.*?</table>', html, re.S).group(0)
    rows = re.findall(r'<th scope="row">(.*?)</th><td>(.*?)</td>', table)
    assert [label for label, _ in rows] == [b["label"] for b in bands["bands"]]
    assert [ages for _, ages in rows if ages != "hele forløbet"] == [dashes(b["ages"]) for b in bands["bands"]
                                                                    if b["ages"]]
    assert html.index("</svg>") < html.index('<table class="age-table">')   # the table follows the diagram


def test_links_to_its_pdfs_and_back(page, built):
    path, html, _ = page
    for variant in ("screen", "booklet", "print"):
        assert f'href="policy.{variant}.pdf"' in html and (path.parent / f"policy.{variant}.pdf").is_file()
    assert 'href="../index.html"' in html
    assert 'href="da/policy.html"' in (built / "output" / "index.html").read_text(encoding="utf-8")


def test_each_leaflet_has_a_web_page_quoting_the_policy_by_id(built):
    """The staff leaflet's web page: its blocks quote the policy's lists by id, the diagram block
    gets its SVG and table, and it links to its PDFs, the whole policy and the catalogue."""
    output = built / "output"
    leaflets = yaml.safe_load((built / "content" / "leaflets.yaml").read_text(encoding="utf-8"))["leaflets"]
    policy = yaml.safe_load((built / "content" / "policy.yaml").read_text(encoding="utf-8"))
    items = {i["id"]: i["text"] for s in policy["sections"] for lst in s.get("lists", []) for i in lst["items"]}
    lists = {lst["id"]: lst for s in policy["sections"] for lst in s.get("lists", [])}
    for audience in ("parents", "staff", "youth"):
        html = (output / "da" / f"leaflet-{audience}.html").read_text(encoding="utf-8")
        outline = Outline()
        outline.feed(html)
        text = re.sub(r"\s+", " ", "".join(outline.text).replace("\u00ad", "")).replace("\u00a0", " ")
        assert [level for level, _ in outline.headings].count(1) == 1
        for block in leaflets[audience]["blocks"]:
            if "list" in block:
                for item in lists[block["list"]]["items"]:
                    assert re.sub(r"\s+", " ", dashes(item["text"])).replace("\u00a0", " ") in text
            for item_id in block.get("items", []):
                assert dashes(items[item_id]).replace("\u00a0", " ") in text
        for variant in ("screen", "booklet", "print"):
            assert f'href="leaflet-{audience}.{variant}.pdf"' in html
        assert 'href="policy.html"' in html and 'href="../index.html"' in html and " style=" not in html
    staff = (output / "da" / "leaflet-staff.html").read_text(encoding="utf-8")
    assert '<desc id="age-bands-desc">' in staff and '<table class="age-table">' in staff


def visible_text(html: str) -> str:
    """The page's text and the attributes a reader hears (alt, title, aria-label, meta content)."""
    class Text(HTMLParser):
        def __init__(self):
            super().__init__()
            self.parts: list[str] = []

        def handle_starttag(self, tag, attrs):
            self.parts += [v for k, v in attrs if k in ("alt", "title", "aria-label", "content") and v]

        def handle_data(self, data):
            self.parts.append(data)

    parser = Text()
    parser.feed(html)
    return re.sub(r"[\s\u00a0\u202f]+", " ", " ".join(parser.parts).replace("\u00ad", ""))


@pytest.mark.parametrize("lang", ["en", "uk", "ar"])
def test_a_translated_page_has_its_own_words_dates_and_quotes(built, lang):
    """No Danish leftovers: the date is Babel's for the page's locale, the fixed words are the
    language's strings file's (the PDFs' labels and facts too), and the quotes are the language's."""
    from babel.dates import format_date

    from policyprint.catalogue import format_name

    content = built / "content"
    da = yaml.safe_load((content / "strings" / "da.yaml").read_text(encoding="utf-8"))
    own = yaml.safe_load((content / "strings" / f"{lang}.yaml").read_text(encoding="utf-8"))
    language = next(entry for entry in yaml.safe_load((content / "languages.yaml").read_text(encoding="utf-8"))
                    ["languages"] if entry["code"] == lang)
    date = yaml.safe_load((content / "policy.yaml").read_text(encoding="utf-8"))["meta"]["date"]
    published = re.sub(r"[\s\u00a0\u202f]+", " ", format_date(date, format="long", locale=language["locale"]))
    entries = {a["path"]: a for a in json.loads((built / "output" / "manifest.json").read_text(encoding="utf-8"))
               ["artifacts"]}
    pages = sorted((built / "output" / lang).glob("*.html"))
    assert [p.stem for p in pages] == ["leaflet-parents", "leaflet-staff", "leaflet-youth", "policy"]
    for page in pages:
        html = page.read_text(encoding="utf-8")
        text = visible_text(html)
        assert f'<html lang="{lang}" dir="{language["dir"]}">' in html
        assert f"{own['published']} {published}" in text, page.name
        danish = [key for key, value in da.items() if value != own[key] and len(re.sub(r"\{\w+\}", "", value)) > 3
                  and any(len(part) > 3 and part in text for part in re.split(r"\{\w+\}", value))]
        assert danish == [], f"{lang}/{page.name}: Danish words of strings/da.yaml {danish}"
        assert not re.search(r"\b\d+\. (januar|februar|marts|april|maj|juni|juli|august|september|oktober|"
                             r"november|december)\b", text), page.name
        for variant in ("screen", "booklet", "print"):
            entry = entries[f"{lang}/{page.stem}.{variant}.pdf"]
            link = re.search(rf'<li><a href="{page.stem}\.{variant}\.pdf">(.*?)</a> \((.*?)\)</li>', html)
            assert link.group(1) == own[f"web_variant_{variant}"]
            facts = own["web_pdf_facts"].format(pages=entry["pages"], format=format_name(
                entry["trim_mm"], own["web_landscape"]), size="SIZE")
            shown = re.sub(r"</?bdi>", "", link.group(2)).replace("\u00a0", " ")   # the size is isolated
            assert re.fullmatch(re.escape(facts).replace("SIZE", r"\d+[^,،]*"), shown), shown
    # The typesetter is the language's: its quotation marks around the motto, not the Danish »…«.
    opening, closing = language["quotes"]
    motto = re.search(r'<p class="motto">(.*?)</p>', (built / "output" / lang / "policy.html").read_text(
        encoding="utf-8"), re.S).group(1)
    motto = re.sub(r"<(?!br)[^>]+>", "", motto)   # Arabic sets each guillemet as a box of its own (a <span>)
    assert motto.startswith(opening) and motto.endswith(closing), motto
