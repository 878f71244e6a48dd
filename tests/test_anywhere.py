"""Runs anywhere: the README's commands as written, from any folder, in a bare environment."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

VENV = ROOT / ".venv"
# How long a README command may run here. A command that finishes must exit 0; a longer one
# (a build that renders many files, `watch`) must be running without an error when it is stopped:
# it got past the start (Python, the .venv, the project folder, its options) and is rendering.
BUDGET_S = 8
# The README's placeholder for a file, and the file a test gives instead.
PLACEHOLDERS = {"FILE": "output/da/policy.print.pdf"}


def bare_env(**extra) -> dict[str, str]:
    """This environment without any virtual environment: no VIRTUAL_ENV, no .venv on PATH."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "POLICYPRINT_REEXEC", "SOURCE_DATE_EPOCH")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "/usr/bin:/bin").split(os.pathsep)
                                  if p and not Path(p).resolve().is_relative_to(Path(sys.prefix).resolve())
                                  and ".venv" not in Path(p).parts)
    return {**env, **extra}


def readme_usage_commands() -> list[str]:
    """Every command in the code blocks of the README's "Using it" section, comments removed."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Using it\n", 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in re.findall(r"^```[^\n]*\n(.*?)^```", section, re.M | re.S):
        for line in block.splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command:
                commands.append(command)
    return commands


def test_the_readme_usage_block_is_found():
    commands = readme_usage_commands()
    assert "./build.py list" in commands and len(commands) >= 10, commands


@pytest.fixture
def readme_project(built, tmp_path) -> Path:
    """A copy of the built project laid out like a checkout: build.py beside it, .venv linked.
    One per command: a command stopped at the time budget may leave a file half written (the
    manifest marks it "writing"), which the next command, e.g. `check --verify`, rightly reports."""
    root = tmp_path / "checkout"
    shutil.copytree(built, root, symlinks=True)
    shutil.copy2(ROOT / "build.py", root / "build.py")
    (root / ".venv").symlink_to(VENV)
    return root


@pytest.mark.parametrize("command", readme_usage_commands())
def test_readme_command_works_as_written(readme_project, command):
    """Run the command as written, in a shell-free subprocess with no virtual environment."""
    args = [PLACEHOLDERS.get(arg, arg) for arg in shlex.split(command)]
    process = subprocess.Popen(args, cwd=readme_project, env=bare_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = process.communicate(timeout=BUDGET_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)   # the build and its workers
        out, err = process.communicate()
        assert "Traceback" not in err and "error" not in err.lower(), f"{command}:\n{err}"
        return
    assert process.returncode == 0, f"{command} exited {process.returncode}:\n{out}\n{err}"
    assert "Traceback" not in err, err
    assert out.strip(), f"{command} printed nothing"


def test_build_py_re_executes_itself_in_the_venv(tmp_path):
    """`python3 build.py` with the system's Python (no fontTools, no click) still runs."""
    done = subprocess.run(["python3", str(ROOT / "build.py"), "list"], cwd=tmp_path, env=bare_env(),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "output/da/policy.screen.pdf" in done.stdout.splitlines()


def test_build_py_checks_its_own_folder_from_anywhere(tmp_path):
    done = subprocess.run(["python3", str(ROOT / "build.py"), "check"], cwd=tmp_path, env=bare_env(),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Content OK:"), done.stdout
    assert not list(tmp_path.iterdir())   # nothing written where it ran


def test_policyprint_finds_the_project_upward(project_copy):
    """The console script uses the nearest folder upward that holds content/products.yaml."""
    site = project_copy / "content/site.yaml"
    site.write_text(site.read_text(encoding="utf-8") + "bogus_key: 1\n", encoding="utf-8")
    line = len(site.read_text(encoding="utf-8").splitlines())
    for command in ([str(VENV / "bin" / "policyprint")], [str(VENV / "bin" / "python"), "-m", "policyprint"]):
        done = subprocess.run([*command, "check"], cwd=project_copy / "content" / "assets",
                              env=bare_env(), capture_output=True, text=True)
        assert done.returncode == 2, done.stderr
        assert f"content/site.yaml:{line}: bogus_key" in done.stderr


def test_no_project_folder_is_one_clear_line(tmp_path):
    for args, message in (
        (["--root", str(tmp_path), "check"],
         f"error: --root {tmp_path} is not a project folder: it has no content/products.yaml"),
        (["--root", str(tmp_path / "missing"), "build"],
         f"error: --root {tmp_path / 'missing'} is not a project folder: no such folder"),
    ):
        done = subprocess.run([str(ROOT / "build.py"), *args], cwd=tmp_path, env=bare_env(),
                              capture_output=True, text=True)
        assert (done.returncode, done.stderr) == (2, message + "\n"), done.stderr
    done = subprocess.run([str(VENV / "bin" / "policyprint"), "list"], cwd=tmp_path, env=bare_env(),
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr == (f"error: no project here: neither {tmp_path} nor any folder above it holds "
                           "content/products.yaml; give the project folder with --root\n")


def test_a_build_in_a_bare_environment_gives_the_same_bytes(built, project_copy, tmp_path):
    """env -i: no HOME content, no user caches, LANG=C, no TZ, another current folder, PATH without
    the .venv. The build succeeds, writes nothing to HOME, and its PDFs are byte-identical."""
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    home.mkdir()
    elsewhere.mkdir()
    command = ["env", "-i", f"HOME={home}", "XDG_CACHE_HOME=", "XDG_CONFIG_HOME=", "XDG_DATA_HOME=",
               "LANG=C", "PATH=/usr/bin:/bin", str(ROOT / "build.py"), "--root", str(project_copy), "build",
               "--product", "leaflet-youth", "--lang", "da", "--variant", "screen", "--variant", "print"]
    done = subprocess.run(command, cwd=elsewhere, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for variant in ("screen", "print"):
        name = f"output/da/leaflet-youth.{variant}.pdf"
        assert (project_copy / name).read_bytes() == (built / name).read_bytes(), name
    assert not list(home.iterdir()), "the build wrote into HOME"
    assert not list(elsewhere.iterdir()), "the build wrote into the current folder"
