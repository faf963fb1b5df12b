"""``python -m httpdouble cassette PATH``: a cassette's exchanges as ``expect_request`` code."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .._errors import Error
from .cassette import load
from .replay import to_code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 done, 1 a bad cassette, 2 bad usage)."""
    parser = argparse.ArgumentParser(
        prog="python -m httpdouble",
        description="Tools of pytest-httpdouble.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    cassette = commands.add_parser(
        "cassette",
        help="print a recorded cassette as expect_oneshot_request(...) lines",
        description="Print the expectations a cassette replays, in recorded order, as code"
        " to paste into a test instead of keeping the cassette file.",
    )
    cassette.add_argument("path", type=Path, help="the cassette file (.json)")
    cassette.add_argument(
        "--server", default="httpserver", help="the name of the server in the code (httpserver)"
    )
    options = parser.parse_args(argv)
    try:
        exchanges = load(options.path).exchanges
    except OSError as exc:
        print(f"httpdouble: cannot read {options.path}: {exc.strerror}", file=sys.stderr)
        return 1
    except Error as exc:
        print(f"httpdouble: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(to_code(exchanges, options.server))
    return 0
