#!/usr/bin/env python3
"""Import a translator's YAML list (`- {path, da, text}`, the format of the first translation
round) as drafts: content entries into content/translations/<lang>.yaml, fixed words
(`strings.<key>`) into content/strings/<lang>.yaml.

    .venv/bin/python scripts/import-translator-yaml.py --lang en FILE

The fingerprint recorded is that of the Danish the translator saw (`da`), so an entry
translated from older Danish is stale at once. Later rounds go through gettext PO:
`policyprint translations export` / `import`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from policyprint.build import write_atomic  # noqa: E402
from policyprint.project import load_project  # noqa: E402
from policyprint.translations import import_entries  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", required=True)
    parser.add_argument("file", type=Path)
    parser.add_argument("--draft-word", help="the watermark word (strings key draft), if the file lacks it")
    args = parser.parse_args()
    entries = yaml.safe_load(args.file.read_text(encoding="utf-8"))
    strings = {e["path"].removeprefix("strings."): e["text"] for e in entries if e["path"].startswith("strings.")}
    if args.draft_word:
        strings.setdefault("draft", args.draft_word)
    strings_path = ROOT / "content" / "strings" / f"{args.lang}.yaml"
    if strings_path.exists():   # words the file has and the translator's list lacks stay
        strings = {**(yaml.safe_load(strings_path.read_text(encoding="utf-8")) or {}), **strings}
    lines = [f"# Fixed words the templates use, in the language of content/languages.yaml code {args.lang}.\n",
             "# Every key of strings/da.yaml is needed: nothing falls back to Danish.\n"]
    for key, text in strings.items():
        lines.append(yaml.safe_dump({key: text}, allow_unicode=True, width=10**6))
    write_atomic(strings_path, "".join(lines).encode("utf-8"))
    project = load_project(ROOT)
    report = import_entries(project, args.lang, [(e["path"], e["da"], e["text"], False) for e in entries
                                                 if not e["path"].startswith("strings.")])
    print(f"{args.lang}: {len(report.new)} new, {len(report.changed)} changed, {len(report.confirmed)} confirmed, "
          f"{len(report.unchanged)} unchanged, {len(report.unknown)} unknown id(s) {report.unknown[:5]}; "
          f"{len(strings)} fixed words in {strings_path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
