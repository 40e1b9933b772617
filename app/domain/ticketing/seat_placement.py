"""Where to put a party of buyers in a row: pure functions over a row's free seat positions.

A row is described by the sorted `grid_x` positions of its free seats (`TierRow.free_x`): two
seats sit together when their positions differ by one, so aisles, taken seats and seats of
other price zones all break a run. Quality inside a row is closeness to the section's middle.

The no-single-seat rule: a placement that leaves a lone free seat (between taken seats, or
between taken seats and the row's end) is only chosen when every placement in the row would.
Second, a placement that leaves odd-sized free runs is avoided when an even one is as close:
most parties are pairs, and an odd run is the seat that ends up alone. Both moves cost at most
one seat of centrality.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class RowSeats:
    """The free seats of one tier row, as best available reads them."""

    key: int  # the tier row's id
    grid_y: int
    section: str
    row_label: str
    free_x: tuple[int, ...]
    centre: float  # the section's middle, in grid positions


def runs(positions: Sequence[int]) -> list[tuple[int, int]]:
    """Maximal runs of consecutive positions as (first, last), in order."""
    found: list[tuple[int, int]] = []
    for x in positions:
        if found and x == found[-1][1] + 1:
            found[-1] = (found[-1][0], x)
        else:
            found.append((x, x))
    return found


def longest_run(positions: Sequence[int]) -> int:
    return max((last - first + 1 for first, last in runs(positions)), default=0)


def placements(positions: Sequence[int], quantity: int, centre: float) -> list[list[int]]:
    """Every way to seat `quantity` side by side in the row, best first: fewest lone seats
    left, then even leftovers, then nearest `centre`."""
    scored: list[tuple[tuple[int, int, float, int], int]] = []
    for first, last in runs(positions):
        for start in range(first, last - quantity + 2):
            left, right = start - first, last - (start + quantity - 1)
            score = (
                (left == 1) + (right == 1),
                left % 2 + right % 2,
                abs(start + (quantity - 1) / 2 - centre),
                start,
            )
            scored.append((score, start))
    scored.sort()
    return [list(range(start, start + quantity)) for _, start in scored]


def best_run(positions: Sequence[int], quantity: int, centre: float) -> list[int] | None:
    """The best of `placements`, or None when no run is long enough."""
    found = placements(positions, quantity, centre)
    return found[0] if found else None


def stranded(positions: Sequence[int], taken: Iterable[int]) -> list[int]:
    """Free positions that taking `taken` would leave alone (no free neighbour), where
    before they had one."""
    free = set(positions)
    after = free - set(taken)

    def alone(x: int, seats: set[int]) -> bool:
        return x - 1 not in seats and x + 1 not in seats

    return sorted(x for x in after if alone(x, after) and not alone(x, free))


def spread(rows: Sequence[RowSeats], quantity: int) -> list[tuple[RowSeats, list[int]]]:
    """`quantity` free seats that are not all together: within one row when one has enough
    (the narrowest group), else over the fewest neighbouring rows of one section, front rows
    first, each row's seats nearest its middle. Empty when there are too few."""
    single = [row for row in rows if len(row.free_x) >= quantity]
    if single:
        row = single[0]
        windows = [row.free_x[i : i + quantity] for i in range(len(row.free_x) - quantity + 1)]
        tightest = min(
            windows,
            key=lambda w: (w[-1] - w[0], abs((w[0] + w[-1]) / 2 - row.centre)),
        )
        return [(row, list(tightest))]
    best: tuple[int, int] | None = None
    for start in range(len(rows)):
        count = 0
        for end in range(start, len(rows)):
            if rows[end].section != rows[start].section:
                break
            count += len(rows[end].free_x)
            if count >= quantity:
                if best is None or end - start < best[1] - best[0]:
                    best = (start, end)
                break
    chosen = rows[best[0] : best[1] + 1] if best else rows
    picked: list[tuple[RowSeats, list[int]]] = []
    wanted = quantity
    for row in chosen:
        if wanted == 0:
            break
        nearest = sorted(row.free_x, key=lambda x: (abs(x - row.centre), x))[:wanted]
        picked.append((row, sorted(nearest)))
        wanted -= len(nearest)
    return picked if wanted == 0 else []


def nearest_together(
    rows: Sequence[RowSeats],
    quantity: int,
    *,
    section: str,
    grid_y: int,
    centre: float,
    choices: int = 1,
) -> list[tuple[RowSeats, list[int]]]:
    """Up to `choices` non-overlapping groups of `quantity` adjacent free seats as near as
    possible to where the buyer looked (row `grid_y`, position `centre`, in `section`), best
    first: the nearest rows first, in a row the best placements (`placements`)."""
    ordered = sorted(rows, key=lambda row: (row.section != section, abs(row.grid_y - grid_y)))
    found: list[tuple[RowSeats, list[int]]] = []
    for row in ordered:
        taken: set[int] = set()
        for seats in placements(row.free_x, quantity, centre):
            if taken.isdisjoint(seats):
                found.append((row, seats))
                taken.update(seats)
                if len(found) == choices:
                    return found
    return found
