"""What door staff read: counters per tier and gate, the attendee search (its own wildcards
taken literally), the offline bundle and the list of tickets admitted twice offline."""

from __future__ import annotations

from datetime import timedelta

from app.domain.checkin.door import (
    SEARCH_LIMIT,
    counters,
    double_admissions,
    like_pattern,
    offline_bundle,
    search,
)
from app.domain.checkin.scans import QueuedScan, scan, sync, undo
from app.domain.ticketing.bookings import cancel_booking
from app.domain.ticketing.models import Booking
from app.domain.tickets.signing import public_key


def test_counters_per_tier_and_gate(db, now, make_event, make_tier, make_tickets, make_staff):  # noqa: ANN001
    event = make_event()
    stalls = make_tier(event=event, name="Stalls", capacity=10, position=1)
    balcony = make_tier(event=event, name="Balcony", capacity=10, position=2)
    make_tier(event=event, name="Boxes", capacity=2, position=3)  # nothing sold
    in_stalls = make_tickets(tier=stalls, quantity=3)
    in_balcony = make_tickets(tier=balcony, quantity=2)
    cancelled = make_tickets(tier=balcony, quantity=1)
    booking = db.get(Booking, cancelled[0].booking_id)
    cancel_booking(db, booking, actor_id=booking.user_id, now=now)
    staff = make_staff(event)

    def admit(ticket, gate):  # noqa: ANN001, ANN202
        return scan(db, event, ticket_id=ticket.id, gate=gate, staff=staff, scan_id=None, now=now)

    admit(in_stalls[0], "North")
    admit(in_stalls[1], "North")
    undone = admit(in_stalls[2], "South")
    admit(in_balcony[0], "South")
    undo(db, event, undone.check_in.id, staff=staff, now=now)

    seen = counters(db, event)
    assert (seen.checked_in, seen.expected) == (3, 5)
    assert [(t.label, t.checked_in, t.expected) for t in seen.tiers] == [
        ("Stalls", 2, 3),
        ("Balcony", 1, 2),  # the cancelled booking's ticket is not expected
        ("Boxes", 0, 0),
    ]
    assert [(g.label, g.checked_in) for g in seen.gates] == [("North", 2), ("South", 1)]


def test_search_by_name_or_reference(db, now, make_event, make_tier, make_tickets, make_user):  # noqa: ANN001
    event = make_event()
    tier = make_tier(event=event, capacity=40)
    percent = make_tickets(tier=tier, user=make_user(name="Ann 100% Sure"))[0]
    underscore = make_tickets(tier=tier, user=make_user(name="Bo_b Tables"))[0]
    plain = make_tickets(tier=tier, user=make_user(name="Boab Tables"))[0]
    make_tickets(tier=tier, user=make_user(name="Ann 1000 Sure"))
    held = make_tickets(tier=tier, quantity=2, user=make_user(name="Carol Buyer"))
    held[1].holder_name = "Dan Holder"
    db.flush()

    def names(query):  # noqa: ANN001, ANN202
        return [hit.ticket.name for hit in search(db, event, query)]

    # A name's own wildcards are taken literally: "%" and "_" match only themselves.
    assert names("100%") == ["Ann 100% Sure"]
    assert names("%%") == []
    assert names("o_b") == ["Bo_b Tables"]
    assert sorted(names("tables")) == ["Bo_b Tables", "Boab Tables"]
    assert names("holder") == ["Dan Holder"]  # the holder's name, not the buyer's
    assert names("carol") == ["Carol Buyer"]
    reference = db.get(Booking, held[0].booking_id).reference
    assert sorted(names(f" {reference.lower()} ")) == ["Carol Buyer", "Dan Holder"]
    assert names(reference[:-1]) == []  # a reference is matched whole
    assert like_pattern("50%_off\\") == "%50\\%\\_off\\\\%"
    hits = {hit.ticket.id: hit for hit in search(db, event, "Tables")}
    assert hits[plain.id].valid and hits[plain.id].check_in is None
    assert percent.id not in hits and underscore.id in hits


def test_search_is_limited_and_of_this_event_only(db, make_tier, make_tickets, make_user):  # noqa: ANN001
    tier = make_tier(capacity=SEARCH_LIMIT + 5, max_per_order=SEARCH_LIMIT + 5)
    make_tickets(tier=tier, quantity=SEARCH_LIMIT + 5, user=make_user(name="Many Guests"))
    elsewhere = make_tier(capacity=2)
    make_tickets(tier=elsewhere, user=make_user(name="Many Others"))
    assert len(search(db, tier.event, "many")) == SEARCH_LIMIT
    assert {hit.ticket.name for hit in search(db, elsewhere.event, "many")} == {"Many Others"}


def test_the_offline_bundle(db, now, make_tier, make_tickets, make_staff):  # noqa: ANN001
    tier = make_tier(capacity=10)
    event = tier.event
    valid, checked_in = make_tickets(tier=tier, quantity=2)
    (void,) = make_tickets(tier=tier)
    booking = db.get(Booking, void.booking_id)
    cancel_booking(db, booking, actor_id=None, now=now)
    staff = make_staff(event)
    scan(db, event, ticket_id=checked_in.id, gate="A", staff=staff, scan_id=None, now=now)
    bundle = offline_bundle(db, event, now=now)
    assert bundle.public_key == public_key(db, event.id, now=now)
    assert bundle.void == [void.id]
    assert bundle.checked_in == [checked_in.id]
    assert set(bundle.tickets) == {valid.id, checked_in.id}
    assert bundle.tickets[valid.id].tier == tier.name


def test_double_admissions_are_listed(db, now, make_tier, make_tickets, make_staff):  # noqa: ANN001
    tier = make_tier(capacity=4)
    event = tier.event
    (ticket,) = make_tickets(tier=tier)
    north, south = make_staff(event, name="Nora"), make_staff(event, name="Sven")
    scan(db, event, ticket_id=ticket.id, gate="North", staff=north, scan_id=None, now=now)
    offline_at = now - timedelta(minutes=2)
    sync(
        db,
        event,
        staff=south,
        scans=[QueuedScan("s-1", offline_at, "South", ticket_id=ticket.id)],
        now=now,
    )
    (twice,) = double_admissions(db, event)
    assert twice.ticket.id == ticket.id
    assert (twice.first.gate, twice.first.by) == ("North", "Nora")
    assert (twice.again.gate, twice.again.by, twice.again.at) == ("South", "Sven", offline_at)
    assert double_admissions(db, make_tier().event) == []
