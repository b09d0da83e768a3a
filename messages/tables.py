"""Write a table as CSV or XLSX for staff, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

Cell = str | int | float | None
FORMATS = ("csv", "xlsx")
# A cell starting with one of these is run as a formula by spreadsheets: a member's name like
# "=HYPERLINK(...)" must stay text (OWASP's advice on CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe(value: Cell) -> Cell:
    """Keep text from being read as a formula; numbers pass as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_table(path: Path, headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> None:
    """Write headers and rows to a .csv (UTF-8 with BOM, for Excel) or .xlsx file."""
    kind = path.suffix.lower().lstrip(".")
    if kind == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(headers)
            writer.writerows([safe(v) for v in row] for row in rows)
        return
    if kind != "xlsx":
        raise ValueError(f"cannot write {path.name}: the file must end in .csv or .xlsx")
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook always has one sheet
    sheet.append(list(headers))
    for row in rows:
        sheet.append([safe(v) for v in row])
    for column, header in enumerate(headers, 1):
        widest = max([len(str(header))] + [len(str(r[column - 1] or "")) for r in rows])
        sheet.column_dimensions[get_column_letter(column)].width = min(60, widest + 2)
    sheet.freeze_panes = "A2"
    book.save(path)
