#!/usr/bin/env python3
"""policyprint's command line. Run `./build.py --help` (or `python3 build.py --help`).

It runs in the project's own .venv (made by `make`): started with another
Python, it starts itself again with the .venv's. The project folder defaults
to the folder that holds this file, wherever it is run from.
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"


def _in_venv() -> bool:
    try:
        return Path(sys.prefix).resolve() == VENV.resolve()
    except OSError:
        return False


if __name__ == "__main__":
    python = VENV / "bin" / "python"
    if not _in_venv() and python.is_file() and os.environ.get("POLICYPRINT_REEXEC") != str(python):
        os.environ["POLICYPRINT_REEXEC"] = str(python)   # never loop, whatever the venv holds
        os.environ.pop("PYTHONHOME", None)
        os.execv(python, [str(python), str(Path(__file__).resolve()), *sys.argv[1:]])
    try:
        from policyprint.cli import main
    except ImportError as exc:
        print(f"error: policyprint cannot start ({exc}); run `make` in {HERE} first", file=sys.stderr)
        sys.exit(2)
    main(default_map={"root": str(HERE)})
