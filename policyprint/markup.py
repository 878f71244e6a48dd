"""Inline markup in content text, parsed in linear time.

Content may use three kinds of inline markup, and nothing else becomes markup:

    **strong**    *emphasis*    [words](https://link)

Everything else is text, escaped for HTML. The parser reads the text once,
left to right, with a stack of open elements: a closer that does not match
the innermost open element, and an opener that is never closed, stay
literal text. No regular expression backtracks over the text, so a hostile
paragraph of a megabyte costs about as much as a plain one (a test parses
1 MB of markup characters).
"""

from __future__ import annotations

import re
from typing import Callable

from markupsafe import escape

# One pass over the text finds every delimiter. No alternative can scan past the
# next delimiter character, so the scan is linear: a link target stops at
# white space, brackets and parentheses.
_TOKEN = re.compile(r"\*\*|\*|\[|\]\((https?://[^\s()\[\]<>\"]{1,2000})\)|\n")

_TAGS = {"**": "strong", "*": "em"}


def _is_space(ch: str) -> bool:
    return ch == "" or ch.isspace()


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def render_inline(text: str, text_html: Callable[[str], str] | None = None) -> str:
    """Return `text` as HTML: its inline markup as elements, everything else escaped.

    `text_html` turns a run of plain text into HTML (escaping it); the
    typesetter passes one that also applies hyphenation exceptions.
    """
    text_html = text_html or (lambda s: str(escape(s)))
    out: list[str] = []
    stack: list[tuple[str, int, str]] = []   # (delimiter, index of its placeholder in out, literal)
    pos = 0
    for m in _TOKEN.finditer(text):
        start, end = m.span()
        if start > pos:
            out.append(text_html(text[pos:start]))
        token = m.group(0)
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        top = stack[-1][0] if stack else None
        if token == "\n":
            out.append("<br>")
        elif token == "[":
            stack.append(("[", len(out), "["))
            out.append("[")
        elif m.group(1):   # ](url): closes the innermost [
            if top == "[":
                _, index, _ = stack.pop()
                out[index] = f'<a href="{escape(m.group(1))}">'
                out.append("</a>")
            else:
                out.append(text_html(token))
        elif token == "**":
            if top == "**" and not _is_space(before) and stack[-1][1] != len(out) - 1:
                _, index, _ = stack.pop()
                out[index] = "<strong>"
                out.append("</strong>")
            elif not _is_space(after):
                stack.append(("**", len(out), "**"))
                out.append("**")
            else:
                out.append("**")
        else:   # a single *
            can_close = not _is_space(before) and not _is_word(after) and after != "*"
            can_open = not _is_space(after) and not _is_word(before) and before != "*"
            if top == "*" and can_close and stack[-1][1] != len(out) - 1:
                _, index, _ = stack.pop()
                out[index] = "<em>"
                out.append("</em>")
            elif can_open:
                stack.append(("*", len(out), "*"))
                out.append("*")
            else:
                out.append("*")
        pos = end
    if pos < len(text):
        out.append(text_html(text[pos:]))
    # Openers never closed stay as they were written (their placeholders hold the literal).
    return "".join(out)
