"""``python -m landscape``: the same as the ``landscape`` command."""

import sys

from landscape.cli import main

if __name__ == "__main__":
    sys.exit(main())
