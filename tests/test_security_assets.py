"""Issue 9, the assets: logos and the images they place can neither leak files, inject markup,
bomb memory nor fail only some jobs. Each test carries its own payload."""

from __future__ import annotations

import io
import os
import re
import shutil
import struct
import subprocess
import sys
import warnings
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT
from pypdf import PdfReader

from policyprint import build
from policyprint.cli import main
from policyprint.errors import ContentError
from policyprint.plan import Job
from policyprint.project import load_project

KLUB_LOGO = "assets/eksempel-klub-logo.svg"
SVG_OPEN = '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" viewBox="0 0 120 40">'
RECT = '<rect width="120" height="40" fill="#2e7d32"/>'
LEAFLET = Path("output/da/institutions/eksempel-klub")


def set_logo(project: Path, rel: str) -> int:
    """Give the club institution the logo `rel`; return the line of its `logo:` key."""
    path = project / "content/institutions.yaml"
    text = path.read_text(encoding="utf-8").replace(KLUB_LOGO, rel)
    path.write_text(text, encoding="utf-8")
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.strip().startswith("logo:"))


def write_logo(project: Path, svg: str, name: str = "evil.svg") -> int:
    (project / "content/assets" / name).write_text(svg, encoding="utf-8")
    return set_logo(project, f"assets/{name}")


def check(project: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--root", str(project), "check"])
    return result.exit_code, result.stderr


def logo_error(project: Path, line: int, message: str) -> str:
    code, stderr = check(project)
    assert code == 2, stderr
    expected = f"content/institutions.yaml:{line}: institutions[2].logo: {message}"
    assert expected in stderr.splitlines(), stderr
    return stderr


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares `width`×`height` pixels but holds one empty row: only its header is real."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * (width + 1)))
            + chunk(b"IEND", b""))


def small_png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), "#2e7d32").save(out, "PNG")
    return out.getvalue()


def uris(pdf: Path) -> list[str]:
    """Every link target in a PDF's annotations."""
    found = []
    for page in PdfReader(pdf).pages:
        for annot in page.get("/Annots") or []:
            action = annot.get_object().get("/A")
            if action is not None and "/URI" in action.get_object():
                found.append(str(action.get_object()["/URI"]))
    return found


# ---- point 2: the logo fence is content/, not the project root ------------------------

def test_a_logo_in_the_git_folder_is_refused_by_check_and_build(project_copy):
    (project_copy / ".git").mkdir()
    (project_copy / ".git/config").write_text("[remote]\n url = SECRET-GIT-CONFIG-7F3A\n", encoding="utf-8")
    line = set_logo(project_copy, "../.git/config")
    logo_error(project_copy, line,
               "refused '../.git/config': it is outside content/ (assets must be files inside content/)")
    with pytest.raises(ContentError):
        build(project_copy, products=("leaflet-parents",), institutions=("eksempel-klub",))
    assert not (project_copy / LEAFLET).exists()


def test_the_publisher_logo_is_fenced_to_content_too(project_copy):
    site = project_copy / "content/site.yaml"
    text = site.read_text(encoding="utf-8").replace("assets/wordmark.svg", "../styles/base.css")
    site.write_text(text, encoding="utf-8")
    line = next(n for n, l in enumerate(text.splitlines(), 1) if "logo:" in l)
    code, stderr = check(project_copy)
    assert code == 2
    assert (f"content/site.yaml:{line}: publisher.logo: refused '../styles/base.css': it is outside content/ "
            "(assets must be files inside content/)") in stderr.splitlines()


# ---- point 3: the ICC profile file joins the fence, never its folder -----------------

def test_the_profile_folder_is_not_readable_only_the_profile(project_copy, tmp_path):
    from weasyprint.urls import FatalURLFetchingError

    from policyprint.runner import JobRunner

    shop = tmp_path / "print-shop"
    shop.mkdir()
    profile = shop / "shop.icc"
    shutil.copy(project_copy / ".cache/icc/FOGRA39.icc", profile)
    secret = shop / "secret.svg"
    secret.write_text('<svg xmlns="http://www.w3.org/2000/svg"><text>SECRET-BESIDE-PROFILE</text></svg>',
                      encoding="utf-8")
    print_yaml = project_copy / "content/print.yaml"
    print_yaml.write_text(print_yaml.read_text(encoding="utf-8").replace("profile: FOGRA39", f"profile: {profile}"),
                          encoding="utf-8")
    fetcher = JobRunner(load_project(project_copy)).writer.url_fetcher
    response = fetcher.fetch(profile.as_uri())   # the profile itself is served
    assert response.read(40)[36:40] == b"acsp"
    response.close()
    with pytest.raises(FatalURLFetchingError, match=f"refused to read {secret}: outside the project"):
        fetcher.fetch(secret.as_uri())
    # And a logo that points there is refused by `check`, naming the logo's line.
    line = write_logo(project_copy, f'{SVG_OPEN}<image href="{secret.as_uri()}" width="9" height="9"/></svg>')
    logo_error(project_copy, line,
               f"content/assets/evil.svg: <image> href='{secret.as_uri()}' is refused: an image must be a PNG "
               "or JPEG file inside content/, given relative to the SVG file")


# ---- point 4: every asset path is checked in `check` ---------------------------------

@pytest.mark.parametrize("payload", ["absolute", "symlink", "directory", "fifo"])
def test_refused_logo_paths_fail_check(project_copy, payload):
    assets = project_copy / "content/assets"
    if payload == "absolute":
        rel, message = "/etc/passwd", "expected a path relative to content/, got '/etc/passwd'"
    elif payload == "symlink":
        (assets / "shadow.svg").symlink_to("/etc/shadow")
        rel, message = ("assets/shadow.svg",
                        "refused content/assets/shadow.svg: it is a symlink to /etc/shadow, outside content/")
    elif payload == "directory":
        (assets / "folder.svg").mkdir()
        rel, message = "assets/folder.svg", "expected a regular file, but content/assets/folder.svg is not one"
    else:
        os.mkfifo(assets / "pipe.svg")
        rel, message = "assets/pipe.svg", "expected a regular file, but content/assets/pipe.svg is not one"
    logo_error(project_copy, set_logo(project_copy, rel), message)


# ---- point 5: SVG logos are parsed, allow-listed and serialised again ----------------

AFTER_SVG = (f'{SVG_OPEN}{RECT}</svg><p>INJECTED</p><a href="javascript:app.alert(1)">js</a>'
             '<a href="file:///etc/passwd">file</a><a href="http://127.0.0.1:8000/phish">phish</a>')
SVG_PAYLOADS = {
    "html after </svg>": (AFTER_SVG, "content/assets/evil.svg: not well-formed SVG (XML): junk after document "
                                     f"element: line 1, column {len(SVG_OPEN) + len(RECT) + 6}"),
    "injected <p>": (f"{SVG_OPEN}{RECT}<p>INJECTED</p></svg>",
                     "content/assets/evil.svg: <p> is not allowed (it is not on the list of SVG elements a logo "
                     "may use)"),
    "@page <style>": (f'{SVG_OPEN}<style>@page {{ @top-center {{ content: "PWNED" }} }}</style>{RECT}</svg>',
                      "content/assets/evil.svg: <style> is not allowed (its rules would style the whole page; "
                      "use presentation attributes such as fill)"),
    "DOCTYPE with entities": ('<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
                              f'{SVG_OPEN}<text>&xxe;</text></svg>',
                              "content/assets/evil.svg: a DOCTYPE is not allowed in an SVG file"),
    "javascript link": (f'{SVG_OPEN}<a href="javascript:app.alert(1)">{RECT}</a></svg>',
                        "content/assets/evil.svg: <a> is not allowed (a logo carries no links)"),
    "script": (f"{SVG_OPEN}<script>alert(1)</script></svg>",
               "content/assets/evil.svg: <script> is not allowed (scripts never run)"),
    "onload": (SVG_OPEN.replace("<svg ", '<svg onload="alert(1)" ') + "</svg>",
               "content/assets/evil.svg: the event attribute onload= is not allowed on <svg> (scripts never run)"),
    "foreignObject": (f"{SVG_OPEN}<foreignObject><p>x</p></foreignObject></svg>",
                      "content/assets/evil.svg: <foreignObject> is not allowed (it would put HTML into the page)"),
    "use of another file": (f'{SVG_OPEN}<use href="file:///etc/passwd#x"/></svg>',
                            "content/assets/evil.svg: <use> links to 'file:///etc/passwd#x'; only references "
                            "inside the file (#id) are allowed"),
    "url() to the network": (f'{SVG_OPEN}<rect width="9" height="9" style="fill: url(http://127.0.0.1:8000/t)"/>'
                             "</svg>",
                             "content/assets/evil.svg: <rect style> refers to url(http://127.0.0.1:8000/t); only "
                             "references inside the file (url(#id)) are allowed"),
    "deep nesting": (SVG_OPEN + "<g>" * 10000 + "</g>" * 10000 + "</svg>",
                     "content/assets/evil.svg: too large (more than 20000 elements or 64 levels deep)"),
    "11 MB": (SVG_OPEN + "<!--" + "x" * 11_000_000 + "--></svg>",
              "content/assets/evil.svg is 11.0 MB, above the limit of 10 MB"),
    "HTML namespace": (f'{SVG_OPEN}<h:p xmlns:h="http://www.w3.org/1999/xhtml">INJECTED</h:p></svg>',
                       "content/assets/evil.svg: <p> is not allowed (HTML elements would become part of the page)"),
}


@pytest.mark.parametrize("name", SVG_PAYLOADS)
def test_unsafe_svg_logos_fail_check(project_copy, name):
    svg, message = SVG_PAYLOADS[name]
    logo_error(project_copy, write_logo(project_copy, svg), message)


def test_what_an_svg_editor_adds_is_dropped_and_never_reaches_the_pdf(project_copy):
    """Metadata and editor namespaces are legal SVG: they pass, but only the drawing is inlined.
    (Inlined raw, the <p> inside <metadata> broke out of the SVG into the page, link and all.)"""
    write_logo(project_copy, (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" '
        'width="120" height="40" viewBox="0 0 120 40" inkscape:version="1.3">'
        '<metadata><p>INJECTED-PARAGRAPH <a href="javascript:app.alert(1)">js</a> '
        '<a href="http://127.0.0.1:8000/phish">phish</a> <a href="file:///etc/passwd">file</a></p></metadata>'
        '<inkscape:page><p>INJECTED-TOO</p></inkscape:page>'
        f'{RECT}<text x="8" y="26" font-size="15" fill="#ffffff" data-name="x">KLUB</text></svg>'))
    assert check(project_copy) == (0, "")
    build(project_copy, products=("leaflet-parents",), variants=("screen", "print"),
          institutions=("eksempel-klub",))
    for variant in ("screen", "print"):
        pdf = project_copy / LEAFLET / f"leaflet-parents.{variant}.pdf"
        text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
        assert "KLUB" in text and "INJECTED" not in text
        assert not [u for u in uris(pdf) if u.startswith(("javascript:", "file:", "http://127."))], uris(pdf)


def test_a_logo_changed_after_check_is_still_sanitised_and_named(project_copy):
    """The renderer runs the same sanitiser: a logo swapped after `check` fails its jobs with file:line."""
    from policyprint.runner import JobRunner

    project = load_project(project_copy)
    line = next(n for n, l in enumerate((project_copy / "content/institutions.yaml").read_text(
        encoding="utf-8").splitlines(), 1) if KLUB_LOGO in l)
    (project_copy / "content" / KLUB_LOGO).write_text(AFTER_SVG, encoding="utf-8")
    result, pdf = JobRunner(project).run(Job("leaflet-parents", "da", "screen", "eksempel-klub"))
    assert not result.ok and pdf is None
    at = next(n for n, l in enumerate((project_copy / "templates/partials/blocks.html.j2").read_text(
        encoding="utf-8").splitlines(), 1) if "logo_svg(inst.logo" in l)
    assert result.errors == [
        f"templates/partials/blocks.html.j2:{at}: template error: AssetError: content/institutions.yaml:"
        f"{line}: institutions[2].logo: {SVG_PAYLOADS['html after </svg>'][1].replace('evil', 'eksempel-klub-logo')}"]


# ---- point 15: huge images are refused by `check`, from their header -----------------

@pytest.mark.parametrize("where", ["logo", "svg image"])
def test_huge_images_fail_check_without_a_bomb_warning(project_copy, where):
    assets = project_copy / "content/assets"
    if where == "logo":
        (assets / "huge.png").write_bytes(png_header(20000, 20000))
        line = set_logo(project_copy, "assets/huge.png")
        message = ("content/assets/huge.png is 20000×20000 pixels (400 megapixels), above the limit of 25 "
                   "megapixels: scale it down (a logo needs about 1000 pixels across)")
    else:
        (assets / "big.png").write_bytes(png_header(12000, 12000))
        line = write_logo(project_copy, f'{SVG_OPEN}<image href="big.png" width="120" height="40"/></svg>')
        message = ("content/assets/evil.svg: <image href='big.png'>: content/assets/big.png is 12000×12000 "
                   "pixels (144 megapixels), above the limit of 25 megapixels: scale it down (a logo needs "
                   "about 1000 pixels across)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        logo_error(project_copy, line, message)
    assert not [w for w in caught if "DecompressionBomb" in w.category.__name__]


def logo_png(mode: str = "RGBA", size=(480, 192)) -> bytes:
    """A logo at 400 ppi for its 30 mm: red on a transparent ground."""
    from PIL import Image, ImageDraw

    image = Image.new(mode, size, (0, 0, 0, 0) if mode == "RGBA" else "white")
    ImageDraw.Draw(image).rectangle((40, 40, size[0] - 40, size[1] - 40), fill=(200, 30, 40))
    out = io.BytesIO()
    image.save(out, "PNG" if mode == "RGBA" else "JPEG")
    return out.getvalue()


@pytest.mark.parametrize("name, data", [("logo.png", logo_png()), ("logo.jpg", logo_png("RGB"))])
def test_png_and_jpeg_logos_build_for_screen_and_press(project_copy, name, data):
    """Before, a PNG logo passed `check` and then failed with a UnicodeDecodeError in the template."""
    from policyprint import verapdf

    (project_copy / "content/assets" / name).write_bytes(data)
    set_logo(project_copy, f"assets/{name}")
    assert check(project_copy) == (0, "")
    report = build(project_copy, products=("leaflet-parents",), variants=("screen", "print"),
                   institutions=("eksempel-klub",))
    assert not report.failed   # press preflight included: no RGB, 300 ppi
    images = {}
    for variant in ("screen", "print"):
        page = PdfReader(project_copy / LEAFLET / f"leaflet-parents.{variant}.pdf").pages[3]
        xobjects = page["/Resources"]["/XObject"]
        images[variant] = sorted(str(x.get_object()["/ColorSpace"]) for x in xobjects.values()
                                 if x.get_object()["/Subtype"] == "/Image")
    assert images == {"screen": ["/DeviceRGB"], "print": ["/DeviceCMYK"]}
    screen = project_copy / LEAFLET / "leaflet-parents.screen.pdf"
    assert [(v.passed, v.failures) for v in verapdf.validate([screen], "ua1", cache=project_copy / ".cache")] \
        == [(True, [])]


def test_a_broken_png_logo_fails_check(project_copy):
    (project_copy / "content/assets/logo.png").write_bytes(logo_png()[:-20])   # cut inside its image data
    line = set_logo(project_copy, "assets/logo.png")
    logo_error(project_copy, line, "content/assets/logo.png is not a valid PNG file (Truncated File Read)")


def test_a_logo_that_is_no_image_fails_check(project_copy):
    logo_error(project_copy, write_logo(project_copy, "this is not an image\n", "notes.svg"),
               "content/assets/notes.svg is not an SVG, PNG or JPEG file")


# ---- point 16: a failed image fails every job ------------------------------------------

def test_a_missing_svg_image_fails_check(project_copy):
    line = write_logo(project_copy, f'{SVG_OPEN}<image href="missing.png" width="9" height="9"/></svg>')
    logo_error(project_copy, line,
               "content/assets/evil.svg: <image href='missing.png'>: file not found: content/assets/missing.png")


def test_an_image_missing_at_render_time_fails_every_job(project_copy):
    """The image vanishes after `check`: the screen job, the print job and the next job all fail."""
    from policyprint.runner import JobRunner

    (project_copy / "content/assets/pixel.png").write_bytes(small_png())
    write_logo(project_copy, f'{SVG_OPEN}<image href="pixel.png" width="120" height="40"/></svg>')
    runner = JobRunner(load_project(project_copy))
    (project_copy / "content/assets/pixel.png").unlink()
    jobs = [Job("leaflet-parents", "da", "screen", "eksempel-klub"),
            Job("leaflet-parents", "da", "print", "eksempel-klub"),
            Job("leaflet-staff", "da", "screen", "eksempel-klub")]
    results = [runner.run(job)[0] for job in jobs]
    assert [r.ok for r in results] == [False, False, False]
    assert all("file not found: content/assets/pixel.png" in r.errors[-1] for r in results)


def test_the_writer_never_caches_a_failed_image(tmp_path):
    from policyprint.pdf import PdfWriter

    writer = PdfWriter([tmp_path])
    missing = (tmp_path / "missing.png").as_uri()
    html = (f'<html lang="da"><title>t</title><body><p>x</p><svg width="10" height="10">'
            f'<image href="{missing}" width="10" height="10"/></svg></body></html>')
    errors = [writer.render(html, tmp_path, [], "screen").errors for _ in range(2)]
    assert errors[0] == errors[1] and errors[0][0].startswith(f"Failed to load image at '{missing}'")


# ---- point 17: unreadable inputs and refused URLs are named ----------------------------

def _without_root_powers() -> list[str]:
    """Run as root without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH, so that mode 000 really denies reading."""
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] if os.geteuid() == 0 else []


@pytest.mark.parametrize("command", ["check", "build"])
def test_an_unreadable_file_in_assets_is_named_not_a_traceback(project_copy, command):
    locked = project_copy / "content/assets/unused.png"
    locked.write_bytes(small_png())
    locked.chmod(0)
    args = ["--root", str(project_copy), command] + (["--product", "leaflet-youth"] if command == "build" else [])
    result = subprocess.run([*_without_root_powers(), sys.executable, str(ROOT / "build.py"), *args],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr
    assert ("content/assets/unused.png:1: cannot read the file (Permission denied): every file under content/ "
            "is an input of the build; make it readable or remove it") in result.stderr.splitlines()
    assert "Traceback" not in result.stderr


def test_a_refused_url_is_named_in_the_job_errors(tmp_path):
    from policyprint.pdf import PdfWriter

    html = ('<html lang="da"><title>t</title><body><p>x</p><svg width="10" height="10">'
            '<image href="file:///etc/passwd" width="10" height="10"/></svg></body></html>')
    errors = PdfWriter([tmp_path]).render(html, tmp_path, [], "screen").errors
    assert "refused to read /etc/passwd: outside the project" in errors


def test_a_refused_logo_url_names_the_institution_line(project_copy):
    line = write_logo(project_copy, f'{SVG_OPEN}<image href="file:///etc/passwd" width="9" height="9"/></svg>')
    logo_error(project_copy, line,
               "content/assets/evil.svg: <image> href='file:///etc/passwd' is refused: an image must be a PNG "
               "or JPEG file inside content/, given relative to the SVG file")


# ---- what stays: references inside the file, brand colours, the root's role and title --------

def test_a_clean_logo_keeps_its_inner_references_and_brand_colours(project_copy):
    from policyprint.render import Renderer

    write_logo(project_copy, (
        f'{SVG_OPEN}<defs><linearGradient id="g"><stop offset="0" stop-color="#2E7D32"/></linearGradient>'
        '<rect id="r" width="9" height="9"/></defs><rect width="120" height="40" fill="url(#g)"/>'
        '<use xlink:href="#r" xmlns:xlink="http://www.w3.org/1999/xlink"/><title>old</title></svg>'))
    renderer = Renderer(load_project(project_copy))
    svg = str(renderer.logo_svg("assets/evil.svg", "Klub & co", "institution-logo", "print"))
    prefix = re.search(r'id="(logo-[0-9a-f]{8}-)g"', svg).group(1)
    assert svg == (
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" class="institution-logo" '
        'fill="device-cmyk(0 0 0 1)" width="120" height="40" viewBox="0 0 120 40"><title>Klub &amp; co</title>'
        f'<defs><linearGradient id="{prefix}g"><stop offset="0" stop-color="device-cmyk(0.8 0.1 1 0.1)" />'
        f'</linearGradient><rect id="{prefix}r" width="9" height="9" /></defs>'
        f'<rect width="120" height="40" fill="url(#{prefix}g)" /><use href="#{prefix}r" /></svg>')
