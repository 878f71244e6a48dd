"""Content from many hands cannot harm: each test is one attack, with its own payload.

The payloads come from an attack on a copy of the project (issue 9). Each
runs the real CLI in a subprocess, bounded in time and memory, so an attack
that hangs or eats memory fails the test instead of the machine.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import ROOT

LIMIT_S = 60            # generous: the refusals take well under a second
LIMIT_BYTES = 3 << 30   # 3 GiB of address space for the CLI process


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))


def cli(root: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run `policyprint --root ROOT ARGS` with ROOT first on sys.path, as build.py in a project has it."""
    code = ("import sys; sys.path.insert(0, sys.argv.pop(1)); "
            "from policyprint.cli import main; main()")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code, str(root), "--root", str(root), *args],
                          cwd=cwd or root, env=env, capture_output=True, text=True, timeout=LIMIT_S,
                          preexec_fn=_limit_memory)


def line_of(path: Path, needle: str) -> int:
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return n
    raise AssertionError(needle)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def assert_no_traceback(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stderr, result.stderr


def pdf_bytes_everywhere(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted((root / "output").rglob("*.pdf")))


# ---- 1. code execution -------------------------------------------------------------

def test_brand_yaml_cannot_name_code_to_import(project_copy):
    marker = project_copy / "pwned"
    (project_copy / "content/assets/evil_logo.py").write_text(
        f"open({str(marker)!r}, 'w').write('ran')\n", encoding="utf-8")
    brand = project_copy / "content/brand.yaml"
    edit(brand, "package: fontpkg_noto_sans,", "package: content.assets.evil_logo,")
    for command in (["check"], ["build", "--product", "leaflet-youth", "--variant", "screen"]):
        result = cli(project_copy, *command)
        assert not marker.exists(), f"{command}: the payload ran"
        assert result.returncode == 2, result.stderr
        assert (f"content/brand.yaml:{line_of(brand, 'evil_logo')}: fonts.text.package: expected one of "
                "fontpkg_noto_sans, fontpkg_noto_sans_arabic, fontpkg_ibm_plex_sans_arabic, got 'content.assets.evil_logo'") in result.stderr


def test_a_stdlib_module_as_font_package_is_a_content_error(project_copy):
    brand = project_copy / "content/brand.yaml"
    edit(brand, "package: fontpkg_noto_sans,", "package: os,")
    result = cli(project_copy, "check")
    assert_no_traceback(result)
    assert result.returncode == 2
    assert f"content/brand.yaml:{line_of(brand, 'package: os')}: fonts.text.package: expected one of " \
           "fontpkg_noto_sans, fontpkg_noto_sans_arabic, fontpkg_ibm_plex_sans_arabic, got 'os'" in result.stderr


def test_the_font_family_must_be_the_one_its_package_ships(project_copy):
    brand = project_copy / "content/brand.yaml"
    edit(brand, "family: Noto Sans}", "family: Noto Sans Arabic}")
    result = cli(project_copy, "check")
    assert result.returncode == 2
    assert (f"content/brand.yaml:{line_of(brand, 'text: {package')}: fonts.text.family: expected 'Noto Sans', "
            "the family fontpkg_noto_sans ships, got 'Noto Sans Arabic'") in result.stderr


# ---- 6. brand values go into CSS only as values of their type ----------------------------

JS_LINK = "</style><a href='javascript:app.alert(1)' style='position:fixed;inset:0'>x</a><style>"


def test_a_type_size_cannot_inject_markup(project_copy):
    brand = project_copy / "content/brand.yaml"
    edit(brand, "body-a5: 9pt", f'body-a5: "9pt; }} {JS_LINK}"')
    result = cli(project_copy, "build", "--product", "leaflet-youth", "--variant", "screen")
    assert result.returncode == 2, result.stderr
    assert (f"content/brand.yaml:{line_of(brand, 'body-a5:')}: type.body-a5: expected a length such as "
            f"10pt or 4mm, got \"9pt; }} {JS_LINK}\"") in result.stderr
    assert b"javascript" not in pdf_bytes_everywhere(project_copy)


def test_a_colour_role_key_cannot_inject_markup(project_copy):
    brand = project_copy / "content/brand.yaml"
    key = "accent;} " + JS_LINK
    edit(brand, "  paper:  ", f'  "{key}": {{rgb: "#ffffff", cmyk: [0, 0, 0, 0]}}\n  paper:  ')
    result = cli(project_copy, "build", "--product", "leaflet-youth", "--variant", "screen")
    assert result.returncode == 2, result.stderr
    assert (f"content/brand.yaml:{line_of(brand, 'accent;}')}: colours.{key}: expected a key of lower-case "
            f"letters, digits and '-' (a role such as accent-dark), got {key[:80]!r}") in result.stderr
    assert b"javascript" not in pdf_bytes_everywhere(project_copy)


def test_the_renderer_serialises_brand_values_by_type_even_unchecked(project_copy):
    """Defence in depth: a value that bypassed `check` is refused, not pasted."""
    from policyprint.project import load_project
    from policyprint.render import Renderer

    project = load_project(project_copy)
    project.data("brand")["type"]["body-a5"] = "9pt; } </style><a href='javascript:x'>"
    with pytest.raises(ValueError, match=r"refused to put .* into CSS: expected a length"):
        Renderer(project).tokens_css("screen")
    project.data("brand")["type"]["body-a5"] = "9pt"
    project.data("brand")["colours"]["text"]["rgb"] = "red; } </style>"
    with pytest.raises(ValueError, match="expected a colour"):
        Renderer(project).tokens_css("screen")


# ---- 7. content in CSS strings -----------------------------------------------------------

def test_css_strings_escape_everything_that_could_end_them():
    from policyprint.render import css_str

    hostile = 'Titel\f} body { display: none } @page { @top-left { content: "pwned" } }\n\r"\'\\</style>'
    escaped = str(css_str(hostile))
    for raw in ("\f", "\n", "\r", '"', "'", "<", ">"):
        assert raw not in escaped, repr(raw)
    assert escaped.count("\\") == len(re.findall(r"\\[0-9A-F]+ ", escaped))   # every backslash starts an escape
    assert escaped.startswith("Titel\\C } body")


def test_a_form_feed_in_a_poster_title_is_refused(project_copy):
    posters = project_copy / "content/posters.yaml"
    edit(posters, "    title: Dannelse · læring · trivsel\n",
         '    title: "Dannelse\\f} .poster-body { display: none } @page { @top-left { content: \\"x\\" } }"\n')
    result = cli(project_copy, "build", "--product", "poster-begreber", "--variant", "screen")
    assert result.returncode == 2, result.stderr
    line = line_of(posters, "Dannelse\\f}")
    assert (f"content/posters.yaml:{line}: posters[4].title: the invisible control character U+000C is not "
            "allowed in content; delete it") in result.stderr


# ---- 8. e-mail addresses and format strings -------------------------------------------------

def test_an_email_cannot_become_a_hostile_mailto_link(project_copy):
    institutions = project_copy / "content/institutions.yaml"
    payload = 'x"><a/href=javascript:alert(1)>@evil.dk?subject=Hej&body=se.dk'
    edit(institutions, "email: klubben@eksempel.dk", f"email: '{payload}'")
    result = cli(project_copy, "build", "--product", "leaflet-parents", "--institution", "eksempel-klub",
                 "--variant", "screen")
    assert result.returncode == 2, result.stderr
    assert (f"content/institutions.yaml:{line_of(institutions, 'evil.dk')}: institutions[2].email: expected an "
            f"e-mail address such as navn@ballerup.dk, got {payload!r}") in result.stderr
    assert b"evil.dk" not in pdf_bytes_everywhere(project_copy)


@pytest.mark.parametrize("payload, shown", [
    ("QR-kode {url.__class__.__mro__}", "{url.__class__.__mro__}"),
    ("QR-kode {0}", "{0}"),
    ("QR-kode {url!r:>9999}", "{url!r:>9999}"),
])
def test_strings_take_only_their_named_placeholders(project_copy, payload, shown):
    strings = project_copy / "content/strings/da.yaml"
    edit(strings, 'qr_alt: "QR-kode, der linker til hele Børne- og Ungepolitikken på {url}"',
         f'qr_alt: "{payload}"')
    result = cli(project_copy, "build", "--product", "leaflet-youth", "--variant", "screen")
    assert_no_traceback(result)
    assert result.returncode == 2, result.stderr
    assert (f"content/strings/da.yaml:{line_of(strings, 'qr_alt')}: qr_alt: unknown placeholder {shown} "
            "(this text takes {url})") in result.stderr
    assert not (project_copy / "output/da/leaflet-youth.screen.pdf").exists()


def test_fill_never_reaches_into_objects():
    from policyprint.render import fill

    assert fill("på {url}", url="https://ballerup.dk") == "på https://ballerup.dk"
    assert fill("{{url}} {url}", url="x") == "{url} x"
    for template in ("{url.__class__}", "{url[0]}", "{0}", "{}", "{url!r}", "{url:>99}"):
        with pytest.raises(ValueError, match="unknown placeholder"):
            fill(template, url="https://ballerup.dk")


# ---- 9. language codes name output folders ---------------------------------------------------

def test_a_strings_file_cannot_name_a_folder_outside_output(project_copy):
    strings = project_copy / "content/strings"
    (strings / "...yaml").write_text((strings / "da.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    result = cli(project_copy, "build", "--product", "leaflet-parents", "--variant", "screen")
    assert result.returncode == 2, result.stderr
    assert ("content/strings/...yaml:1: '..' is not a language code listed in content/languages.yaml (da, en, uk, ar); "
            "rename the file or add the language there") in result.stderr
    assert not list(project_copy.glob("*.pdf")) and not (project_copy / "output").exists()


# ---- 12. alias bombs -----------------------------------------------------------------------

ALIAS_BOMB = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{b}: &{b} [{', '.join(['*' + a] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi"))

CONTENT_FILES = ["policy.yaml", "site.yaml", "products.yaml", "brand.yaml", "hyphenation.yaml", "leaflets.yaml",
                 "institutions.yaml", "posters.yaml", "print.yaml", "languages.yaml", "strings/da.yaml"]


@pytest.mark.parametrize("name", CONTENT_FILES)
def test_an_alias_bomb_is_refused_at_once(project_copy, name):
    (project_copy / "content" / name).write_text(ALIAS_BOMB, encoding="utf-8")
    result = cli(project_copy, "check")
    assert result.returncode == 2, result.stderr
    assert (f"content/{name}:1: anchors and aliases (&name, *name) are not allowed in content; "
            "write the value out in full") in result.stderr


# ---- 13. size limits -------------------------------------------------------------------------

def test_a_50_mb_institution_name_is_refused(project_copy):
    institutions = project_copy / "content/institutions.yaml"
    edit(institutions, "name: Klub Eksempel (eksempel)", "name: " + "K" * 50_000_000)
    size = institutions.stat().st_size
    result = cli(project_copy, "build", "--institution", "eksempel-klub")
    assert result.returncode == 2, result.stderr[:500]
    assert (f"content/institutions.yaml:1: the file is {size:,} bytes; a content file may have at most "
            "1,000,000") in result.stderr


def test_a_long_name_is_refused_by_its_kind(project_copy):
    institutions = project_copy / "content/institutions.yaml"
    edit(institutions, "name: Klub Eksempel (eksempel)", "name: " + "K" * 5000)
    result = cli(project_copy, "check")
    assert result.returncode == 2
    assert (f"content/institutions.yaml:{line_of(institutions, 'KKKK')}: institutions[2].name: expected at "
            "most 200 characters, got 5,000") in result.stderr


def test_deep_nesting_is_refused(project_copy):
    site = project_copy / "content/site.yaml"
    site.write_text("publisher: " + "[" * 10_000 + "]" * 10_000 + "\n", encoding="utf-8")
    result = cli(project_copy, "check")
    assert_no_traceback(result)
    assert result.returncode == 2
    assert "content/site.yaml:1: nested more than 32 levels deep" in result.stderr


def test_a_fifo_content_file_is_refused_without_waiting(project_copy):
    site = project_copy / "content/site.yaml"
    site.unlink()
    os.mkfifo(site)
    result = cli(project_copy, "check")
    assert result.returncode == 2
    assert "content/site.yaml:1: not a regular file (a folder, device, pipe or socket)" in result.stderr


def test_a_content_file_linked_to_dev_zero_is_refused(project_copy):
    site = project_copy / "content/site.yaml"
    site.unlink()
    site.symlink_to("/dev/zero")
    result = cli(project_copy, "check")
    assert result.returncode == 2
    assert "content/site.yaml:1: not a regular file (a folder, device, pipe or socket)" in result.stderr


# ---- 14. no quadratic work ---------------------------------------------------------------------

MARKUP_PAYLOADS = '["*a " * 350_000, "[" * 1_000_000, "](" * 500_000, "**a " * 250_000, "[a](https://x " * 70_000, ' \
                  '"*" * 1_000_000]'


def test_inline_markup_is_parsed_in_linear_time():
    """1 MB of each markup character the old regular expressions backtracked on, in a bounded process."""
    code = ("import sys; from policyprint.project import load_project; from policyprint.render import Renderer\n"
            "typo = Renderer(load_project(sys.argv[1])).typeset\n"
            f"for text in {MARKUP_PAYLOADS}:\n"
            "    html = str(typo(text))\n"
            "    assert len(html) >= len(text), len(html)\n"
            "print('ok')\n")
    result = subprocess.run([sys.executable, "-c", code, str(ROOT)], capture_output=True, text=True,
                            timeout=LIMIT_S, preexec_fn=_limit_memory, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.stdout.strip() == "ok", result.stderr


def test_markup_still_means_what_it_says():
    from policyprint.markup import render_inline

    assert render_inline("**Dannelse** handler om") == "<strong>Dannelse</strong> handler om"
    assert render_inline("se *her* og [siden](https://ballerup.dk).") == \
        'se <em>her</em> og <a href="https://ballerup.dk">siden</a>.'
    assert render_inline("2 * 3 * 4 <b>&") == "2 * 3 * 4 &lt;b&gt;&amp;"
    assert render_inline("[x](javascript:alert(1))") == "[x](javascript:alert(1))"
    assert render_inline("**uafsluttet *også") == "**uafsluttet *også"


def test_a_poster_far_too_long_fails_before_any_layout(project_copy):
    """Within the content caps (1 MB a file, 100 paragraphs a block), a poster of about 900,000
    characters: the fit gives up before laying it out, where it used to lay out thousands of pages."""
    posters = project_copy / "content/posters.yaml"
    paragraph = "Alle boern og unge skal have mulighed for at deltage i faellesskaber. " * 55
    block = "      - text:\n" + f'          - "{paragraph}"\n' * 80
    edit(posters, "      - text:\n", block * 3 + "      - text:\n")
    result = cli(project_copy, "build", "--product", "poster-begreber", "--variant", "screen")
    assert result.returncode == 1, result.stderr
    assert (f"content/posters.yaml:{line_of(posters, '- id: begreber') + 3}: posters[4].blocks: poster 'begreber' "
            "does not fit on one page even at the brand's minimum type size (18.0 pt at this size)") in result.stderr


def test_a_poster_cannot_quote_thousands_of_items(project_copy):
    policy = project_copy / "content/policy.yaml"
    items = "".join(f"          - id: extra-{i}\n            text: Et løfte mere.\n" for i in range(10_000))
    edit(policy, "        items:\n", "        items:\n" + items)
    result = cli(project_copy, "check")
    assert result.returncode == 2
    assert re.search(r"content/policy\.yaml:\d+: sections\[\d+\]\.lists\[0\]\.items: expected at most 50 "
                     r"item\(s\), got 10,0\d\d", result.stderr), result.stderr
