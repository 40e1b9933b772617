"""Demo tiers and seat maps for the demo events, made through the real services.

Alice (att1) and Bob (att2) have bookings, the film club is sold out with Carol (att3) on its
waitlist, and the jazz night has a hidden tier unlocked by the code BOATHOUSE.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.accounts.models import User
from app.domain.base import utcnow
from app.domain.events.models import Event
from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.models import TicketTier, TierKind, Unit
from app.domain.ticketing.seatmap import SeatAction, change_seats, replace_layout
from app.domain.ticketing.tiers import TierData, create_tier
from app.domain.ticketing.waitlist import join_waitlist

HOLD_MINUTES = 10
CHAMBER_LAYOUT = """Section Stalls
Row A: 1-12
Row B: 1-12
Row C: 1-5, 8-14
Section Balcony
Row D: 1-10
Row E: 1-10"""

# event key -> tiers (the first one of a seated event takes the new seats)
DEMO_TIERS: dict[str, list[TierData]] = {
    "jazz_night": [
        TierData(
            "Standing",
            TierKind.PAID,
            "Entry and a place by the bar.",
            price_minor=2500,
            currency="EUR",
            capacity=120,
            per_user_limit=6,
        ),
        TierData(
            "VIP table",
            TierKind.VIP,
            "A reserved table near the stage and a welcome drink.",
            price_minor=6000,
            currency="EUR",
            capacity=12,
            max_per_order=4,
            per_user_limit=4,
            position=1,
        ),
        TierData(
            "Friends of the Boathouse",
            TierKind.PAID,
            "Members' price.",
            price_minor=1500,
            currency="EUR",
            capacity=20,
            hidden=True,
            access_code="BOATHOUSE",
            position=2,
        ),
    ],
    "chamber_concert": [
        TierData("Stalls", TierKind.PAID, price_minor=4500, currency="EUR", max_per_order=6),
        TierData(
            "Balcony", TierKind.PAID, price_minor=3000, currency="EUR", max_per_order=6, position=1
        ),
    ],
    "python_meetup": [
        TierData(
            "Community ticket",
            TierKind.FREE,
            "Talks, pizza and drinks.",
            currency="GBP",
            capacity=80,
            per_user_limit=2,
        ),
    ],
    "htmx_workshop": [
        TierData("Workshop seat", TierKind.PAID, price_minor=1900, currency="USD", capacity=30),
    ],
    "film_club": [
        TierData("Rooftop seat", TierKind.FREE, "Blankets provided.", currency="EUR", capacity=2),
    ],
}


def load(session: Session, events: dict[str, Event]) -> None:
    """Give the demo events their tiers (and a seat map for the seated one), plus a few
    bookings and a waitlist so every page has something to show."""
    now = utcnow()
    tiers: dict[str, list[TicketTier]] = {}
    for key, specs in DEMO_TIERS.items():
        event = events.get(key)
        if event is None:
            continue
        tiers[key] = [
            create_tier(session, event=event, data=data, actor_id=event.organizer_id, now=now)
            for data in specs
        ]
    if "chamber_concert" in tiers:
        concert = events["chamber_concert"]
        stalls, balcony = tiers["chamber_concert"]
        replace_layout(
            session,
            event=concert,
            text=CHAMBER_LAYOUT,
            new_seat_tier=stalls,
            actor_id=concert.organizer_id,
            now=now,
        )
        balcony_seats = session.scalars(
            select(Unit.id).where(Unit.event_id == concert.id, Unit.section == "Balcony")
        ).all()
        change_seats(
            session,
            event=concert,
            action=SeatAction.ZONE,
            seat_ids=balcony_seats,
            tier=balcony,
            actor_id=concert.organizer_id,
            now=now,
        )
    users = {
        user.email: user
        for user in session.scalars(select(User).where(User.email.like("%@eventhall.test")))
    }
    alice, bob, carol = (users.get(f"{name}@eventhall.test") for name in ("alice", "bob", "carol"))
    if not (alice and bob and carol):
        return
    if "film_club" in tiers:
        (rooftop,) = tiers["film_club"]
        film = events["film_club"]
        for buyer in (alice, bob):
            hold_units(
                session,
                user=buyer,
                event=film,
                tier=rooftop,
                quantity=1,
                now=now,
                hold_minutes=HOLD_MINUTES,
            )
        join_waitlist(session, user=carol, tier=rooftop, quantity=1, now=now)
    if "python_meetup" in tiers:
        (community,) = tiers["python_meetup"]
        hold_units(
            session,
            user=alice,
            event=events["python_meetup"],
            tier=community,
            quantity=2,
            now=now,
            hold_minutes=HOLD_MINUTES,
        )
    session.flush()
