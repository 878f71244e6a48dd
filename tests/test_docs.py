"""The documentation that is generated stays current."""

from __future__ import annotations

from conftest import ROOT


def test_the_field_reference_is_current():
    from policyprint import schema

    current = (ROOT / "docs/fields.md").read_text(encoding="utf-8")
    assert current == schema.reference(), \
        "docs/fields.md is out of date: run `.venv/bin/python -m policyprint.schema > docs/fields.md`"
    assert "| `institutions[].products` |" in current and "## `content/brand.yaml`" in current
