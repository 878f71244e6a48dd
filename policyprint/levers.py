"""The speed levers (issue 15), and the one switch that turns them all off.

POLICYPRINT_LEVERS=off gives the unmodified code paths, which bench/bench.py
measures side by side with the levers as the baseline. Read at call time, so a
test or the benchmark can set it for one build.
"""

from __future__ import annotations

import os


def on() -> bool:
    """Whether the levers are on (the default)."""
    return os.environ.get("POLICYPRINT_LEVERS") != "off"
