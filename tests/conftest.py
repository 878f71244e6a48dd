"""Shared fixtures: a copy of the project built once per session, and PDF text helpers."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from hypothesis import settings
from pypdf import PdfReader

from policyprint.fonts import use_project_fonts

# Before any test loads WeasyPrint: rendering sees the brand fonts only, never the machine's.
use_project_fonts()

# Property-based tests (tests/test_fuzz.py). `make test` runs "quick": derandomised, so a run
# is repeatable, and small. `make fuzz` runs "fuzz" (--hypothesis-profile=fuzz): 10,000 random examples.
# Neither keeps an example database: nothing is written into the checkout.
settings.register_profile("quick", max_examples=300, derandomize=True, database=None, print_blob=True)
settings.register_profile("fuzz", max_examples=10_000, database=None, print_blob=True)
settings.load_profile("quick")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PROJECT_DIRS = ("content", "templates", "styles")

FOOTER_RE = re.compile(r"^.*Side \d+ af \d+\s*$", re.M)


def copy_project(dest: Path, languages: bool = False) -> Path:
    """Copy the project's inputs (not its output) to `dest` and return it.

    Without `languages`, the copy is the Danish pack only (no translations, no other
    strings files): most tests edit the Danish and build, and a new Danish text would
    leave the translated files failing on a missing entry, as they should. The
    languages are tested on full copies (tests/test_languages.py, the `built` fixture).
    """
    for name in PROJECT_DIRS:
        shutil.copytree(ROOT / name, dest / name)
    if not languages:
        shutil.rmtree(dest / "content" / "translations", ignore_errors=True)
        for strings in (dest / "content" / "strings").glob("*.yaml"):
            if strings.stem != "da":
                strings.unlink()
    # The FOGRA39 profile `make` builds (content/print.yaml names it).
    shutil.copytree(ROOT / ".cache" / "icc", dest / ".cache" / "icc")
    return dest


@pytest.fixture
def project_copy(tmp_path) -> Path:
    return copy_project(tmp_path / "project")


@pytest.fixture
def languages_copy(tmp_path) -> Path:
    """A copy with every language and its translations."""
    return copy_project(tmp_path / "project", languages=True)


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """A project copy with the default build done once, for all read-only PDF tests."""
    from policyprint import build

    root = copy_project(tmp_path_factory.mktemp("built"), languages=True)
    build(root, institutions=("eksempel-klub",))
    return root


def page_texts(pdf: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(pdf).pages]


def flow_text(pdf: Path) -> str:
    """The document's running text: footers removed, automatic hyphenation undone,
    typographic quotes made plain, white space folded."""
    pages = [FOOTER_RE.sub("", text) for text in page_texts(pdf)]
    return normalise("\n".join(pages))


def normalise(text: str) -> str:
    # An automatic hyphen at a line (or page) end: it extracts as U+002D (policyprint.structure),
    # and a real hyphen never ends a line before a lower-case word ("Børne- og" is kept together).
    text = re.sub("[\u2010-]\\s*\n\\s*(?=[a-zæøå])", "", text)
    text = text.replace("\u00ad", "")     # soft hyphens from content/hyphenation.yaml
    text = re.sub(r"[»«“”„]", '"', text)
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """One headless Chromium for the whole session (tests/browser.py); `make` installs it."""
    import browser as chromium

    if chromium.missing():
        pytest.fail(f"the browser tests need {', '.join(chromium.missing())}: run `make`")
    driver = chromium.start(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield driver
    finally:
        driver.quit()
