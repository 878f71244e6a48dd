"""LIX, the Scandinavian readability index: words per sentence + percentage of long words.

LIX = W/S + 100·L/W, where W is the number of words, S the number of sentences
(ended by . : ! ? or a new paragraph) and L the number of words longer than six
letters. Below 35 is easy text for young readers (Björnsson, 1968).
"""

from __future__ import annotations

import re

WORD = re.compile(r"[^\W\d_]+(?:[-'][^\W\d_]+)*")
SENTENCE_END = re.compile(r"[.:!?]+(?=\s|$)")


def lix(paragraphs: list[str]) -> float:
    """The LIX score of a text given as paragraphs (each paragraph ends a sentence)."""
    words = sentences = long_words = 0
    for para in paragraphs:
        para = para.strip()
        if not para:
            continue
        found = WORD.findall(para)
        words += len(found)
        long_words += sum(1 for w in found if len(w.replace("-", "")) > 6)
        ends = len(SENTENCE_END.findall(para))
        # A paragraph without a full stop (a heading, a list item) still ends a sentence.
        sentences += ends if SENTENCE_END.search(para[-2:] or "") else ends + 1
    if not words:
        return 0.0
    return words / sentences + 100 * long_words / words
