"""The catalogue (policyprint/catalogue.py): output/index.html, the institutions' pages, the filter
pages and the thumbnails, checked on the session's build and in a real browser (tests/browser.py)."""

from __future__ import annotations

import html
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from PIL import Image, ImageChops

import browser as chromium
from policyprint import build, catalogue
from policyprint.output import Output

ROOT = Path(__file__).resolve().parent.parent
# Every language the pack is built in (a strings file each) has a policy.html.
LANGS = sorted(p.stem for p in (ROOT / "content" / "strings").glob("*.yaml"))


def manifest(output: Path) -> dict:
    return json.loads((output / "manifest.json").read_text(encoding="utf-8"))


def pdf_entries(output: Path) -> list[dict]:
    return [a for a in manifest(output)["artifacts"] if not a.get("stale")]


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[tuple[str, str]] = []   # (tag, url)
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.links.append((tag, value))

    def handle_data(self, data):
        self.text.append(data)


def parse(path: Path) -> Links:
    parser = Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def site_pages(output: Path) -> list[Path]:
    return sorted(output / s["path"] for s in manifest(output)["site"] if s["path"].endswith(".html"))


@pytest.fixture(scope="module")
def output(built) -> Path:
    return built / "output"


# ---- what the build writes ------------------------------------------------------------------


def test_catalogue_lists_every_file_with_its_facts_and_how_to_print(output):
    index = (output / "index.html").read_text(encoding="utf-8")
    assert '<html lang="da" dir="ltr">' in index
    assert "Content-Security-Policy" in index and "default-src 'none'" in html.unescape(index)
    text = " ".join(" ".join(parse(output / "index.html").text).split())
    assert "Sådan udskriver du: A4, begge sider, vend på den korte kant, 100 %, fold." in text
    assert "Sådan udskriver du: Udskriv begge ark i 100 %, klip ved mærkerne, og læg dem over hinanden." in text
    # The print condition comes from content/print.yaml.
    assert "Sådan udskriver du: Til trykkeriet: PDF/X-4, FOGRA39, 3 mm tilfald." in text
    general = [a for a in pdf_entries(output) if not a["institution"]]
    for entry in general:
        assert f'href="{entry["path"]}"' in index, entry["path"]
        assert f'src="thumbs/{entry["sha256"]}.png"' in index
    # Grouped by product: the policy first, then the leaflets, then the posters.
    headings = re.findall(r'<h2 id="p-([\w-]+)"', index)
    assert headings[:4] == ["policy", "leaflet-parents", "leaflet-staff", "leaflet-youth"]
    assert all(h.startswith("poster-") for h in headings[4:])
    assert sorted(headings) == sorted({a["product"] for a in general})
    policy = re.search(r'href="da/policy.screen.pdf".*?</li>', index, re.S).group(0)
    assert "<dd>12</dd>" in policy and "<dd>A4</dd>" in policy and "Godkendt" in policy
    booklet = re.search(r'href="da/leaflet-parents.booklet.pdf".*?</li>', index, re.S).group(0)
    assert "<dd>A4 liggende</dd>" in booklet
    # A translation's status says why it is a draft: its entries, from the manifest.
    [arabic] = [a for a in general if a["path"] == "ar/leaflet-parents.screen.pdf"]
    counts = arabic["translation"]
    assert arabic["status"] == "draft" and counts["draft"] + counts["stale"] > 0 and counts["missing"] == 0
    card = re.search(r'href="ar/leaflet-parents.screen.pdf".*?</li>', index, re.S).group(0)
    assert (f"Kladde: {counts['draft']} af {counts['entries']} oversatte tekster er kladder, {counts['stale']} er "
            f"forældede (content/translations/ar.yaml)") in html.unescape(card)
    assert "translation" not in next(a for a in general if a["path"] == "da/policy.screen.pdf")


def test_each_institution_has_a_page_with_its_own_files(output):
    page = output / "institutions" / "eksempel-klub" / "index.html"
    text = page.read_text(encoding="utf-8")
    own = [a["path"] for a in pdf_entries(output) if a["institution"] == "eksempel-klub"]
    assert own and all(f'href="../../{rel}"' in text for rel in own)
    assert 'href="../../da/policy.screen.pdf"' not in text   # only its own files
    assert "Klub Eksempel (eksempel)" in text and "Sådan udskriver du" in text
    assert 'href="institutions/eksempel-klub/index.html"' in (output / "index.html").read_text(encoding="utf-8")


def test_filters_are_pages_of_their_own(output):
    """Filtering needs no JavaScript: each language, audience and kind is a static page."""
    leaflets = (output / "filter" / "kind-leaflet.html").read_text(encoding="utf-8")
    assert 'href="../da/leaflet-youth.screen.pdf"' in leaflets and "poster-" not in leaflets.split("<main")[1]
    parents = (output / "filter" / "audience-parents.html").read_text(encoding="utf-8")
    main = parents.split("<main")[1]
    assert "leaflet-parents.screen.pdf" in main and "leaflet-staff" not in main and "policy.screen" not in main
    assert re.search(r'<a href="../filter/audience-parents.html"[^>]* aria-current="page">', parents)
    assert (output / "filter" / "lang-da.html").is_file()
    assert "<script" not in leaflets


def test_every_link_and_image_resolves_and_every_pdf_is_linked(output):
    """Over the whole site: the catalogue's pages and every language's web edition."""
    pages = site_pages(output)
    web = {f"{lang}/{name}.html" for lang in LANGS for name in ("policy", "leaflet-parents", "leaflet-staff",
                                                                  "leaflet-youth")}
    assert web <= {p.relative_to(output).as_posix() for p in pages}
    linked = set()
    for page in pages:
        for tag, url in parse(page).links:
            parts = urlsplit(url)
            if tag == "a" and parts.scheme in ("https", "mailto"):
                continue   # a link the reader may follow (the publisher's web site, e-mail): not a request
            assert not parts.scheme and not parts.netloc, f"{page.name}: {tag} loads {url} from elsewhere"
            if not parts.path:
                assert f'id="{parts.fragment}"' in page.read_text(encoding="utf-8"), f"{page.name}: {url}"
                continue   # an anchor on the same page
            target = (page.parent / unquote(parts.path)).resolve()
            assert target.is_file(), f"{page.relative_to(output)}: {tag} {url} does not resolve"
            assert target.is_relative_to(output.resolve())
            linked.add(target.relative_to(output.resolve()).as_posix())
    missing = [a["path"] for a in pdf_entries(output) if a["path"] not in linked]
    assert missing == []
    assert web <= linked and {"web.css", "catalogue.js"} <= linked   # each web page is linked, and what pages load


def test_each_thumbnail_is_its_pdfs_first_page(output):
    import pypdfium2 as pdfium

    for entry in pdf_entries(output):
        thumb = Image.open(output / "thumbs" / f"{entry['sha256']}.png").convert("RGB")
        document = pdfium.PdfDocument(str(output / entry["path"]))
        page = document[0]
        fresh = page.render(scale=thumb.width / page.get_size()[0]).to_pil().convert("RGB")
        page.close()
        document.close()
        assert fresh.size == thumb.size, entry["path"]
        assert ImageChops.difference(fresh, thumb).getbbox() is None, entry["path"]


def test_unchanged_files_are_neither_rendered_nor_written_again(built, tmp_path, monkeypatch):
    """A copy of the session's build: a build after an edit that changes no PDF renders no thumbnail
    and rewrites no catalogue file; a changed PDF gets a new thumbnail and its old one goes."""
    root = tmp_path / "copy"
    shutil.copytree(built, root, symlinks=True)
    output = root / "output"
    before = {p: p.stat().st_mtime_ns for p in output.rglob("*") if p.suffix in (".html", ".png", ".css")}
    rendered = []
    real = catalogue.thumbnail_png
    monkeypatch.setattr(catalogue, "thumbnail_png", lambda path, *a: rendered.append(path) or real(path, *a))
    with (root / "content" / "site.yaml").open("a", encoding="utf-8") as f:
        f.write("\n# an edit that changes no file\n")
    build(root, institutions=("eksempel-klub",))
    assert rendered == []
    assert {p: p.stat().st_mtime_ns for p in before} == before
    # A PDF whose bytes change gets a new thumbnail (named by its new checksum); the old one goes.
    from policyprint.project import load_project

    out = Output.open(root, "test")
    rel = "da/poster-vision.screen.pdf"
    old = out.entries[rel]["sha256"]
    other = output / "da/poster-begreber.screen.pdf"
    shutil.copyfile(other, output / rel)
    new = "0" * 64   # as if built: the thumbnail is named by the manifest's checksum
    out.entries[rel] = {**out.entries[rel], "sha256": new}
    written = catalogue.write_catalogue(load_project(root), out)
    assert rendered == [output / rel]
    assert f"thumbs/{new}.png" in written and "index.html" in written
    begreber = out.entries["da/poster-begreber.screen.pdf"]["sha256"]
    assert (output / "thumbs" / f"{new}.png").read_bytes() == (output / "thumbs" / f"{begreber}.png").read_bytes()
    assert not (output / "thumbs" / f"{old}.png").exists()
    assert f"thumbs/{old}.png" not in [s["path"] for s in manifest(output)["site"]]


def test_a_cold_build_renders_no_page_and_keeps_each_version_to_compare_with(project_copy):
    """The proofing view renders pages only to compare two versions: a cold build renders none and
    keeps each PDF (a hard link) under .cache/pages/<sha256>/. A kept file whose bytes do not have
    its folder's checksum (.cache is not trusted) is never rendered: its pages count as changed."""
    import os

    from policyprint import proof

    build(project_copy, products=("poster-vision",), langs=("da",), variants=("screen",))
    output, pages = project_copy / "output", project_copy / proof.PAGES_DIR
    [entry] = [e for e in pdf_entries(output) if e["path"] == "da/poster-vision.screen.pdf"]
    kept = pages / entry["sha256"] / "source.pdf"
    assert os.path.samefile(kept, output / entry["path"])
    assert sorted(p.name for p in pages.rglob("*") if p.is_file()) == ["source.pdf"]
    # Someone puts another file in its place: it is not rendered, and every page of the new version
    # counts as changed (none is known to be the same).
    kept.unlink()
    kept.write_bytes((output / "da/poster-vision.screen.pdf").read_bytes() + b"%")
    assert proof.page_images(project_copy, entry["sha256"]) is None
    posters = project_copy / "content" / "posters.yaml"
    posters.write_text(posters.read_text(encoding="utf-8").replace(
        "title: Fællesskaber for alle – Alle i fællesskab", "title: Fællesskaber for alle – Alle i fællesskab!", 1),
        encoding="utf-8")
    build(project_copy, products=("poster-vision",), langs=("da",), variants=("screen",))
    [entry] = [e for e in pdf_entries(output) if e["path"] == "da/poster-vision.screen.pdf"]
    assert entry["changed_pages"] == [1]
    # A version folder that is a link elsewhere is refused, never written through.
    elsewhere = project_copy.parent / "elsewhere"
    elsewhere.mkdir()
    from policyprint.output import OutputRefused

    (pages / ("f" * 64)).symlink_to(elsewhere)
    with pytest.raises(OutputRefused, match="is a symbolic link"):
        proof.keep(project_copy, output / entry["path"], "f" * 64)
    assert list(elsewhere.iterdir()) == []
    state = json.loads((project_copy / proof.STATE).read_text(encoding="utf-8"))
    [change] = state["changes"]
    assert change["pages"] == [{"page": 1, "box": [0, 0, *Image.open(pages / entry["sha256"] / "1.png").size]}]
    assert not (pages / change["before"] / "1.png").exists()


# ---- in a real browser (one Chromium for the session: conftest.py `browser`) ------------------------

PAGES = ["index.html", "institutions/eksempel-klub/index.html", "filter/kind-leaflet.html", "da/leaflet-staff.html",
         "ar/leaflet-parents.html", "changes.html"] + [f"{lang}/policy.html" for lang in LANGS]


def open_page(browser, output: Path, rel: str) -> list[dict]:
    """Load output/rel from file:// (as an unzipped archive would be); the console's errors on the way
    (a blocked request, a missing file) are returned."""
    browser.get_log("browser")   # clear what earlier pages left
    rel, _, fragment = rel.partition("#")
    browser.get((output / rel).as_uri() + (f"#{fragment}" if fragment else ""))
    browser.execute_script("return document.readyState")
    return [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]


@pytest.mark.parametrize("rel", PAGES)
def test_axe_finds_no_violations_and_nothing_is_blocked(browser, output, rel):
    assert (output / rel).is_file(), rel
    errors = open_page(browser, output, rel)
    assert errors == [], f"{rel}: the browser reported {errors}"
    assert browser.execute_script("return document.styleSheets.length") == 1   # web.css loaded
    images = browser.execute_script(
        "return [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)")
    assert images == [], f"{rel}: images that did not load"
    violations = chromium.axe_violations(browser)
    assert violations == [], f"axe-core on {rel}:\n{chromium.describe(violations)}"


@pytest.mark.parametrize("width", [320, 375, 1280])
@pytest.mark.parametrize("rel", ["index.html", "institutions/eksempel-klub/index.html", "changes.html",
                                 "da/policy.html", "ar/policy.html"])
def test_screenshots_fit_the_width(browser, output, rel, width, tmp_path_factory):
    """Screenshots at a phone's and a desktop's width (kept in the test's folder: look at them);
    nothing is wider than the window (no sideways scrolling)."""
    open_page(browser, output, rel)
    name = f"{rel.replace('/', '_')}.{width}.png"
    shot = chromium.screenshot(browser, width, screenshot_folder(tmp_path_factory) / name)
    image = Image.open(shot)
    assert image.width == width and image.height > 600
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": width < 600})
    try:
        wide = browser.execute_script(
            "const w = document.documentElement.clientWidth;"
            "return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w + 1)"
            ".map(e => e.tagName + '.' + e.className).slice(0, 5)")
        assert wide == [], f"{rel} at {width} px: wider than the window: {wide}"
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def screenshot_folder(tmp_path_factory) -> Path:
    """One folder for the session's screenshots (pytest's basetemp/screenshots: look at them)."""
    folder = tmp_path_factory.getbasetemp() / "screenshots"
    folder.mkdir(exist_ok=True)
    return folder


FOCUSABLE = "a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex='-1'])"


@pytest.mark.parametrize("rel", ["index.html", "institutions/eksempel-klub/index.html", "da/policy.html",
                                 "ar/policy.html", "ar/leaflet-parents.html"])
def test_keyboard_reaches_every_link_in_order_with_a_visible_focus(browser, output, rel):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    open_page(browser, output, rel)
    expected = browser.execute_script(
        f"return [...document.querySelectorAll(\"{FOCUSABLE}\")].map(e => e.outerHTML.slice(0, 120))")
    assert len(expected) > 5
    reached, unseen = [], []
    for _ in expected:
        ActionChains(browser).send_keys(Keys.TAB).perform()
        focused = browser.execute_script(
            "const e = document.activeElement, s = getComputedStyle(e);"
            "const r = e.getBoundingClientRect();"
            "return [e.outerHTML.slice(0, 120), s.outlineStyle, parseFloat(s.outlineWidth),"
            " r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0]")
        reached.append(focused[0])
        if focused[1] == "none" or focused[2] < 2 or not focused[3]:
            unseen.append(focused[0])
    assert reached == expected
    assert unseen == [], f"{rel}: focused without a visible focus: {unseen[:3]}"
    # The skip link comes first and leads to the main content.
    assert 'class="skip"' in expected[0] and 'href="#indhold"' in expected[0]


@pytest.mark.parametrize("rel", ["ar/policy.html", "ar/leaflet-parents.html"])
def test_arabic_pages_are_laid_out_right_to_left(browser, output, rel):
    """`lang` and `dir` on html; the page runs right to left, and the contents and the PDF links start at
    the column's right edge, as a Danish page's start at its left; the logo (a picture) stays as drawn."""
    open_page(browser, output, rel)
    assert browser.execute_script("return [document.documentElement.lang, document.documentElement.dir]") == \
        ["ar", "rtl"]
    layout = browser.execute_script("""
        const box = e => e.getBoundingClientRect(), nav = document.querySelector('nav.toc');
        const column = box(nav), cs = getComputedStyle(nav);
        const inner = [column.left + parseFloat(cs.paddingLeft), column.right - parseFloat(cs.paddingRight)];
        return {direction: getComputedStyle(document.body).direction, inner: inner,
                main: getComputedStyle(document.querySelector('main')).direction,
                headings: [...nav.querySelectorAll('h2')].map(e => [box(e).left, box(e).right]),
                links: [...nav.querySelectorAll('li a')].map(a => [box(a).left, box(a).right]),
                logo: getComputedStyle(document.querySelector('.logo')).direction}""")
    assert layout["direction"] == "rtl" and layout["main"] == "rtl" and layout["logo"] == "ltr"
    left, right = layout["inner"]
    # The headings span the column; each link starts at its right edge (past the list's number) and ends
    # far from the left one.
    assert all(abs(h_right - right) <= 1 for _, h_right in layout["headings"]), layout
    assert all(abs(a_right - right) < 40 and a_left > left + 100 for a_left, a_right in layout["links"]), layout
    # The skip link shows at the top right when it has the focus.
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    ActionChains(browser).send_keys(Keys.TAB).perform()
    skip = browser.execute_script("const r = document.activeElement.getBoundingClientRect();"
                                  "return [document.activeElement.className, r.left, r.right, innerWidth]")
    assert skip[0] == "skip" and skip[2] > skip[3] - 40 and skip[1] > skip[3] / 2, skip


def test_a_danish_page_starts_at_the_left(browser, output):
    """The same measure on a left-to-right page: what the Arabic test sees is the direction, not the layout."""
    open_page(browser, output, "da/policy.html")
    left = browser.execute_script("""
        const nav = document.querySelector('nav.toc'), c = nav.getBoundingClientRect();
        const inner = c.left + parseFloat(getComputedStyle(nav).paddingLeft);
        return [...nav.querySelectorAll('li a')].every(a => Math.abs(a.getBoundingClientRect().left - inner) < 40)""")
    assert left is True


# ---- the filters, with JavaScript and without ------------------------------------------------------


def shown_files(browser) -> list[str]:
    """The files the open catalogue page shows (hidden ones left out), as paths inside output/."""
    return browser.execute_script(
        "return [...document.querySelectorAll('main .file-link')].filter(a => a.getClientRects().length > 0)"
        ".map(a => a.getAttribute('href').replace(/^(\\.\\.\\/)+/, ''))")


def filter_page(output: Path, slug: str) -> tuple[list[str], str, str]:
    """A filter page as the build wrote it: its files (paths inside output/), its h1 and its count."""
    page = (output / "filter" / f"{slug}.html").read_text(encoding="utf-8")
    main = page.split("<main", 1)[1]
    files = [href.removeprefix("../") for href in re.findall(r'<a class="file-link" href="([^"]+)"', main)]
    h1 = html.unescape(re.search(r"<h1>(.*?)</h1>", page).group(1))
    count = html.unescape(re.search(r'<p class="count"[^>]*>(.*?)</p>', page).group(1))
    return files, h1, count


def test_filters_work_in_place_with_javascript(browser, output):
    """index.html runs catalogue.js (its own file, allowed by the CSP, no inline script): each filter
    link shows, on the same page, exactly the files of its filter page, with its heading and count;
    the address keeps the choice for the back button; "all" shows everything again."""
    index = (output / "index.html").read_text(encoding="utf-8")
    csp = html.unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', index).group(1))
    assert "script-src 'self'" in csp and "unsafe" not in csp
    assert re.findall(r"<script[^>]*>", index) == ['<script src="catalogue.js" defer>']
    assert (output / "catalogue.js").read_bytes() == (ROOT / "templates" / "web" / "catalogue.js").read_bytes()
    assert "<script" not in (output / "filter" / "lang-ar.html").read_text(encoding="utf-8")
    assert open_page(browser, output, "index.html") == []   # the script loaded from file://: nothing blocked
    everything = shown_files(browser)
    slugs = browser.execute_script("return [...document.querySelectorAll('nav.filters a[data-field]')]"
                                   ".map(a => a.dataset.slug)")
    assert len(slugs) >= 8 and "lang-ar" in slugs and "audience-parents" in slugs and "kind-poster" in slugs
    from selenium.webdriver.common.by import By

    for slug in slugs:
        browser.find_element(By.CSS_SELECTOR, f'nav.filters a[data-slug="{slug}"]').click()
        files, h1, count = filter_page(output, slug)
        assert browser.current_url == (output / "index.html").as_uri() + f"#{slug}"
        assert shown_files(browser) == files, slug
        assert browser.find_element(By.TAG_NAME, "h1").text == h1
        assert browser.find_element(By.CSS_SELECTOR, "main .count").text == count
        current = browser.find_elements(By.CSS_SELECTOR, 'nav.filters a[aria-current="page"]')
        assert [a.get_attribute("data-slug") for a in current] == [slug]
    browser.back()   # the previous choice again
    assert browser.current_url.endswith(f"#{slugs[-2]}") and shown_files(browser) == filter_page(output, slugs[-2])[0]
    browser.find_element(By.CSS_SELECTOR, 'nav.filters a[data-slug=""]').click()
    assert shown_files(browser) == everything and browser.current_url == (output / "index.html").as_uri()
    # A bookmark of a choice opens with it; the keyboard's Enter works as a click.
    open_page(browser, output, "index.html#lang-en")
    assert shown_files(browser) == filter_page(output, "lang-en")[0]
    from selenium.webdriver.common.keys import Keys

    browser.find_element(By.CSS_SELECTOR, 'nav.filters a[data-slug="kind-leaflet"]').send_keys(Keys.ENTER)
    assert shown_files(browser) == filter_page(output, "kind-leaflet")[0]


def test_filter_links_work_without_javascript(browser, output):
    """With scripts off, a filter link opens its own page, which shows its files and marks itself."""
    from selenium.webdriver.common.by import By

    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        open_page(browser, output, "index.html")
        browser.find_element(By.CSS_SELECTOR, 'nav.filters a[data-slug="lang-ar"]').click()
        assert browser.current_url == (output / "filter" / "lang-ar.html").as_uri()
        links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "main .file-link")]
        assert links and all("/output/ar/" in href for href in links)
        current = browser.find_elements(By.CSS_SELECTOR, 'nav.filters a[aria-current="page"]')
        assert [a.get_attribute("data-slug") for a in current] == ["lang-ar"]
        browser.find_element(By.CSS_SELECTOR, 'nav.filters a[data-slug="kind-poster"]').click()
        assert browser.current_url == (output / "filter" / "kind-poster.html").as_uri()
        assert all("/poster-" in a.get_attribute("href")
                   for a in browser.find_elements(By.CSS_SELECTOR, "main .file-link"))
    finally:
        browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})


# ---- the proofing view: what the last build changed -----------------------------------------------


def test_changed_pages_are_found_recorded_and_shown(built, tmp_path, browser, tmp_path_factory):
    """An edit to one poster's title: its screen file's page 1 changes, within the title's area;
    changes.html shows it before and after (and passes axe); the manifest records changed_pages;
    a build that changes nothing keeps that record."""
    root = tmp_path / "copy"
    shutil.copytree(built, root, symlinks=True)
    posters = root / "content" / "posters.yaml"
    text = posters.read_text(encoding="utf-8")
    posters.write_text(text.replace("title: Fællesskaber for alle – Alle i fællesskab",
                                    "title: Fællesskaber for alle – Alle i fællesskab!", 1), encoding="utf-8")
    build(root, products=("poster-vision",), variants=("screen",))
    output = root / "output"
    rel = "da/poster-vision.screen.pdf"
    entries = {a["path"]: a for a in manifest(output)["artifacts"]}
    assert entries[rel]["changed_pages"] == [1]
    # The translations of the title turn stale: their files are built again (the stale ids are in
    # their HTML), and no page of theirs looks different.
    assert [a["path"] for a in entries.values() if a.get("changed_pages")] == [rel]
    assert {a["path"] for a in entries.values() if a.get("changed_pages") == []} == \
        {f"{lang}/poster-vision.screen.pdf" for lang in ("en", "uk", "ar")}
    proof = json.loads((root / ".cache" / "proof.json").read_text(encoding="utf-8"))
    [change] = [c for c in proof["changes"] if c["pages"]]
    box = change["pages"][0]["box"]
    assert change["path"] == rel and box[3] < 80   # the title is at the top of the page, not the list
    page = (output / "changes.html").read_text(encoding="utf-8")
    before, after = f"changes/{change['before']}-1.png", f"changes/{change['after']}-1.png"
    assert f'src="{before}"' in page and f'src="{after}"' in page and f'href="{rel}"' in page
    assert ImageChops.difference(Image.open(output / before).convert("RGB"),
                                 Image.open(output / after).convert("RGB")).getbbox() is not None
    # The outline is drawn around the changed area.
    assert Image.open(output / after).convert("RGB").getpixel((max(box[0] - 3, 0), box[1])) == (204, 0, 0)
    errors = open_page(browser, output, "changes.html")
    assert errors == []
    violations = chromium.axe_violations(browser)
    assert violations == [], f"axe-core on changes.html:\n{chromium.describe(violations)}"
    for width in (375, 1280):   # the view with a change in it (the session's build has none): look at it
        shot = chromium.screenshot(browser, width, screenshot_folder(tmp_path_factory) / f"changes-shown.{width}.png")
        assert Image.open(shot).width == width
    (root / "content" / "site.yaml").open("a", encoding="utf-8").write("\n# no change\n")
    build(root, products=("poster-vision",), variants=("screen",))
    assert (output / "changes.html").read_text(encoding="utf-8") == page
