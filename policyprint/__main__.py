"""`python -m policyprint`: the same CLI as the `policyprint` console script."""

from .cli import main

main()
