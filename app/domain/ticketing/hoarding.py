"""Hoarding: holding tickets to keep them from others rather than to buy them.

Two rules per user and event, counted from the user's own bookings of the event (through
`ix_bookings_user_event`) under the user/event lock that every claim already takes
(`locking.lock_user_event`), inside the statement that counts the per-user limit
(`claims.CLAIM_GENERAL_ADMISSION`, `claims.CLAIM_ROW_SEATS`, `limits.with_user_limits`): the
booking path gains no write and no statement.

- Rate: at most `holds` new bookings in any `window`. Holding, cancelling and holding again
  would otherwise keep units away from other buyers for as long as one cares to click.
- Expiry: a user who let `expiries` holds run out unpaid within `expiry_window` waits
  `cooldown` after the last of them before holding again.

Waitlist offers are made by the system, not asked for, so they are not subject to these rules
(though an offer that runs out counts as an expired hold).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.domain.ticketing.errors import BookingError, wait_phrase

# When the user may make a new booking again (`rate_until`, `cooldown_until`): aggregates over
# their bookings `b` of the event (:user_id, :event_id) at :now; NULL when they may right now
# (and when the rules' parameters are NULL). The rate's: once `holds` bookings are in the
# window, when the oldest of them leaves it (an aggregate, not a sort for the `holds`-th
# newest: each booking was counted before it was made, so the window rarely holds more (a
# waitlist offer, a lowered setting), and then the next try is told to wait again). The
# expiries': once enough holds ran out unpaid in their window, the last of them plus the
# cooldown. The claim statements compute them in the scan that counts the per-user limit.
_IN_RATE_WINDOW = "b.created_at > :now - CAST(:holds_window AS interval) AND b.created_at <= :now"
_RAN_OUT = (
    "b.status IN ('pending', 'expired') AND b.hold_expires_at <= :now"
    " AND b.hold_expires_at > :now - CAST(:expiries_window AS interval)"
)
WAIT_COLUMNS = f"""
    CASE WHEN count(*) FILTER (WHERE {_IN_RATE_WINDOW}) >= CAST(:holds_max AS integer)
         THEN min(b.created_at) FILTER (WHERE {_IN_RATE_WINDOW})
              + CAST(:holds_window AS interval) END AS rate_until,
    CASE WHEN count(*) FILTER (WHERE {_RAN_OUT}) >= CAST(:expiries_max AS integer)
         THEN max(b.hold_expires_at) FILTER (WHERE {_RAN_OUT})
              + CAST(:expiry_cooldown AS interval) END AS cooldown_until"""
# The same on their own, for a subquery in FROM (`AS waits`).
WAITS = f"""(SELECT {WAIT_COLUMNS} FROM bookings b
    WHERE b.user_id = :user_id AND b.event_id = :event_id
      AND ({_IN_RATE_WINDOW} OR ({_RAN_OUT})))"""  # noqa: S608 - constants only
# Both allow a new booking (SQL, over the columns `rate_until` and `cooldown_until`).
NO_WAIT = "(rate_until IS NULL AND (cooldown_until IS NULL OR cooldown_until <= :now))"


@dataclass(frozen=True)
class HoldRules:
    holds: int = 10
    window: timedelta = timedelta(minutes=10)
    expiries: int = 3
    expiry_window: timedelta = timedelta(hours=1)
    cooldown: timedelta = timedelta(minutes=30)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> HoldRules:
        return cls(
            holds=int(config["HOLD_RATE_MAX"]),
            window=timedelta(seconds=int(config["HOLD_RATE_WINDOW_SECONDS"])),
            expiries=int(config["EXPIRED_HOLDS_MAX"]),
            expiry_window=timedelta(seconds=int(config["EXPIRED_HOLDS_WINDOW_SECONDS"])),
            cooldown=timedelta(seconds=int(config["EXPIRED_HOLDS_COOLDOWN_SECONDS"])),
        )

    def params(self) -> dict[str, object]:
        """The statements' parameters for these rules."""
        return {
            "holds_max": self.holds,
            "holds_window": self.window,
            "expiries_max": self.expiries,
            "expiries_window": self.expiry_window,
            "expiry_cooldown": self.cooldown,
        }


# For waitlist offers: the same statements with the rules left out.
NO_RULES: dict[str, object] = dict.fromkeys(HoldRules().params())


def check_waits(
    rate_until: datetime | None, cooldown_until: datetime | None, *, now: datetime
) -> None:
    """Refuse a new booking while either rule makes the user wait."""
    if rate_until is not None and rate_until > now:
        raise BookingError(
            "too_many_holds",
            "You have started many bookings for this event in a short time. "
            f"Please try again in {wait_phrase(rate_until - now)}.",
        )
    if cooldown_until is not None and cooldown_until > now:
        raise BookingError(
            "holds_expired",
            "Your last holds for this event ran out without being paid. "
            f"You can hold tickets again in {wait_phrase(cooldown_until - now)}.",
        )
