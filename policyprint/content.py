"""Load YAML while keeping the line of every key path, so errors can point into files."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ContentError, Problem


def key_path(parts: tuple) -> str:
    """Format a path such as ('sections', 0, 'title') as 'sections[0].title'."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass
class Source:
    """One loaded YAML file: its data and the line of each key path."""

    file: str  # path relative to the project root, as shown in messages
    data: Any
    lines: dict[tuple, int] = field(default_factory=dict)

    def line(self, path: tuple) -> int:
        """Return the line of `path`, or of its nearest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)

    def problem(self, path: tuple, message: str) -> Problem:
        return Problem(self.file, self.line(path), key_path(path), message)

    def replace(self, path: tuple, value: Any) -> None:
        """Put `value` at `path` in the data (the schema's conversions, such as a number read as text)."""
        if not path:
            self.data = value
            return
        parent = self.data
        for part in path[:-1]:
            parent = parent[part]
        parent[path[-1]] = value


class _Builder(yaml.constructor.SafeConstructor):
    """Turn a composed node tree into plain data, recording lines per key path."""

    def __init__(self, source: Source, problems: list[Problem]):
        super().__init__()
        self.source = source
        self.problems = problems

    def build(self, node: yaml.Node, path: tuple) -> Any:
        self.source.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            self.flatten_mapping(node)
            result = {}
            for key_node, value_node in node.value:
                key = self.construct_object(key_node, deep=True)
                if not isinstance(key, str):
                    key = str(key)
                if key in result:
                    self.problems.append(Problem(
                        self.source.file, key_node.start_mark.line + 1,
                        key_path(path + (key,)), "duplicate key"))
                    continue
                self.source.lines[path + (key,)] = key_node.start_mark.line + 1
                result[key] = self.build(value_node, path + (key,))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        return self.construct_object(node, deep=True)


# Limits that keep a hostile or broken file from taking unbounded time or memory.
MAX_FILE_BYTES = 1_000_000   # a content file; the policy itself is about 40 KB
MAX_DEPTH = 32               # nesting of mappings and lists; the content needs 8


def read_content_file(path: Path, rel: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """Read a regular file of at most `limit` bytes; never block on a FIFO or a device."""
    import stat

    try:
        st = path.stat()   # follows a symlink: what counts is what would be read
    except FileNotFoundError:
        raise ContentError([Problem(rel, 1, "", "file not found")]) from None
    except OSError as exc:
        raise ContentError([Problem(rel, 1, "", f"cannot be read ({exc.strerror})")]) from None
    if not stat.S_ISREG(st.st_mode):
        raise ContentError([Problem(rel, 1, "", "not a regular file (a folder, device, pipe or socket)")])
    if st.st_size > limit:
        raise ContentError([Problem(rel, 1, "", f"the file is {st.st_size:,} bytes; "
                                                 f"a content file may have at most {limit:,}")])
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise ContentError([Problem(rel, 1, "", f"cannot be read ({exc.strerror})")]) from None
    if len(data) > limit:   # it grew while being read
        raise ContentError([Problem(rel, 1, "", f"the file has more than {limit:,} bytes")])
    return data


def _show(lines: list[str], line: int, column: int | None) -> str:
    """The offending line, and a caret under the column, indented under the message."""
    if not 1 <= line <= len(lines):
        return ""
    text = "".join("?" if ord(ch) < 32 or 0x7f <= ord(ch) < 0xa0 else ch
                   for ch in lines[line - 1].replace("\t", " "))
    shown = f"    {text}"
    if column is not None:
        shown += "\n    " + " " * min(column, len(text)) + "^"
    return shown


# Characters YAML does not allow in a file (YAML 1.1, 5.1).
_NOT_YAML = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _syntax_problem(exc: yaml.YAMLError, text: str, rel: str) -> Problem:
    """Explain a YAML syntax error in plain words, at the line that holds the mistake."""
    lines = text.splitlines()
    if isinstance(exc, yaml.reader.ReaderError):
        # libyaml counts bytes, the pure-Python reader characters: find the character itself.
        found = _NOT_YAML.search(text)
        position = found.start() if found else 0
        line = text[:position].count("\n") + 1
        column = position - (text.rfind("\n", 0, position) + 1)
        code = ord(found.group()) if found else 0
        return Problem(rel, line, "", f"the invisible control character U+{code:04X} is not allowed "
                                      "in content; delete it", _show(lines, line, column))
    problem = str(getattr(exc, "problem", "") or "")
    context = str(getattr(exc, "context", "") or "")
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    cmark = getattr(exc, "context_mark", None)
    line, column = (mark.line + 1, mark.column) if mark else (1, None)
    here = lines[line - 1] if 1 <= line <= len(lines) else ""
    if problem.startswith("could not find expected ':'") and cmark:
        line, column = cmark.line + 1, cmark.column
        message = f"a key needs a colon after it: `{lines[line - 1].strip()}`"
    elif problem.startswith("mapping values are not allowed"):
        if ": " in here[:column] or here[:column].rstrip().endswith(":") and here.count(":") > 1:
            message = "a value that contains ': ' must be in quotes, such as: key: \"value: more\""
        else:
            message = "this line is indented more than the line above it; line it up with its neighbours"
    elif problem.startswith("did not find expected key"):
        message = ("this line's indentation does not match the lines above it; "
                   "the keys of one mapping must start in the same column")
    elif problem.startswith("did not find expected '-' indicator"):
        message = ("this line's indentation does not match the list above it; "
                   "every item of a list starts with '- ' in the same column")
    elif problem.startswith("found character that cannot start any token"):
        char = here[column] if column is not None and column < len(here) else ""
        message = ("a tab is used for indentation; YAML needs spaces" if char == "\t" else
                   f"the character {char!r} cannot start a value; put the value in quotes")
    elif "end of stream" in problem and "quoted scalar" in context and cmark:
        line, column = cmark.line + 1, cmark.column
        message = "a quotation mark opened here is never closed"
    elif problem.startswith("did not find expected ',' or ']'") and cmark:
        line, column = cmark.line + 1, cmark.column
        message = "a list opened with '[' here is not closed with ']' (or put the value in quotes)"
    elif problem.startswith("did not find expected ',' or '}'") and cmark:
        line, column = cmark.line + 1, cmark.column
        message = "a mapping opened with '{' here is not closed with '}' (or put the value in quotes)"
    else:
        message = f"YAML syntax error: {problem or exc}" + (f" ({context})" if context else "")
    return Problem(rel, line, "", message, _show(lines, line, column))


def _check_events(text: str, rel: str) -> None:
    """Refuse anchors, aliases and deep nesting before anything is built (linear time).

    Content has no use for anchors and aliases, and an alias bomb expands
    exponentially; deep nesting would exhaust the stack.
    """
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise ContentError([Problem(rel, line, "", "anchors and aliases (&name, *name) are not allowed "
                                                       "in content; write the value out in full")])
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise ContentError([Problem(rel, line, "", f"nested more than {MAX_DEPTH} levels deep")])
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


def load_yaml(path: Path, root: Path, data: bytes | None = None) -> Source:
    """Load one YAML file (`data`: its bytes, when the caller has read them). Raise ContentError
    with file:line on any problem with the file itself."""
    rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    source = Source(rel, None)
    if data is None:
        data = read_content_file(path, rel)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ContentError([Problem(rel, line, "", f"not UTF-8 text ({exc.reason}); save the file as UTF-8")]) \
            from None
    try:
        _check_events(text, rel)
        # libyaml's parser when available (much faster); the same nodes and marks.
        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise ContentError([_syntax_problem(exc, text, rel)]) from None
    problems: list[Problem] = []
    try:
        source.data = _Builder(source, problems).build(node, ()) if node is not None else None
    except yaml.YAMLError as exc:   # a value the safe constructor refuses, such as a bad date
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark else 1
        raise ContentError([Problem(rel, line, "", f"YAML value error: {getattr(exc, 'problem', exc)}")]) from None
    except (ValueError, OverflowError) as exc:
        raise ContentError([Problem(rel, 1, "", f"YAML value error: {exc}")]) from None
    if problems:
        raise ContentError(problems)
    return source
