"""Errors that carry what the user needs to fix a problem, and the exit code."""

from __future__ import annotations

from dataclasses import dataclass


class PolicyprintError(Exception):
    """Base class: every error the CLI turns into a message and an exit code."""

    exit_code = 1


@dataclass(frozen=True, order=True)
class Problem:
    """One content problem, pointing into a YAML file."""

    file: str
    line: int
    key: str
    message: str
    detail: str = ""  # lines shown under the message, such as the offending line and a caret

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        text = f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"
        return text + ("\n" + self.detail if self.detail else "")


class ContentError(PolicyprintError):
    """Bad content: one or more problems, all reported at once (exit 2)."""

    exit_code = 2

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class UsageError(PolicyprintError):
    """Bad command-line usage, such as an unknown product (exit 2)."""

    exit_code = 2


class BuildError(PolicyprintError):
    """A render or preflight failure of one or more jobs (exit 1)."""

    exit_code = 1
