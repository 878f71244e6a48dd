"""Writes and deletes stay inside output/, and touch only what this tool wrote (issue 9, points 9–11).

Each test is one attack with its own payload; each failed on the code before
policyprint/output.py (the old behaviour is in each docstring).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from policyprint import build
from policyprint.errors import PolicyprintError
from policyprint.plan import Job
from policyprint.runner import JobResult

from test_security import assert_no_traceback, cli


def _fake_render(monkeypatch, job: Job) -> None:
    """Plan exactly `job` and 'render' it to a small PDF, whatever its ids: only the write layer is tested."""
    b = sys.modules["policyprint.build"]   # the module: `policyprint.build` is the function

    monkeypatch.setattr(b, "plan", lambda project, *args, **kwargs: [job])
    monkeypatch.setattr(b.Keyer, "key", lambda self, job: "key")

    def run_jobs(project, jobs, workers):
        for j in jobs:
            yield JobResult(j, ok=True, pages=1), b"%PDF-1.7 crafted\n%%EOF\n"

    monkeypatch.setattr(b, "run_jobs", run_jobs)
    monkeypatch.setattr(b, "artifact", lambda project, result: {"path": result.job.path.as_posix()})


@pytest.mark.parametrize("job", [
    Job("../../escaped-product", "da", "screen"),
    Job("leaflet-parents", "../..", "screen"),
    Job("leaflet-parents", "da", "screen", institution="../../../escaped-institution"),
], ids=["product", "lang", "institution"])
def test_a_crafted_id_cannot_write_outside_output(project_copy, monkeypatch, job):
    """Old: the crafted job's PDF was written to project_copy/../escaped… (outside output/), exit 0."""
    _fake_render(monkeypatch, job)
    with pytest.raises(PolicyprintError) as err:
        build(project_copy, products=("leaflet-parents",), force=True)
    assert f"refused to write '{job.path.as_posix()}': not a plain path inside output/" in str(err.value)
    assert err.value.exit_code == 2
    everywhere = [p for p in project_copy.parent.rglob("*.pdf")]
    assert everywhere == []


def test_a_folder_inside_output_that_links_out_is_never_written_through(project_copy, monkeypatch, tmp_path):
    """Old: output/da as a symlink to a user's folder received da/leaflet-parents.screen.pdf."""
    elsewhere = tmp_path / "users-folder"
    elsewhere.mkdir()
    (project_copy / "output").mkdir()
    (project_copy / "output/da").symlink_to(elsewhere)
    _fake_render(monkeypatch, Job("leaflet-parents", "da", "screen"))
    with pytest.raises(PolicyprintError) as err:
        build(project_copy, products=("leaflet-parents",), force=True)
    assert str(err.value) == ("output/ holds 1 file(s) that policyprint did not write (output/da); "
                              "it writes only into a folder of its own: move them out of output/")
    assert list(elsewhere.iterdir()) == []


def test_containment_resolves_links_on_the_way(tmp_path):
    from policyprint.output import OutputRefused, contained

    base = tmp_path / "output"
    base.mkdir()
    (base / "da").symlink_to(tmp_path)
    assert contained(base, "en/x.pdf") == base / "en/x.pdf"
    with pytest.raises(OutputRefused, match="resolves to .*, outside output/"):
        contained(base, "da/x.pdf")
    for bad in ("/etc/x.pdf", "../x.pdf", "da/../../x.pdf", "", "a\\..\\x.pdf"):
        with pytest.raises(OutputRefused, match="not a plain path inside output/"):
            contained(base, bad)


def _users_folder(tmp_path: Path) -> dict[Path, bytes]:
    folder = tmp_path / "users-files"
    files = {folder / "important.pdf": b"%PDF-1.4 the user's own",
             folder / "projects/2025/report.pdf": b"%PDF-1.4 a report",
             folder / "projects/.draft.docx.tmp": b"unsaved work"}
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


@pytest.mark.parametrize("prune", [False, True], ids=["build", "prune"])
def test_a_symlinked_output_is_refused_and_loses_nothing(project_copy, tmp_path, prune):
    """Old: a plain build deleted projects/.draft.docx.tmp; --prune deleted important.pdf and
    projects/2025/report.pdf; both exited 0."""
    files = _users_folder(tmp_path)
    (project_copy / "output").symlink_to(tmp_path / "users-files")
    result = cli(project_copy, "build", "--product", "leaflet-youth", "--variant", "screen",
                 *(["--prune"] if prune else []))
    assert result.returncode == 2, result.stderr
    assert_no_traceback(result)
    assert result.stderr.strip() == (f"error: output/ is a symbolic link (to {tmp_path / 'users-files'}); "
                                     "policyprint writes only into a real folder of its own: "
                                     "replace the link with a folder")
    assert {p: p.read_bytes() for p in files} == files
    assert sorted(p.name for p in (tmp_path / "users-files").iterdir()) == ["important.pdf", "projects"]


@pytest.mark.parametrize("prune", [False, True], ids=["build", "prune"])
def test_an_output_holding_files_the_tool_did_not_write_is_refused(project_copy, tmp_path, prune):
    """Old: as above, with output/ a real folder of the user's files: the same deletions, exit 0."""
    files = _users_folder(tmp_path)
    (tmp_path / "users-files").rename(project_copy / "output")
    files = {project_copy / "output" / p.relative_to(tmp_path / "users-files"): d for p, d in files.items()}
    result = cli(project_copy, "build", "--product", "leaflet-youth", "--variant", "screen",
                 *(["--prune"] if prune else []))
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == (
        "error: output/ holds 3 file(s) that policyprint did not write (output/important.pdf, "
        "output/projects/.draft.docx.tmp, output/projects/2025/report.pdf); it writes only into a folder "
        "of its own: move them out of output/")
    assert {p: p.read_bytes() for p in files} == files
    assert not (project_copy / "output/da").exists()


def test_prune_deletes_only_what_the_manifest_records(project_copy):
    """A file the tool wrote and no job produces any more is stale, and pruned only when asked.

    (Replaces test_engine's stale-file test, which planted a PDF the tool never wrote: now refused.)
    """
    build(project_copy, products=("poster-vision",), variants=("screen",))
    posters = project_copy / "content/posters.yaml"
    text = posters.read_text(encoding="utf-8")
    assert "- id: vision\n" in text
    posters.write_text(text.replace("- id: vision\n", "- id: vision-ny\n", 1), encoding="utf-8")
    old = project_copy / "output/da/poster-vision.screen.pdf"
    report = build(project_copy, products=("poster-vision-ny",), variants=("screen",))
    assert report.stale == ["da/poster-vision.screen.pdf"] and old.exists()
    manifest = json.loads((project_copy / "output/manifest.json").read_text(encoding="utf-8"))
    assert {a["path"]: a.get("stale") for a in manifest["artifacts"]} == {
        "da/poster-vision.screen.pdf": True, "da/poster-vision-ny.screen.pdf": None}
    report = build(project_copy, products=("poster-vision-ny",), variants=("screen",), prune=True)
    assert report.pruned == ["da/poster-vision.screen.pdf"] and not old.exists()
    manifest = json.loads((project_copy / "output/manifest.json").read_text(encoding="utf-8"))
    assert [a["path"] for a in manifest["artifacts"]] == ["da/poster-vision-ny.screen.pdf"]


def test_a_symlinked_lock_leaves_its_target_whole(project_copy, tmp_path):
    """Old: the build truncated victim.txt to 0 bytes (and wrote its pid into it), exit 0."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n", encoding="utf-8")
    (project_copy / "output").mkdir()
    (project_copy / "output/.lock").symlink_to(victim)
    result = cli(project_copy, "build", "--product", "leaflet-youth", "--variant", "screen")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == ("error: output/.lock is a symbolic link; policyprint never follows it: "
                                     "remove it")
    assert victim.read_text(encoding="utf-8") == "precious\n"


def test_a_hard_linked_lock_leaves_its_other_name_whole(project_copy, tmp_path):
    """Old: the victim (the same file under another name) was truncated to the build's pid."""
    victim = project_copy / "victim.txt"
    victim.write_text("", encoding="utf-8")
    (project_copy / "output").mkdir()
    os.link(victim, project_copy / "output/.lock")
    result = cli(project_copy, "build", "--product", "leaflet-youth", "--variant", "screen")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == ("error: output/.lock has other names (hard links), so it is not "
                                     "policyprint's lock file: remove it")
    assert victim.read_text(encoding="utf-8") == ""


def test_a_lock_that_is_a_folder_gives_a_clear_message(project_copy):
    """Old: IsADirectoryError traceback, exit 1."""
    (project_copy / "output/.lock").mkdir(parents=True)
    result = cli(project_copy, "build", "--product", "leaflet-youth", "--variant", "screen")
    assert result.returncode == 2
    assert_no_traceback(result)
    assert result.stderr.strip() == "error: output/.lock is a folder, not policyprint's lock file: remove it"
