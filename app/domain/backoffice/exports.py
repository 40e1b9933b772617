"""The attendee list as CSV and Excel, written row by row as the rows are read."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
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


def csv_chunks(rows: Iterable[AttendeeRow], batch: int = 500) -> Iterator[str]:
    """The CSV text in chunks of `batch` rows (the header first)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for count, row in enumerate(rows, 1):
        writer.writerow(cells(row))
        if count % batch == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def xlsx_file(rows: Iterable[AttendeeRow]) -> IO[bytes]:
    """A temporary file holding the workbook, rewound; openpyxl's write-only mode keeps one
    row in memory at a time, and the file goes away when closed."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Attendees")
    sheet.append(list(HEADER))
    for row in rows:
        sheet.append(cells(row))
    spooled = tempfile.TemporaryFile()  # noqa: SIM115 (returned open; the response closes it)
    workbook.save(spooled)
    spooled.seek(0)
    return spooled
