"""`python -m histcast ...`: the same as the `histcast` command."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
