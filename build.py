#!/usr/bin/env python3
"""policyprint's command line. Run `python build.py --help`."""

from policyprint.cli import main

if __name__ == "__main__":
    main()
