"""policyprint: build Ballerup Kommune's policy print pack from one YAML source."""

__version__ = "0.3.1"

# Bound here, after the submodule of the same name is imported, so that
# `policyprint.build` is always the function. WeasyPrint is imported lazily.
from .build import build  # noqa: E402
from .project import load_project  # noqa: E402

__all__ = ["__version__", "build", "load_project"]
