"""Where best available puts a party inside a row, and the rules it keeps: pure functions."""

from __future__ import annotations

import pytest

from app.domain.ticketing.seat_placement import (
    RowSeats,
    best_run,
    longest_run,
    nearest_together,
    runs,
    spread,
    stranded,
)


def row(key: int, free: str, *, y: int | None = None, section: str = "") -> RowSeats:
    """A row drawn as text: '.' free, 'x' taken, ' ' an aisle; the middle of the drawing is
    the section's middle."""
    positions = tuple(i for i, mark in enumerate(free) if mark == ".")
    middle = (len(free) - 1) / 2
    return RowSeats(key, key if y is None else y, section, f"R{key}", positions, middle)


def drawn(positions: list[int] | None, width: int) -> str:
    chosen = set(positions or ())
    return "".join("#" if i in chosen else "-" for i in range(width))


def test_runs_and_longest_run() -> None:
    assert runs([1, 2, 3, 5, 8, 9]) == [(1, 3), (5, 5), (8, 9)]
    assert longest_run([1, 2, 3, 5, 8, 9]) == 3
    assert longest_run([]) == 0


@pytest.mark.parametrize(
    ("seats", "quantity", "expected"),
    [
        # An empty row of ten: the middle pair. Of eleven: just off it, so both sides stay even.
        ("..........", 2, "----##----"),
        ("...........", 2, "----##-----"),
        # Next to a taken pair, growing outwards rather than leaving a gap.
        ("...xx.....", 2, "-----##---"),
        ("....xx....", 2, "--##------"),
        # A run of three for a pair: one seat is left alone either way; the nearer pair wins.
        ("xxxxxxx...", 2, "-------##-"),
        # Five free between taken seats: an end of the run, not a pair that strands a seat.
        ("xx.....xxx", 2, "-----##---"),
        # Three together in a row of six: the end, not the middle (no lone seat at the end).
        ("......", 3, "###---"),
        # A lone seat can't always be avoided: then the least bad run is still used.
        ("x...x", 2, "-##--"),
        ("x.x.x", 2, "-----"),
        # An aisle breaks a run.
        ("... ...", 4, "-------"),
    ],
)
def test_best_run(seats: str, quantity: int, expected: str) -> None:
    free = [i for i, mark in enumerate(seats) if mark == "."]
    picked = best_run(free, quantity, (len(seats) - 1) / 2)
    assert drawn(picked, len(seats)) == expected


def test_pairs_fill_an_even_row_without_a_lone_seat() -> None:
    """Pair after pair into a row of forty: every seat sold, none left alone on the way."""
    free = list(range(40))
    while free:
        pair = best_run(free, 2, 19.5)
        assert pair is not None
        free = [x for x in free if x not in pair]
        assert all(x - 1 in free or x + 1 in free for x in free), free


def test_stranded_seats() -> None:
    free = [0, 1, 2, 3, 5, 6]
    assert stranded(free, [1, 2]) == [0, 3]  # each had a free neighbour before
    assert stranded(free, [0, 1]) == []
    assert stranded(free, [6]) == [5]
    assert stranded([4], [5]) == []  # already alone before: not this choice's doing


def test_spread_within_one_row_takes_the_narrowest_group() -> None:
    rows = [row(1, "x.x.x..x.x"), row(2, "..........")]
    ((chosen, seats),) = spread([rows[0]], 3)
    assert chosen.key == 1 and seats == [3, 5, 6]


def test_spread_over_the_fewest_neighbouring_rows() -> None:
    rows = [row(1, "xxx."), row(2, ".x.x"), row(3, "x..x")]
    picked = spread(rows, 4)
    assert [(r.key, seats) for r, seats in picked] == [(2, [0, 2]), (3, [1, 2])]
    assert spread(rows, 6) == []


def test_spread_stays_within_a_section() -> None:
    rows = [row(1, "x.", section="Stalls"), row(2, ".x", section="Circle")]
    picked = spread(rows, 2)
    assert [(r.key, seats) for r, seats in picked] == [(1, [1]), (2, [0])]  # no better choice


def test_nearest_together_prefers_the_same_row_then_neighbouring_rows() -> None:
    rows = [row(1, "xx....xx"), row(2, "........"), row(3, "..xx....")]
    ((found_row, seats),) = nearest_together(rows, 2, section="", grid_y=3, centre=3.5)
    assert found_row.key == 3 and seats == [4, 5]
    ((found_row, seats),) = nearest_together(rows, 2, section="", grid_y=1, centre=1.5)
    assert found_row.key == 1 and seats == [2, 3]
    assert nearest_together(rows, 9, section="", grid_y=1, centre=0) == []


def test_nearest_together_offers_several_groups_that_do_not_overlap() -> None:
    rows = [row(1, "xx....xx"), row(2, "........")]
    found = nearest_together(rows, 2, section="", grid_y=1, centre=3.5, choices=4)
    assert [(r.key, seats) for r, seats in found] == [
        (1, [2, 3]),
        (1, [4, 5]),
        (2, [2, 3]),
        (2, [4, 5]),
    ]
