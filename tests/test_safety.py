"""Rendering stays inside the project: no files outside it, no network."""

from __future__ import annotations

import pytest

from policyprint import build
from policyprint.errors import BuildError, ContentError


def test_a_logo_outside_the_project_is_refused(project_copy, tmp_path):
    secret = tmp_path / "secret.svg"
    secret.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', encoding="utf-8")
    path = project_copy / "content/institutions.yaml"
    rel = "../../" + secret.name  # content/../../secret.svg: outside the project folder
    path.write_text(path.read_text(encoding="utf-8").replace("assets/eksempel-klub-logo.svg", rel),
                    encoding="utf-8")
    with pytest.raises(ContentError) as err:   # refused by the content check, before any render
        build(project_copy, products=("leaflet-parents",), institutions=("eksempel-klub",))
    assert f"refused '{rel}': it is outside content/ (assets must be files inside content/)" in str(err.value)
    assert not (project_copy / "output/da/institutions/eksempel-klub/leaflet-parents.screen.pdf").exists()


def test_the_network_is_refused(project_copy):
    css = project_copy / "styles/leaflet.css"
    css.write_text(css.read_text(encoding="utf-8") + '\n.kicker { background-image: url("https://tracker.example/p.gif"); }\n',
                   encoding="utf-8")
    with pytest.raises(BuildError) as err:
        build(project_copy, products=("leaflet-youth",))
    assert "refused to fetch https://tracker.example/p.gif: builds never reach the network" in str(err.value)


def test_content_markup_is_escaped(project_copy):
    from policyprint.project import load_project
    from policyprint.render import Renderer

    renderer = Renderer(load_project(project_copy))
    html = str(renderer.typeset('Se <script>alert(1)</script> og **vigtigt** "citat" [link](https://ballerup.dk)'))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<strong>vigtigt</strong>" in html and "»citat«" in html
    assert '<a href="https://ballerup.dk">link</a>' in html
