"""An institution's copy of a leaflet lays out only its own pages (cover and back) and joins
them with the generic inside spread: the same bytes as a full render, tags included."""

from __future__ import annotations

import hashlib

from policyprint import build
from policyprint.runner import JobRunner

LEAFLETS = ("leaflet-parents", "leaflet-staff", "leaflet-youth")


def digests(root) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((root / "output").rglob("*.pdf"))}


def test_a_split_institution_leaflet_is_byte_identical_to_a_full_render(tmp_path, monkeypatch):
    from conftest import copy_project

    split_root, full_root = copy_project(tmp_path / "split"), copy_project(tmp_path / "full")
    selection = dict(products=LEAFLETS, institutions=("eksempel-klub", "eksempel-skole"), jobs=1)
    calls = []
    real = JobRunner.split_layout

    def counting(self, job):
        calls.append(job)
        return real(self, job)

    monkeypatch.setattr(JobRunner, "split_layout", counting)
    build(split_root, **selection)
    assert len(calls) == 2 * 3 * 2   # two institutions, three leaflets, screen and print (booklet reuses screen)
    monkeypatch.setattr(JobRunner, "split", False)
    build(full_root, **selection)
    split, full = digests(split_root), digests(full_root)
    assert len(split) == 3 * 3 + 2 * 3 * 3   # generic and two institutions' leaflets, three variants each
    assert split == full


def test_personal_pages_that_do_not_lay_out_as_planned_fall_back_to_a_full_render(project_copy):
    path = project_copy / "content/institutions.yaml"
    text = path.read_text(encoding="utf-8")
    # An institution name so long that the cover runs onto a second page: the full render names the fault.
    long_name = "Institutionen med et meget langt navn " * 5
    path.write_text(text.replace("name: Klub Eksempel (eksempel)", f"name: {long_name.strip()}"), encoding="utf-8")
    from policyprint.errors import BuildError
    import pytest

    with pytest.raises(BuildError) as err:
        build(project_copy, products=("leaflet-parents",), variants=("screen",), institutions=("eksempel-klub",),
              only_institutions=True)
    assert "leaflet-parents / da / screen / institution eksempel-klub:" in str(err.value)


def test_institution_posters_sharing_the_fitted_size_are_byte_identical_to_their_own_fit(tmp_path, monkeypatch):
    from conftest import copy_project

    shared_root, own_root = copy_project(tmp_path / "shared"), copy_project(tmp_path / "own")
    selection = dict(products=("poster-vision", "poster-arbejdsform", "poster-sammenhaeng"),
                     variants=("screen", "print"), institutions=("eksempel-klub", "eksempel-skole"), jobs=1)
    build(shared_root, **selection)
    monkeypatch.setattr(JobRunner, "split", False)   # each institution's poster searches its own size
    build(own_root, **selection)
    shared, own = digests(shared_root), digests(own_root)
    assert len(shared) == 3 * 2 * 3
    assert shared == own
