"""Reports for a date range as CSV and XLSX: the same rows the dashboard's figures come from.

`Insight.report` makes the rows (one per group, then ``total``); this module
only writes them, so a CSV's totals are the dashboard's by construction and
a test checks that they stay so.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from openpyxl import Workbook

from server.features.insight.stats import REPORT_COLUMNS as COLUMNS


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return round(value, 4)
    return value


def _safe(value: Any) -> Any:
    """Never let a cell start a spreadsheet formula (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(rows: Sequence[Mapping[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_safe(_cell(row.get(c))) for c in COLUMNS])
    return out.getvalue().encode("utf-8")


def to_xlsx(rows: Sequence[Mapping[str, Any]], title: str) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append([_safe(_cell(row.get(c))) for c in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
