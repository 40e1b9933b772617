"""The ticket panel's numbers: what is left per tier (expired holds count as free at once),
which tiers show, and which quantities a buyer may pick."""

from __future__ import annotations

from datetime import timedelta

from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.catalog import remaining_by_tier, ticket_panel


def test_remaining_counts_expired_holds_as_free(db, now, make_tier, make_user):
    tier = make_tier(capacity=5, price_minor=700)
    hold_units(
        db, user=make_user(), event=tier.event, tier=tier, quantity=2, now=now, hold_minutes=10
    )
    assert remaining_by_tier(db, tier.event_id, now=now) == {tier.id: 3}
    assert remaining_by_tier(db, tier.event_id, now=now + timedelta(minutes=10)) == {tier.id: 5}
    assert remaining_by_tier(db, tier.event_id) == {tier.id: 3}


def test_panel_hides_hidden_tiers_until_unlocked(db, now, make_tier):
    public = make_tier(capacity=5, name="Public")
    secret = make_tier(event=public.event, capacity=5, hidden=True, access_code="SECRET1")
    panel = ticket_panel(db, public.event, now=now)
    assert [o.tier.id for o in panel.offers] == [public.id] and panel.has_hidden
    unlocked = ticket_panel(db, public.event, now=now, unlocked_tier_ids=frozenset({secret.id}))
    assert {o.tier.id for o in unlocked.offers} == {public.id, secret.id}


def test_sales_notes_and_quantities(db, now, make_tier, make_user):
    later = make_tier(capacity=5, sales_start=now + timedelta(days=1))
    ended = make_tier(event=later.event, capacity=5, sales_end=now - timedelta(seconds=1))
    limited = make_tier(event=later.event, capacity=3, min_per_order=2, per_user_limit=2)
    offers = {o.tier.id: o for o in ticket_panel(db, later.event, now=now).offers}
    assert (offers[later.id].on_sale, offers[later.id].sale_note) == (False, "Sales open later")
    assert (offers[ended.id].on_sale, offers[ended.id].sale_note) == (False, "Sales ended")
    assert list(offers[limited.id].quantities) == [2]
    hold_units(
        db, user=make_user(), event=later.event, tier=limited, quantity=2, now=now, hold_minutes=5
    )
    sold_out = {o.tier.id: o for o in ticket_panel(db, later.event, now=now).offers}[limited.id]
    assert sold_out.remaining == 1 and sold_out.sold_out
    assert list(sold_out.quantities) == [2]  # what one may wait for on the waitlist


def test_live_counts_agree_with_the_panel_on_expired_holds(db, now, make_tier, make_user):
    from app.domain.ticketing.seatmap_view import public_remaining

    tier = make_tier(capacity=5, price_minor=700)
    hold_units(
        db, user=make_user(), event=tier.event, tier=tier, quantity=2, now=now, hold_minutes=10
    )
    later = now + timedelta(minutes=10)
    assert public_remaining(db, tier.event_id, now=now) == {tier.id: 3}
    assert public_remaining(db, tier.event_id, now=later) == remaining_by_tier(
        db, tier.event_id, now=later
    )
    assert public_remaining(db, tier.event_id, now=later) == {tier.id: 5}
