"""Assets from content/: where they may live, what they may be, and SVG logos made safe to inline.

Content comes from many hands, so a logo is untrusted input:

- its path must name a regular file inside content/ (no `..`, no absolute path,
  no symlink that leads out of content/);
- its format is sniffed from its bytes (SVG, PNG or JPEG), never taken from its name;
- a raster's pixel size is read from its header with Pillow, never by decoding it,
  and a size above MAX_PIXELS is refused (no decompression bombs);
- an SVG is parsed as XML with defusedxml (no DOCTYPE, no entities), kept to an
  allow-list of elements and attributes, its links kept inside the file, its
  <image>s kept to PNG/JPEG files inside content/, and serialised again: nothing
  the XML does not hold (such as HTML after </svg>) survives;
- a PNG or JPEG logo is placed as an <img>: the file itself on screen, and for
  press files its colours converted to CMYK through the output-intent profile.

`check` runs the same code as the renderer, so a logo that passes `check`
renders, and one that fails is reported with its content file and line.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import io
import os
import re
import stat
from pathlib import Path
from urllib.parse import unquote, urlparse
from xml.etree import ElementTree as ET

MAX_ASSET_BYTES = 10_000_000           # a logo file, or an image it places
MAX_PIXELS = 25_000_000                # 5000 × 5000: far above a logo's needs at 300 ppi
MAX_SVG_ELEMENTS = 20_000
MAX_SVG_DEPTH = 64

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"
XHTML_NS = "http://www.w3.org/1999/xhtml"

# The SVG elements a logo may use. Anything else in the SVG (or no) namespace is refused.
ELEMENTS = {
    "svg", "g", "defs", "symbol", "use", "title", "desc", "path", "rect", "circle", "ellipse", "line",
    "polyline", "polygon", "text", "tspan", "textPath", "linearGradient", "radialGradient", "stop",
    "clipPath", "mask", "pattern", "image",
}
TEXT_ELEMENTS = {"text", "tspan", "textPath", "title", "desc"}
# Elements editors write that carry nothing visible: dropped, not refused.
DROPPED = {"metadata"}
WHY_REFUSED = {
    "script": "scripts never run",
    "foreignObject": "it would put HTML into the page",
    "style": "its rules would style the whole page; use presentation attributes such as fill",
    "a": "a logo carries no links",
}

# The attributes a logo may use (presentation and geometry). Unknown ones are dropped;
# event handlers (on…) are refused.
ATTRIBUTES = {
    "id", "x", "y", "width", "height", "viewBox", "preserveAspectRatio", "version", "d", "cx", "cy", "r",
    "rx", "ry", "x1", "y1", "x2", "y2", "fx", "fy", "points", "transform", "fill", "fill-opacity",
    "fill-rule", "stroke", "stroke-width", "stroke-linecap", "stroke-linejoin", "stroke-miterlimit",
    "stroke-dasharray", "stroke-dashoffset", "stroke-opacity", "opacity", "color", "display", "visibility",
    "font-family", "font-size", "font-weight", "font-style", "font-stretch", "text-anchor",
    "dominant-baseline", "alignment-baseline", "baseline-shift", "letter-spacing", "word-spacing",
    "text-decoration", "dx", "dy", "rotate", "textLength", "lengthAdjust", "startOffset", "offset",
    "stop-color", "stop-opacity", "gradientUnits", "gradientTransform", "spreadMethod", "clip-path",
    "clipPathUnits", "clip-rule", "mask", "maskUnits", "maskContentUnits", "patternUnits",
    "patternContentUnits", "patternTransform", "style", "overflow",
}
_ID = re.compile(r"[A-Za-z_][\w.-]*")
_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.I | re.S)
_HEX = re.compile(r"#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")
# A style attribute holds declarations only: no at-rules, escapes, comments or markup.
_STYLE_BAD = re.compile(r"[@\\<>{}]|/\*|expression|behavior|-moz-binding", re.I)

RASTER_FORMATS = {"png": "PNG", "jpeg": "JPEG"}


class AssetError(ValueError):
    """An asset that may not be used, with the reason in the user's terms."""


# ---- paths and bytes ----------------------------------------------------------

def content_file(root: Path, rel: str, base: str = "") -> Path:
    """The regular file `rel` names inside content/ (relative to content/`base`), resolved.

    Raises AssetError when `rel` is absolute, leaves content/ (by `..` or by a
    symlink), does not exist, or is not a regular file.
    """
    content = (root / "content").resolve()
    shown = (Path(base) / rel).as_posix() if base else rel
    if not rel or Path(rel).is_absolute() or "\\" in rel or "\0" in rel:
        raise AssetError(f"expected a path relative to content/, got {rel!r}")
    lexical = Path(os.path.normpath(content / base / rel))
    if not lexical.is_relative_to(content):
        raise AssetError(f"refused {shown!r}: it is outside content/ (assets must be files inside content/)")
    path = lexical.resolve()
    if not path.is_relative_to(content):
        raise AssetError(f"refused content/{lexical.relative_to(content).as_posix()}: it is a symlink "
                         f"to {path}, outside content/")
    shown = f"content/{lexical.relative_to(content).as_posix()}"
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise AssetError(f"file not found: {shown}") from None
    except OSError as exc:
        raise AssetError(f"cannot read {shown}: {exc.strerror}") from None
    if not stat.S_ISREG(mode):
        raise AssetError(f"expected a regular file, but {shown} is not one")
    return path


def read_file(path: Path, shown: str, limit: int = MAX_ASSET_BYTES) -> bytes:
    """Read a regular file, at most `limit` bytes: never blocks on a FIFO, never follows a last symlink."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise AssetError(f"cannot read {shown}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise AssetError(f"expected a regular file, but {shown} is not one")
        try:
            data = f.read(limit + 1)
        except OSError as exc:
            raise AssetError(f"cannot read {shown}: {exc.strerror}") from None
        if len(data) > limit:
            raise AssetError(f"{shown} is {max(st.st_size, len(data)) / 1e6:.1f} MB, above the limit of "
                             f"{limit / 1e6:g} MB")
        return data


def hash_input(h, path: Path) -> None:
    """Feed one input file into hash `h` without ever raising: an unreadable file hashes as its error.

    `check` reports such a file; the hash only has to differ from a readable one. A symlink
    hashes as its target's name, never its bytes: a target inside the folder is hashed under
    its own name, and one outside is no input (a logo that uses it is refused by `check`).
    """
    if path.is_symlink():
        h.update(b"\0symlink:" + os.fsencode(os.readlink(path)) + b"\0")
        return
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                h.update(b"\0not a regular file\0")
                return
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except OSError as exc:
        h.update(f"\0unreadable: {exc.strerror}\0".encode())


def unreadable_inputs(root: Path, folder: str = "content") -> list[tuple[str, str]]:
    """Files under `folder` a build would read but cannot: (path relative to root, reason)."""
    out = []
    for path in sorted((root / folder).rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        try:
            os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
        except OSError as exc:
            out.append((path.relative_to(root).as_posix(), exc.strerror or str(exc)))
    return out


# ---- formats --------------------------------------------------------------------

def sniff(data: bytes) -> str | None:
    """The asset's format from its first bytes: 'png', 'jpeg', 'svg', or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<") and b"<svg" in data[:65536]:
        return "svg"
    return None


def raster_size(data: bytes, fmt: str, shown: str) -> tuple[int, int]:
    """A PNG's or JPEG's pixel size, from its header (Pillow's plugin, without decoding any pixel),
    refused above MAX_PIXELS."""
    from PIL import JpegImagePlugin, PngImagePlugin

    plugin = {"png": PngImagePlugin.PngImageFile, "jpeg": JpegImagePlugin.JpegImageFile}[fmt]
    try:
        # The plugin class reads the header only; Image.open would also run Pillow's
        # decompression-bomb check, which warns or raises without naming the file.
        with plugin(io.BytesIO(data)) as image:
            width, height = image.size
    except Exception as exc:  # noqa: BLE001 - Pillow raises many kinds for a broken header
        raise AssetError(f"{shown} is not a valid {RASTER_FORMATS[fmt]} file ({exc})") from None
    if width * height > MAX_PIXELS:
        raise AssetError(f"{shown} is {width}×{height} pixels ({width * height / 1e6:.0f} megapixels), above "
                         f"the limit of {MAX_PIXELS / 1e6:.0f} megapixels: scale it down (a logo needs "
                         "about 1000 pixels across)")
    return width, height


def check_raster(data: bytes, shown: str) -> str:
    """Check that `data` is a PNG or JPEG of a sane size; return its format."""
    fmt = sniff(data)
    if fmt not in RASTER_FORMATS:
        raise AssetError(f"{shown} is not a PNG or JPEG image")
    raster_size(data, fmt, shown)
    return fmt


# ---- SVG ------------------------------------------------------------------------

def parse_svg(data: bytes, shown: str) -> ET.Element:
    """Parse SVG as XML with defusedxml: a DOCTYPE, entities and anything after </svg> are refused."""
    import defusedxml
    from defusedxml.ElementTree import fromstring

    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DTDForbidden:
        raise AssetError(f"{shown}: a DOCTYPE is not allowed in an SVG file") from None
    except (defusedxml.EntitiesForbidden, defusedxml.ExternalReferenceForbidden):
        raise AssetError(f"{shown}: entities are not allowed in an SVG file") from None
    except ET.ParseError as exc:
        raise AssetError(f"{shown}: not well-formed SVG (XML): {exc}") from None
    if _split(root.tag) != (SVG_NS, "svg"):
        raise AssetError(f"{shown}: expected an <svg> root element, got <{_split(root.tag)[1]}>")
    return root


def _split(name: str) -> tuple[str, str]:
    """'{ns}local' → (ns, local); a name without a namespace counts as SVG's."""
    if name.startswith("{"):
        ns, local = name[1:].split("}", 1)
        return ns, local
    return SVG_NS, name


class _Cleaner:
    """Rebuilds an SVG tree from its allowed parts, refusing what may not be in a logo."""

    def __init__(self, root: Path, base: str, shown: str, recolour=None, prefix: str = ""):
        self.root, self.base, self.shown = root, base, shown
        self.recolour = recolour or (lambda value: value)
        self.prefix = prefix
        self.count = 0

    def fail(self, message: str):
        raise AssetError(f"{self.shown}: {message}")

    def element(self, node: ET.Element, depth: int = 0) -> ET.Element | None:
        ns, local = _split(node.tag) if isinstance(node.tag, str) else ("", "")
        if not local:
            return None   # a comment or processing instruction
        if ns == XHTML_NS:
            self.fail(f"<{local}> is not allowed (HTML elements would become part of the page)")
        if ns != SVG_NS:
            return None   # an editor's own data (Inkscape, Illustrator, RDF): carries nothing visible
        if local in DROPPED:
            return None
        if local not in ELEMENTS:
            why = WHY_REFUSED.get(local, "it is not on the list of SVG elements a logo may use")
            self.fail(f"<{local}> is not allowed ({why})")
        self.count += 1
        if self.count > MAX_SVG_ELEMENTS or depth > MAX_SVG_DEPTH:
            self.fail(f"too large (more than {MAX_SVG_ELEMENTS} elements or {MAX_SVG_DEPTH} levels deep)")
        out = ET.Element(local)
        for name, value in node.attrib.items():
            kept = self.attribute(local, name, value)
            if kept is not None:
                out.set(*kept)
        text_here = local in TEXT_ELEMENTS
        if text_here and node.text:
            out.text = node.text
        for child in node:
            cleaned = self.element(child, depth + 1)
            if cleaned is not None:
                if text_here and child.tail:
                    cleaned.tail = child.tail
                out.append(cleaned)
            elif text_here and child.tail:  # keep the words after a dropped child
                if len(out):
                    out[-1].tail = (out[-1].tail or "") + child.tail
                else:
                    out.text = (out.text or "") + child.tail
        return out

    def attribute(self, element: str, name: str, value: str) -> tuple[str, str] | None:
        ns, local = _split(name) if name.startswith("{") else ("", name)
        if local.lower().startswith("on"):
            self.fail(f"the event attribute {local}= is not allowed on <{element}> (scripts never run)")
        if local == "href" and ns in ("", XLINK_NS):
            return "href", self.href(element, value.strip())
        if ns == XML_NS and local == "space":
            return "xml:space", value
        if ns or local not in ATTRIBUTES:
            return None   # unknown or an editor's attribute: dropped
        if local == "id":
            if not _ID.fullmatch(value):
                self.fail(f"id={value!r} is not a plain identifier")
            return "id", self.prefix + value
        if local == "style" and _STYLE_BAD.search(value):
            self.fail(f"style={value!r} is not allowed: a style attribute holds plain declarations only")
        return local, self.recolour(_URL.sub(lambda m: self.url_ref(element, local, m.group(2)), value))

    def url_ref(self, element: str, name: str, ref: str) -> str:
        ref = ref.strip()
        if not (ref.startswith("#") and _ID.fullmatch(ref[1:])):
            self.fail(f"<{element} {name}> refers to url({ref}); only references inside the file "
                      "(url(#id)) are allowed")
        return f"url(#{self.prefix}{ref[1:]})"

    def href(self, element: str, value: str) -> str:
        if value.startswith("#") and _ID.fullmatch(value[1:]):
            return f"#{self.prefix}{value[1:]}"
        if element != "image":
            self.fail(f"<{element}> links to {value!r}; only references inside the file (#id) are allowed")
        if value.lower().startswith("data:"):
            return self.data_image(value)
        parsed = urlparse(value)
        if parsed.scheme or parsed.netloc or value.startswith("/"):
            self.fail(f"<image> href={value!r} is refused: an image must be a PNG or JPEG file inside "
                      "content/, given relative to the SVG file")
        try:
            path = content_file(self.root, unquote(parsed.path), self.base)
            rel = path.relative_to((self.root / "content").resolve()).as_posix()
            check_raster(read_file(path, f"content/{rel}"), f"content/{rel}")
        except AssetError as exc:
            self.fail(f"<image href={value!r}>: {exc}")
        return path.as_uri()

    def data_image(self, value: str) -> str:
        match = re.fullmatch(r"data:image/(png|jpeg|jpg);base64,([A-Za-z0-9+/=\s]*)", value, re.I)
        if not match:
            self.fail("an <image> data: URL must be a base64 PNG or JPEG")
        try:
            data = base64.b64decode(re.sub(r"\s", "", match.group(2)), validate=True)
        except binascii.Error:
            self.fail("an <image> data: URL is not valid base64")
        fmt = check_raster(data, f"{self.shown}: an embedded <image>")
        return f"data:image/{fmt};base64,{base64.b64encode(data).decode()}"


def logo_fields(project) -> list[tuple[object, tuple, str]]:
    """Every logo the content names: (its source file, its key path, the path it gives)."""
    site = project.sources["site"]
    fields = [(site, ("publisher", "logo"), site.data["publisher"]["logo"])]
    src = project.sources["institutions"]
    fields += [(src, ("institutions", i, "logo"), inst["logo"])
               for i, inst in enumerate(src.data["institutions"]) if "logo" in inst]
    return fields


def _logo_shown(rel: str) -> str:
    return f"content/{rel}"


def load_logo(root: Path, rel: str) -> tuple[str, bytes]:
    """A logo's format and bytes, after checking its path, size and format."""
    path = content_file(root, rel)
    data = read_file(path, _logo_shown(rel))
    fmt = sniff(data)
    if fmt is None:
        raise AssetError(f"{_logo_shown(rel)} is not an SVG, PNG or JPEG file")
    return fmt, data


def check_logo(root: Path, rel: str) -> None:
    """Everything `check` asks of a logo; raises AssetError with the reason."""
    fmt, data = load_logo(root, rel)
    if fmt in RASTER_FORMATS:
        verify_raster(data, fmt, _logo_shown(rel))
    else:
        clean_svg(root, rel, data)


def verify_raster(data: bytes, fmt: str, shown: str) -> None:
    """A raster of a sane size whose data is really an image, checked without decoding it whole:
    a PNG's chunks and checksums (Pillow's verify), a JPEG decoded at 1/8 scale."""
    from PIL import Image, ImageFile

    raster_size(data, fmt, shown)
    lenient = ImageFile.LOAD_TRUNCATED_IMAGES   # WeasyPrint sets it on import: a truncated file must fail here
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with Image.open(io.BytesIO(data), formats=[RASTER_FORMATS[fmt]]) as image:
            if fmt == "png":
                image.verify()
            else:
                image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
                image.load()
    except Exception as exc:  # noqa: BLE001 - Pillow raises many kinds for broken data
        raise AssetError(f"{shown} is not a valid {RASTER_FORMATS[fmt]} file ({exc or type(exc).__name__})") \
            from None
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = lenient


def logo_markup(root: Path, rel: str, *, alt: str, css_class: str, colours: dict[str, str],
                default_fill: str, cmyk_profile: Path | None) -> str:
    """A logo's markup, safe to put into the HTML: an SVG inlined (see `inline_svg`), or a PNG
    or JPEG as an <img>. `cmyk_profile` is given for press files: a raster's colours are then
    converted to CMYK through it."""
    fmt, data = load_logo(root, rel)
    if fmt == "svg":
        return inline_svg(root, rel, data, alt=alt, css_class=css_class, colours=colours,
                          default_fill=default_fill, cmyk_profile=cmyk_profile)
    return raster_logo(root, rel, fmt, data, alt=alt, css_class=css_class, cmyk_profile=cmyk_profile)


def raster_logo(root: Path, rel: str, fmt: str, data: bytes, *, alt: str, css_class: str,
                cmyk_profile: Path | None) -> str:
    """A PNG or JPEG logo as an <img>: the file itself on screen; for press files its colours
    converted to CMYK through the output-intent profile, flattened onto white, as a JPEG
    (WeasyPrint embeds CMYK only from JPEG)."""
    from html import escape

    verify_raster(data, fmt, _logo_shown(rel))
    if cmyk_profile is None:
        src = content_file(root, rel).as_uri()
    else:
        src = "data:image/jpeg;base64," + base64.b64encode(to_cmyk_jpeg(data, cmyk_profile)).decode()
    return f'<img src="{escape(src)}" alt="{escape(alt)}" class="{escape(css_class)}">'


def to_cmyk_jpeg(data: bytes, profile: Path) -> bytes:
    """Raster bytes → a CMYK JPEG through `profile` (sRGB in, relative colorimetric with
    black-point compensation), transparency flattened onto white."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.load()
        if image.mode == "CMYK":
            cmyk = image.copy()
        else:
            rgba = image.convert("RGBA")
            rgb = Image.new("RGB", rgba.size, (255, 255, 255))
            rgb.paste(rgba, mask=rgba.getchannel("A"))
            cmyk = _rgb_to_cmyk(str(profile))(rgb)
    out = io.BytesIO()
    cmyk.save(out, "JPEG", quality=95, subsampling=0)
    return out.getvalue()


@functools.lru_cache(maxsize=256)
def hex_to_device_cmyk(hex_colour: str, profile: str) -> str:
    """#rrggbb → CSS device-cmyk() through `profile`, as a raster logo's pixels are converted."""
    from PIL import Image

    rgb = tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    c, m, y, k = _rgb_to_cmyk(profile)(Image.new("RGB", (1, 1), rgb)).getpixel((0, 0))
    return f"device-cmyk({c / 255:.3f} {m / 255:.3f} {y / 255:.3f} {k / 255:.3f})"


@functools.lru_cache(maxsize=4)
def _rgb_to_cmyk(profile: str):
    from PIL import ImageCms

    transform = ImageCms.buildTransform(
        ImageCms.createProfile("sRGB"), ImageCms.getOpenProfile(profile), "RGB", "CMYK",
        renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC, flags=ImageCms.Flags.BLACKPOINTCOMPENSATION)
    return lambda image: ImageCms.applyTransform(image, transform)


def clean_svg(root: Path, rel: str, data: bytes, recolour=None) -> ET.Element:
    """The logo's SVG tree rebuilt from its allowed parts, its ids prefixed so they cannot
    collide with the page's own anchors."""
    shown = _logo_shown(rel)
    tree = parse_svg(data, shown)
    prefix = "logo-" + hashlib.sha256(data).hexdigest()[:8] + "-"
    return _Cleaner(root, str(Path(rel).parent), shown, recolour, prefix).element(tree)


def inline_svg(root: Path, rel: str, data: bytes, *, alt: str, css_class: str, colours: dict[str, str],
               default_fill: str, cmyk_profile: Path | None = None) -> str:
    """A logo as inline SVG markup, safe to put into the HTML.

    A hex colour equal to a brand role's RGB (a key of `colours`) becomes that
    role's colour for the variant. For press files (`cmyk_profile` given) any
    other hex colour is converted to CMYK through the output-intent profile, the
    same transform as a raster logo's. The root gets an explicit fill (SVG's
    default black would be written as RGB), role="img", and a <title> with `alt`.
    """
    def colour(hex_colour: str) -> str:
        hex_colour = hex_colour.lower()
        if len(hex_colour) == 4:   # #abc is #aabbcc
            hex_colour = "#" + "".join(c * 2 for c in hex_colour[1:])
        if hex_colour in colours or cmyk_profile is None:
            return colours.get(hex_colour, hex_colour)
        return hex_to_device_cmyk(hex_colour, str(cmyk_profile))

    def recolour(value: str) -> str:
        return _HEX.sub(lambda m: colour(m.group(0)), value)

    svg = clean_svg(root, rel, data, recolour)
    for old in [child for child in svg if child.tag == "title"]:
        svg.remove(old)
    kept = dict(svg.attrib)
    svg.attrib.clear()
    svg.attrib.update({"xmlns": SVG_NS, "role": "img", "class": css_class, "fill": default_fill})
    svg.attrib.update({k: v for k, v in kept.items() if k not in ("role", "class", "fill")})
    title = ET.Element("title")
    title.text = alt
    svg.insert(0, title)
    return ET.tostring(svg, encoding="unicode", short_empty_elements=True)
