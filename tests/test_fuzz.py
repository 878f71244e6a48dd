"""Property-based tests: odd text in every string field of every content file never crashes.

Each example takes the real content, replaces one string (one at a time, anywhere in any
content file) with random text: control, bidi, combining and astral characters, markup,
Jinja template syntax, YAML syntax and very long words. `check` (and, for a few examples,
a build) must end with exit 0, 1 or 2 and a message, never a traceback or an internal error.

The string is put in two ways: as a YAML value (the file stays valid YAML, so the text
reaches validation and templates), or pasted into the file as raw text (so it also
reaches the YAML reader and the syntax-error messages).

`make test` runs the quick profile (derandomised, 300 examples); `make fuzz` runs
10,000 (profiles in tests/conftest.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from conftest import ROOT, copy_project
from policyprint.cli import main

CONTENT_FILES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "content").rglob("*.yaml"))
STR_TAG = "tag:yaml.org,2002:str"


def _string_nodes(node: yaml.Node) -> list[yaml.ScalarNode]:
    """Every string value (not key) of a composed YAML file, in document order."""
    if isinstance(node, yaml.MappingNode):
        return [n for _, value in node.value for n in _string_nodes(value)]
    if isinstance(node, yaml.SequenceNode):
        return [n for item in node.value for n in _string_nodes(item)]
    return [node] if isinstance(node, yaml.ScalarNode) and node.tag == STR_TAG else []


def _compose(text: str) -> yaml.Node:
    return yaml.compose(text, Loader=yaml.SafeLoader)


ORIGINALS = {rel: (ROOT / rel).read_text(encoding="utf-8") for rel in CONTENT_FILES}
# (file, index of the string in it): every string field of every content file.
SLOTS = [(rel, i) for rel in CONTENT_FILES for i in range(len(_string_nodes(_compose(ORIGINALS[rel]))))]

ODD_CHARACTERS = (
    "\x00\x01\x07\x08\x0b\x0c\x1b\x7f\x80\x85\x9f\t\n\r"      # control characters
    "\u00a0\u00ad\u034f\u061c\u200b\u200c\u200d\u200e\u200f\u2028\u2029\u2060\ufeff\ufffd\ufffe\uffff"
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"  # bidi embeddings, overrides, isolates
    "\u0300\u0301\u0308\u0327\u0338\u20dd\u0e48\u064b"          # combining marks
    "\U0001F600\U0001F468\U0001F3FD\U0001F1E9\U0001F1F0\U00010348\U0001D11E\U000E0001\U0010FFFD"  # astral
    "\u0e01\u0627\u05d0\u0416\u4e2d\u1100\u0915\u00e6\u00f8\u00e5\u00c6\u00d8\u00c5"  # scripts
)
FRAGMENTS = (
    "**", "*", "_", "[", "]", "](", "[link](https://example.org)", "[x](javascript:alert(1))", "[x](",
    "[a](https://example.org/" + "(" * 50, "**bold** *it*", "<b>", "</p>", "<script>alert(1)</script>", "&amp;",
    "&", "<!--", "]]>", "{{", "}}", "{{ 7*7 }}", "{% if x %}", "{% endif %}", "{# x", "#}", "{{ self.__init__ }}",
    "{% raw %}", '"', "'", "\"quoted\"", ": ", "- ", " #", "%", "@", "`", "|", ">", "? ", ",", "{", "}",
    "!!python/object/apply:os.system", "!!binary", "&anchor ", "*alias", "---", "...", "\\", "\\u0000",
    "url(http://x)", "</style>", "0-25 år", " - ", "1. januar 2026", "~", "null", "true", "3.5", "0x1F",
    "2026-13-45", "\n  - item", "\n    key: value", "\n\tindented",
)
LONG_WORDS = st.integers(min_value=30, max_value=20_000).map(lambda n: ("Fællesskab" * (n // 10 + 1))[:n])

odd_text = st.lists(
    st.one_of(st.text(max_size=12), st.text(alphabet=ODD_CHARACTERS, max_size=6), st.sampled_from(FRAGMENTS),
              LONG_WORDS),
    max_size=6).map("".join)


def replaced(rel: str, index: int, text: str, raw: bool) -> str:
    """The file `rel` with its string number `index` replaced by `text`."""
    original = ORIGINALS[rel]
    root = _compose(original)
    node = _string_nodes(root)[index]
    if raw:   # pasted into the file as it is, where the value's source text was
        return original[:node.start_mark.index] + text + original[node.end_mark.index:]
    node.value, node.style = text, None   # the emitter quotes and escapes it as YAML needs
    return yaml.serialize(root, allow_unicode=True, width=100)


@pytest.fixture(scope="module")
def fuzz_root(tmp_path_factory) -> Path:
    return copy_project(tmp_path_factory.mktemp("fuzz") / "project", languages=True)   # every content file is fuzzed


def run_cli(root: Path, rel: str, content: str, args: list[str]):
    """Run the CLI on the project with one file changed; the file is restored afterwards."""
    path = root / rel
    path.write_text(content, encoding="utf-8")
    try:
        return CliRunner().invoke(main, ["--root", str(root), *args])
    finally:
        shutil.copyfile(ROOT / rel, path)


def assert_clean_exit(result, what: str) -> None:
    """Exit 0, 1 or 2 with a message, never a traceback or an internal error."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        trace = "".join(traceback.format_exception(*result.exc_info))
        raise AssertionError(f"{what}: traceback instead of a message:\n{trace}")
    event(f"exit {result.exit_code}")   # the spread shows in --hypothesis-show-statistics
    assert result.exit_code in (0, 1, 2), f"{what}: exit {result.exit_code}\n{result.output}"
    assert "Traceback" not in result.output and "internal error" not in result.output, \
        f"{what}:\n{result.output}"
    if result.exit_code == 2:
        assert result.stderr.strip(), f"{what}: exit 2 without a message"


SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture,
        HealthCheck.large_base_example]


@settings(suppress_health_check=SLOW, deadline=None)
@given(slot=st.sampled_from(SLOTS), text=odd_text, raw=st.booleans())
# Found by `make fuzz`: a profile path longer than a file name may be (ENAMETOOLONG) was a traceback.
@example(slot=("content/print.yaml", 0), text="Fællesskab" * 30, raw=False)
# Found by `make fuzz`: a number where text belongs passed the schema and crashed a later stage.
@example(slot=("content/hyphenation.yaml", 0), text="0", raw=True)
def test_odd_text_in_any_string_field_never_crashes_check(fuzz_root, slot, text, raw):
    rel, index = slot
    content = replaced(rel, index, text, raw)
    result = run_cli(fuzz_root, rel, content, ["check"])
    assert_clean_exit(result, f"check with {rel} string #{index} = {text!r} ({'raw' if raw else 'value'})")


def slot_of(rel: str, value: str) -> tuple[str, int]:
    """The slot of the string `value` in the file `rel`."""
    return rel, next(i for i, n in enumerate(_string_nodes(_compose(ORIGINALS[rel]))) if n.value == value)


# A full render costs a second or more: a few examples only (about 1 in 100 of the profile's).
@settings(suppress_health_check=SLOW, deadline=None, max_examples=max(3, settings().max_examples // 100))
@given(slot=st.sampled_from([s for s in SLOTS if s[0] in ("content/leaflets.yaml", "content/strings/da.yaml",
                                                          "content/site.yaml")]),
       text=odd_text)
# Always rendered, also in the quick profile: text that passes `check` and reaches the templates.
@example(slot=slot_of("content/leaflets.yaml", "Det kan du regne med"),
         text="**Det** kan *du* {{ 7*7 }} {% raw %}<b>x</b>&amp; [regne](https://example.org) med \u202eabc\u0301")
@example(slot=slot_of("content/leaflets.yaml", "Du skal have hjælp til at blive klar til at tage en uddannelse og "
                                               "få et job."),
         text="Børne" + "fællesskabsungepolitik" * 12 + " \u0627 \u2067x\u2069 " + "ab " * 300)
@example(slot=slot_of("content/strings/da.yaml", "Kontakt"), text="{{ self }} </style> \u200d\u00ad")
def test_odd_text_in_a_leaflet_never_crashes_the_build(fuzz_root, slot, text):
    rel, index = slot
    result = run_cli(fuzz_root, rel, replaced(rel, index, text, raw=False),
                     ["build", "--product", "leaflet-youth", "--product", "leaflet-parents", "--lang", "da",
                      "--variant", "screen", "--variant", "print", "--jobs", "1"])
    assert_clean_exit(result, f"build with {rel} string #{index} = {text!r}")


def test_every_content_file_has_string_fields():
    """The fuzzing reaches every content file (a file without strings would be skipped silently)."""
    assert {rel for rel, _ in SLOTS} == set(CONTENT_FILES)
