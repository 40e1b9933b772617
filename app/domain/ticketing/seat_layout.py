"""The compact seat layout language, read and written.

    Section Stalls
    Row A: 1-24
    Row B: 1-20, 23-30

Rows are listed from the stage backwards and seats numbered left to right, so the order of the
text is the order seats are handed out (`seat_order`). A gap in the numbers (21-22 above) is an
aisle on the grid: `grid_x` is the seat number counted from the section's lowest number, so the
seats with the same number line up from row to row. `grid_y` counts rows over the whole venue,
with an empty row between sections.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from app.domain.base import DomainError

MAX_SEATS = 20_000
MAX_SEAT_NUMBER = 9_999
MAX_SECTION_LENGTH = 40
MAX_ROW_LENGTH = 10
MAX_PROBLEMS = 8

_SECTION = re.compile(r"^section\s+(?P<name>.+)$", re.IGNORECASE)
_ROW = re.compile(r"^row\s+(?P<label>[^:]+?)\s*:\s*(?P<seats>.*)$", re.IGNORECASE)
_RANGE = re.compile(r"^(?P<first>\d+)(?:\s*[-–]\s*(?P<last>\d+))?$")


@dataclass(frozen=True)
class SeatSpec:
    section: str | None
    row_label: str
    number: int
    grid_x: int
    grid_y: int
    seat_order: int

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.section or "", self.row_label, str(self.number))


class SeatLayoutError(DomainError):
    """The layout text cannot be read; `problems` lists each reason (with its line)."""

    code = "bad_layout"

    def __init__(self, problems: list[str]) -> None:
        shown = problems[:MAX_PROBLEMS]
        if len(problems) > MAX_PROBLEMS:
            shown.append(f"… and {len(problems) - MAX_PROBLEMS} more problems.")
        super().__init__(" ".join(shown))
        self.problems = shown


@dataclass
class _Row:
    section: str | None
    label: str
    numbers: list[int]


def parse_layout(text: str) -> list[SeatSpec]:
    """The seats the layout describes, in seat order; raises `SeatLayoutError` on any problem."""
    rows, problems = _read_rows(text)
    if not problems and not rows:
        problems.append("The layout has no rows. Add one, for example “Row A: 1-20”.")
    if problems:
        raise SeatLayoutError(problems)
    return _place(rows)


def _read_rows(text: str) -> tuple[list[_Row], list[str]]:
    rows: list[_Row] = []
    problems: list[str] = []
    section: str | None = None
    sections_seen: set[str] = set()
    empty_sections: dict[str, int] = {}
    rows_seen: set[tuple[str, str]] = set()
    total = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"Line {number}:"
        if match := _SECTION.match(line):
            section = " ".join(match["name"].split())
            if len(section) > MAX_SECTION_LENGTH:
                problems.append(f"{where} a section name has at most {MAX_SECTION_LENGTH} letters.")
            elif section.casefold() in sections_seen:
                problems.append(f"{where} section “{section}” is listed twice.")
            sections_seen.add(section.casefold())
            empty_sections[section] = number
            continue
        match = _ROW.match(line)
        if not match:
            problems.append(
                f"{where} expected “Section NAME” or “Row LABEL: 1-20”, found “{line[:40]}”."
            )
            continue
        label = match["label"].strip()
        empty_sections.pop(section or "", None)
        if len(label) > MAX_ROW_LENGTH:
            problems.append(f"{where} a row label has at most {MAX_ROW_LENGTH} characters.")
            continue
        row_key = ((section or "").casefold(), label.casefold())
        if row_key in rows_seen:
            where_section = f" in section {section}" if section else ""
            problems.append(
                f"{where} Row {label} is listed twice{where_section}; list its seats on one line."
            )
            continue
        rows_seen.add(row_key)
        numbers, row_problems, count = _read_seats(
            match["seats"], label, where, budget=MAX_SEATS - total
        )
        problems.extend(row_problems)
        total += count
        if total <= MAX_SEATS:
            rows.append(_Row(section, label, numbers))
    for name, line_number in empty_sections.items():
        problems.append(f"Line {line_number}: section “{name}” has no rows.")
    if total > MAX_SEATS:
        problems.insert(
            0, f"The layout has {total:,} seats; a seat map holds at most {MAX_SEATS:,}."
        )
    return rows, problems


def _read_seats(
    spec: str, label: str, where: str, *, budget: int
) -> tuple[list[int], list[str], int]:
    """Seat numbers of one row, its problems, and how many seats it declares. Rows beyond
    the `budget` of seats left are only counted, never expanded (the size check reports them)."""
    problems: list[str] = []
    ranges: list[tuple[int, int]] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue  # "1-5," or an empty row: the empty-row check below speaks for it
        match = _RANGE.match(part)
        if not match:
            problems.append(f"{where} “{part[:20]}” is not a seat number or a range like 1-20.")
            continue
        first = int(match["first"])
        last = int(match["last"]) if match["last"] else first
        if first < 1 or last > MAX_SEAT_NUMBER:
            problems.append(f"{where} seat numbers go from 1 to {MAX_SEAT_NUMBER}.")
        elif last < first:
            problems.append(f"{where} {first}-{last} goes down; write it as {last}-{first}.")
        else:
            ranges.append((first, last))
    if not ranges and not problems:
        problems.append(f"{where} Row {label} has no seats.")
    count = sum(last - first + 1 for first, last in ranges)
    if count > budget:
        return [], problems, count
    numbers = sorted(n for first, last in ranges for n in range(first, last + 1))
    repeated = sorted({a for a, b in zip(numbers, numbers[1:], strict=False) if a == b})
    if repeated:
        shown = ", ".join(str(n) for n in repeated[:5])
        seats = "seats" if len(repeated) > 1 else "seat"
        problems.append(f"{where} Row {label} lists {seats} {shown} more than once.")
    return sorted(set(numbers)), problems, count


def _place(rows: list[_Row]) -> list[SeatSpec]:
    lowest: dict[str | None, int] = {}
    for row in rows:
        lowest[row.section] = min(lowest.get(row.section, row.numbers[0]), row.numbers[0])
    seats: list[SeatSpec] = []
    grid_y = -1
    previous_section: object = object()
    for row in rows:
        grid_y += 2 if row.section != previous_section and seats else 1
        previous_section = row.section
        for number in row.numbers:
            seats.append(
                SeatSpec(
                    section=row.section,
                    row_label=row.label,
                    number=number,
                    grid_x=number - lowest[row.section],
                    grid_y=grid_y,
                    seat_order=len(seats) + 1,
                )
            )
    return seats


def format_layout(seats: Iterable[tuple[str | None, str, int]]) -> str:
    """The layout text for (section, row label, number) triples given in seat order."""
    lines: list[str] = []
    current_section: object = object()
    current_row: tuple[str | None, str] | None = None
    numbers: list[int] = []

    def flush() -> None:
        if current_row is not None:
            lines.append(f"Row {current_row[1]}: {_ranges(numbers)}")

    for section, row_label, number in seats:
        if (section, row_label) != current_row:
            flush()
            if section != current_section and section is not None:
                lines.append(f"Section {section}")
            current_section = section
            current_row = (section, row_label)
            numbers = []
        numbers.append(number)
    flush()
    return "\n".join(lines)


def _ranges(numbers: list[int]) -> str:
    spans: list[tuple[int, int]] = []
    for number in numbers:
        if spans and number == spans[-1][1] + 1:
            spans[-1] = (spans[-1][0], number)
        else:
            spans.append((number, number))
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)
