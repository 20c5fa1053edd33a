"""Texts from files: the lines of a text file, or one column of a CSV file.

Shared by the ``skstc`` command (:mod:`skstc.cli`) and the shard labelling of
:mod:`skstc.distributed`, which add their own errors and formats around them.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TextIO


def lines(text: str) -> list[str]:
    """The lines of ``text``: split at ``\\n``, a final empty line dropped, each ``\\r`` end
    removed."""
    parts = text.split("\n")
    if parts and parts[-1] == "":
        parts.pop()
    return [t.removesuffix("\r") for t in parts]


def csv_column(f: TextIO, path: Path, column: str | None) -> list[str]:
    """The values of ``column`` of the CSV file ``f`` (opened with ``newline=""``); without
    a column, the only one, else ``"text"``. ``ValueError`` names the columns there are."""
    reader = csv.DictReader(f)
    fields = reader.fieldnames or []
    name = column or (fields[0] if len(fields) == 1 else "text")
    if name not in fields:
        raise ValueError(f"{path}: no column {name!r} (columns: {', '.join(fields)})")
    return [row[name] or "" for row in reader]
