"""policyprint: build Ballerup Kommune's policy print pack from one YAML source."""

__version__ = "0.1.0"

from .project import load_project  # noqa: E402


def build(root, **options):
    """Build the print pack; see policyprint.build.build for the options."""
    from .build import build as _build

    return _build(root, **options)


__all__ = ["__version__", "build", "load_project"]
