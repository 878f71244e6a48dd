"""Render stage, web medium: the policy as one accessible web page per language.

`output/<lang>/policy.html` (and `output/<lang>/<leaflet>.html`) comes from the same YAML, the same ids and the same
Typesetter (quotes, dashes, no-break spaces, hyphenation exceptions) as the PDF:
the job's context is `Renderer.context`, the template is `templates/web/<kind>.html.j2`
(next to `templates/<kind>.html.j2`), and the age-band diagram is the same macro,
made fit for a web page (no inline style, a <desc>, followed by the same data as a
table). No scripts; a Content-Security-Policy says that nothing outside the page's
own folder is loaded. The catalogue (policyprint/catalogue.py) writes the page
with its other files, after the build, and links to it.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from .plan import Job
from .project import Project

WEB_KINDS = ("policy", "leaflet")   # kinds of product with a web edition: output/<lang>/<product>.html
_STYLE_ATTR = re.compile(r'\s+style="[^"]*"')


def web_figure(svg: str, fig_id: str, title: str, desc: str) -> Markup:
    """An inline SVG from the PDF's diagram macros, for the web: no style attribute (the CSP allows
    none; CSS sizes it), the title and a description linked as its accessible name and description."""
    if "<svg" not in str(svg):
        return Markup(svg)   # a block without a figure
    svg = _STYLE_ATTR.sub("", str(svg), count=1)
    svg = svg.replace('<svg role="img"', f'<svg role="img" aria-labelledby="{fig_id}-title" '
                      f'aria-describedby="{fig_id}-desc"', 1)
    svg = re.sub(r"<title>.*?</title>", f'<title id="{fig_id}-title">{escape(title)}</title>'
                 f'<desc id="{fig_id}-desc">{escape(desc)}</desc>', svg, count=1, flags=re.S)
    return Markup(svg)


class WebEdition:
    """Turns a product and language into a web page, with the PDF renderer's context and filters."""

    def __init__(self, project: Project, renderer=None):
        from .render import Renderer

        self.project = project
        self.renderer = renderer or Renderer(project)
        self.renderer.env.filters["web_figure"] = web_figure

    def html(self, product: str, lang: str, csp: str, pdfs: list[dict]) -> str:
        from .render import dashes

        renderer = self.renderer
        # The typo filter sets the text with the renderer's current typesetter: the page's
        # language's (its quotes, its hyphenation), as Renderer.html does for a PDF; the
        # caller's is put back after (the catalogue renders on with the same renderer).
        with renderer.speaking(lang):
            context = renderer.context(Job(product, lang, "screen"))
            d = context["policy"]["age_bands"]
            s = context["s"]
            age_desc = f"{d['frame']}: " + "; ".join(
                f"{b['label']} ({dashes(b['ages']) if b['ages'] else s['web_no_ages']})" for b in d["bands"]) + \
                f". {d['motto']}."
            kind = self.project.product(product)["kind"]
            return renderer.env.get_template(f"web/{kind}.html.j2").render(
                context, csp=csp, pdfs=pdfs, age_desc=age_desc)
