"""Exports as CSV and Excel, written row by row as the rows are read: the attendee list, and
any table of cells (`table_csv_chunks`, `table_xlsx_file`: orders, payments)."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import IO

from openpyxl import Workbook

from app.domain.backoffice.attendees import AttendeeRow

HEADER = (
    "Buyer name",
    "Buyer email",
    "Ticket holder",
    "Booking reference",
    "Ticket type",
    "Seat",
    "Booking status",
    "Checked in at (UTC)",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """`value` with a leading quote when a spreadsheet would read it as a formula (a buyer
    named "=HYPERLINK(...)" must stay text in the organizer's spreadsheet)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def cells(row: AttendeeRow) -> list[str]:
    at = row.checked_in_at.strftime("%Y-%m-%d %H:%M") if row.checked_in_at else ""
    values = (
        row.buyer_name,
        row.buyer_email,
        row.holder_name,
        row.reference,
        row.tier,
        row.seat,
        row.status.value,
        at,
    )
    return [safe_cell(value) for value in values]


Cell = str | int | Decimal


def _safe(values: Sequence[Cell]) -> list[Cell]:
    return [safe_cell(value) if isinstance(value, str) else value for value in values]


def table_csv_chunks(
    header: Sequence[str], rows: Iterable[Sequence[Cell]], batch: int = 500
) -> Iterator[str]:
    """The CSV text in chunks of `batch` rows (the header first); text cells guarded
    against formulas, numbers written as numbers."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for count, row in enumerate(rows, 1):
        writer.writerow(_safe(row))
        if count % batch == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def table_xlsx_file(title: str, header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> IO[bytes]:
    """A temporary file holding the workbook (one sheet, `title`), rewound; openpyxl's
    write-only mode keeps one row in memory at a time, and the file goes away when closed."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.append(list(header))
    for row in rows:
        sheet.append(_safe(row))
    spooled = tempfile.TemporaryFile()  # noqa: SIM115 (returned open; the response closes it)
    workbook.save(spooled)
    spooled.seek(0)
    return spooled


def csv_chunks(rows: Iterable[AttendeeRow], batch: int = 500) -> Iterator[str]:
    """The attendee list's CSV text in chunks of `batch` rows (the header first)."""
    return table_csv_chunks(HEADER, (cells(row) for row in rows), batch)


def xlsx_file(rows: Iterable[AttendeeRow]) -> IO[bytes]:
    """The attendee list as a workbook in a temporary file."""
    return table_xlsx_file("Attendees", HEADER, (cells(row) for row in rows))
