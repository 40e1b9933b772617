"""Tiers: settings checks, capacity changes (units follow), listing price kept current."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.domain.audit import AuditEntry
from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.errors import BookingError
from app.domain.ticketing.models import TicketTier, TierKind, Unit, WaitlistEntry
from app.domain.ticketing.tiers import (
    TierData,
    create_tier,
    delete_tier,
    set_capacity,
    tier_sales,
    update_tier,
)
from app.domain.ticketing.waitlist import join_waitlist


def ga_units(db, tier_id) -> int:
    return db.scalar(select(func.count()).select_from(Unit).where(Unit.tier_id == tier_id))


def paid(**fields) -> TierData:
    values = {"name": "Standard", "kind": TierKind.PAID, "price_minor": 4500, "capacity": 50}
    values.update(fields)
    return TierData(**values)


def test_create_makes_units_and_sets_the_listing_price(db, now, make_event):
    event = make_event()
    tier = create_tier(db, event=event, data=paid(), actor_id=event.organizer_id, now=now)
    assert ga_units(db, tier.id) == 50 and tier.capacity == 50
    assert event.min_price_minor == 4500 and event.currency == "USD"
    create_tier(
        db, event=event, data=TierData(name="Community", capacity=5), actor_id=None, now=now
    )
    assert event.min_price_minor == 0
    hidden = paid(name="Crew", price_minor=1, hidden=True, access_code="CREW-2026")
    create_tier(db, event=event, data=hidden, actor_id=None, now=now)
    assert event.min_price_minor == 0  # hidden tiers are not advertised
    assert db.scalar(select(func.count()).select_from(AuditEntry)) == 3


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "  "}, "name"),
        ({"kind": TierKind.FREE}, "free ticket type has no price"),
        ({"price_minor": 0}, "price above zero"),
        ({"currency": "EURO"}, "three-letter"),
        ({"capacity": -1}, "Capacity"),
        ({"capacity": 100_001}, "Capacity"),
        ({"min_per_order": 0}, "Per order"),
        ({"min_per_order": 5, "max_per_order": 4}, "Per order"),
        ({"per_user_limit": 1, "min_per_order": 2}, "limit per person"),
        ({"hidden": True}, "access code"),
        ({"hidden": True, "access_code": "abc"}, "access code"),
        # Rules that lived only in the tier form until the API needed them too.
        ({"access_code": "abc"}, "access code"),
        ({"description": "x" * 2001}, "description"),
        ({"per_user_limit": 10_001}, "limit per person"),
        ({"position": 1001}, "order on the page"),
        ({"position": -1}, "order on the page"),
        ({"price_minor": 1_000_000_000}, "price is out of range"),
        ({"currency": "ÄÖÜ"}, "three-letter"),
    ],
)
def test_bad_settings_are_refused(db, now, make_event, fields, message):
    event = make_event()
    with pytest.raises(BookingError, match=message):
        create_tier(db, event=event, data=paid(**fields), actor_id=None, now=now)
    assert db.scalar(select(func.count()).select_from(TicketTier)) == 0


def test_sales_window_must_be_ordered(db, now, make_event):
    with pytest.raises(BookingError, match="end after"):
        create_tier(
            db,
            event=make_event(),
            data=paid(sales_start=now, sales_end=now - timedelta(hours=1)),
            actor_id=None,
            now=now,
        )


def test_one_currency_per_event(db, now, make_event):
    event = make_event()
    create_tier(db, event=event, data=paid(currency="eur"), actor_id=None, now=now)
    with pytest.raises(BookingError, match="one currency"):
        create_tier(db, event=event, data=paid(currency="USD"), actor_id=None, now=now)


def test_capacity_goes_up_freely_and_down_to_sold_plus_held(db, now, make_tier, make_user):
    tier = make_tier(capacity=10, price_minor=100)
    hold_units(
        db, user=make_user(), event=tier.event, tier=tier, quantity=4, now=now, hold_minutes=5
    )
    set_capacity(db, tier, 25, now=now)
    assert ga_units(db, tier.id) == 25 and tier.capacity == 25
    set_capacity(db, tier, 4, now=now)
    assert ga_units(db, tier.id) == 4
    with pytest.raises(BookingError) as error:
        set_capacity(db, tier, 3, now=now)
    assert error.value.code == "capacity_too_low" and "4 sold or held" in error.value.message
    assert ga_units(db, tier.id) == 4
    # The held units were never touched.
    assert (
        db.scalar(select(func.count()).select_from(Unit).where(Unit.booking_id.is_not(None))) == 4
    )


def test_new_units_continue_the_seat_order(db, now, make_tier):
    tier = make_tier(capacity=3)
    set_capacity(db, tier, 5, now=now)
    orders = sorted(db.scalars(select(Unit.seat_order).where(Unit.tier_id == tier.id)))
    assert orders == [1, 2, 3, 4, 5]


def test_raising_capacity_offers_the_waitlist(db, now, make_tier, make_user):
    tier = make_tier(capacity=1)
    hold_units(
        db, user=make_user(), event=tier.event, tier=tier, quantity=1, now=now, hold_minutes=5
    )
    waiting = make_user()
    entry = join_waitlist(db, user=waiting, tier=tier, quantity=2, now=now)
    update_tier(
        db,
        tier=tier,
        data=TierData(name=tier.name, capacity=3, max_per_order=10),
        actor_id=None,
        now=now,
    )
    db.refresh(entry)
    assert entry.status == "offered" and entry.booking_id is not None


def test_delete_only_unbooked_tiers(db, now, make_tier, make_user):
    tier = make_tier(capacity=5)
    spare = make_tier(event=tier.event, capacity=5)
    hold_units(
        db, user=make_user(), event=tier.event, tier=tier, quantity=1, now=now, hold_minutes=5
    )
    with pytest.raises(BookingError) as error:
        delete_tier(db, tier=tier, actor_id=None, now=now)
    assert error.value.code == "tier_in_use"
    delete_tier(db, tier=spare, actor_id=None, now=now)
    assert db.get(TicketTier, spare.id) is None and ga_units(db, spare.id) == 0


def test_sales_overview(db, now, make_tier, make_user):
    tier = make_tier(capacity=10, price_minor=300)
    free = make_tier(event=tier.event, capacity=4)
    hold_units(
        db, user=make_user(), event=tier.event, tier=tier, quantity=3, now=now, hold_minutes=5
    )
    hold_units(
        db, user=make_user(), event=tier.event, tier=free, quantity=2, now=now, hold_minutes=5
    )
    sales = tier_sales(db, tier.event_id)
    assert (sales[tier.id].sold, sales[tier.id].held, sales[tier.id].free) == (0, 3, 7)
    assert (sales[free.id].sold, sales[free.id].held, sales[free.id].free) == (2, 0, 2)
    assert db.scalar(select(func.count()).select_from(WaitlistEntry)) == 0


def test_access_codes_have_8_characters_or_are_kept_unchanged(db, now, make_event, make_tier):
    event = make_event()
    with pytest.raises(BookingError, match="8 to 64 characters"):
        create_tier(
            db, event=event, data=paid(hidden=True, access_code="SEVEN77"), actor_id=None, now=now
        )
    legacy = make_tier(event=event, capacity=5, hidden=True, access_code="OLD1")
    kept = paid(name=legacy.name, capacity=5, hidden=True, access_code=" OLD1 ")
    update_tier(db, tier=legacy, data=kept, actor_id=None, now=now)
    assert legacy.access_code == "OLD1"
    with pytest.raises(BookingError, match="8 to 64 characters"):
        update_tier(
            db, tier=legacy, data=paid(hidden=True, access_code="OLD2"), actor_id=None, now=now
        )
