"""Load YAML while keeping the line of every key path, so errors can point into files."""

from __future__ import annotations

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


def load_yaml(path: Path, root: Path) -> Source:
    """Load one YAML file. Raise ContentError with file:line on a syntax error."""
    rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    source = Source(rel, None)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContentError([Problem(rel, 1, "", "file not found")]) from None
    except UnicodeDecodeError as exc:
        raise ContentError([Problem(rel, 1, "", f"not UTF-8 text ({exc.reason})")]) from None
    try:
        # libyaml's parser when available (much faster); the same nodes and marks.
        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise ContentError([Problem(rel, line, "", f"YAML syntax error: {exc.problem}")]) from None
    problems: list[Problem] = []
    source.data = _Builder(source, problems).build(node, ()) if node is not None else None
    if problems:
        raise ContentError(problems)
    return source
