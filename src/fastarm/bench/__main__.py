"""``python -m fastarm.bench`` (see :mod:`fastarm.bench.cli`)."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
