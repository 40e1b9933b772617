"""The compact seat layout language: what it accepts, what it refuses and how it says so."""

from __future__ import annotations

import pytest

from app.domain.ticketing.seat_layout import (
    MAX_SEATS,
    SeatLayoutError,
    format_layout,
    parse_layout,
)

THEATRE = """
Section Stalls
Row A: 1-24
Row B: 1-20, 23-30
Section Balcony
Row AA: 5-8
"""


def problems(text: str) -> list[str]:
    with pytest.raises(SeatLayoutError) as caught:
        parse_layout(text)
    return caught.value.problems


def test_rows_sections_and_aisles_become_grid_places_in_seat_order() -> None:
    seats = parse_layout(THEATRE)

    assert len(seats) == 24 + 28 + 4
    assert [s.seat_order for s in seats] == list(range(1, len(seats) + 1))
    a1, b23, aa5 = seats[0], seats[24 + 20], seats[-4]
    assert (a1.section, a1.row_label, a1.number, a1.grid_x, a1.grid_y) == ("Stalls", "A", 1, 0, 0)
    # The aisle (21-22) stays empty on the grid: seat 23 sits under row A's seat 23.
    assert (b23.number, b23.grid_x, b23.grid_y) == (23, 22, 1)
    # A new section starts after an empty row; its own lowest number is its left edge.
    assert (aa5.section, aa5.number, aa5.grid_x, aa5.grid_y) == ("Balcony", 5, 0, 3)


def test_layout_without_sections_and_with_comments() -> None:
    seats = parse_layout("# front of house\nrow a : 3, 5 - 6\n\nRow B: 1")
    assert [(s.section, s.row_label, s.number) for s in seats] == [
        (None, "a", 3),
        (None, "a", 5),
        (None, "a", 6),
        (None, "B", 1),
    ]


def test_format_layout_writes_back_what_it_read() -> None:
    seats = parse_layout(THEATRE)
    text = format_layout((s.section, s.row_label, s.number) for s in seats)
    assert text == THEATRE.strip()
    assert parse_layout(text) == seats


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "The layout has no rows"),
        ("Stalls\nRow A: 1-4", "Line 1: expected “Section NAME” or “Row LABEL: 1-20”"),
        ("Row A: 20-1", "Line 1: 20-1 goes down; write it as 1-20."),
        ("Row A: 1-5, x", "Line 1: “x” is not a seat number or a range like 1-20."),
        ("Row A: 0-3", "Line 1: seat numbers go from 1 to 9999."),
        ("Row A: 1-10000", "Line 1: seat numbers go from 1 to 9999."),
        ("Row A: 1-5, 4-6", "Line 1: Row A lists seats 4, 5 more than once."),
        ("Row A: 1-5\nrow a: 6-8", "Line 2: Row a is listed twice; list its seats on one line."),
        ("Row A:", "Line 1: Row A has no seats."),
        ("Section X\nRow A: 1\nSection x\nRow A: 1", "Line 3: section “x” is listed twice."),
        ("Section Empty\nSection Full\nRow A: 1", "Line 1: section “Empty” has no rows."),
        ("Row ABCDEFGHIJK: 1", "Line 1: a row label has at most 10 characters."),
    ],
)
def test_bad_layouts_are_refused_with_the_line_and_the_reason(text: str, expected: str) -> None:
    assert any(problem.startswith(expected) for problem in problems(text)), problems(text)


def test_the_same_row_in_two_sections_is_two_rows() -> None:
    seats = parse_layout("Section Left\nRow A: 1-2\nSection Right\nRow A: 1-2")
    assert len({s.key for s in seats}) == 4


def test_too_many_seats_are_refused_without_building_them() -> None:
    rows = "\n".join(f"Row R{i}: 1-9999" for i in range(1, 2001))  # 20 million seats declared
    found = problems(rows)
    assert found[0] == f"The layout has 19,998,000 seats; a seat map holds at most {MAX_SEATS:,}."


def test_exactly_the_limit_is_accepted() -> None:
    rows = "\n".join(f"Row R{i}: 1-100" for i in range(1, MAX_SEATS // 100 + 1))
    assert len(parse_layout(rows)) == MAX_SEATS


def test_many_problems_are_summarized() -> None:
    found = problems("\n".join(f"Row R{i}: x" for i in range(20)))
    assert len(found) == 9
    assert found[-1] == "… and 12 more problems."
