"""``python -m httpdouble``: the command line (see :mod:`httpdouble._record.cli`)."""

from __future__ import annotations

import sys

from ._record.cli import main

if __name__ == "__main__":
    sys.exit(main())
