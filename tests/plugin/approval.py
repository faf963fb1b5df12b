"""Helpers of the approved-output tests: cut a section out of pytest's output, normalise it."""

from __future__ import annotations

import re
import socket


def normalised(text: str) -> str:
    text = re.sub(r"(https?://[\w.:\[\]-]+?):\d+", r"\1:PORT", text)
    text = re.sub(r"@httpdouble-[\w-]+", "@ADDRESS", text)
    text = re.sub(r"\bgw\d+\b", "gwN", text)
    text = re.sub(rf" on {re.escape(socket.gethostname())}\b", " on HOST", text)
    text = re.sub(r" in [\d.]+s\b", " in Ns", text)
    return text


def section(output: str, title: str = "httpdouble report") -> str:
    """Return the lines of the ``=== title ===`` section of pytest's output."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("=") and title in line)
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("="))
    return "\n".join(lines[start + 1 : end])


def block(output: str, first_line: str) -> str:
    """Return the lines from ``first_line`` up to the next section or test header."""
    lines = output.splitlines()
    start = lines.index(first_line)
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith(("___", "===")))
    return "\n".join(lines[start:end])


def sorted_worker_table(report: str) -> str:
    """Sort the per-worker lines: which worker ran which file is xdist's choice."""
    lines = report.splitlines()
    rows = [i for i, line in enumerate(lines) if line.startswith("  gwN ")]
    for i, line in zip(rows, sorted(lines[i] for i in rows), strict=True):
        lines[i] = line
    return "\n".join(lines)
