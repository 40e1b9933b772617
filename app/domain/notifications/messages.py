"""The kinds of message: what each says (templates/email/<kind>.html and .txt) and with what.

A kind's `build` reads what the payload names (a booking, an event) when the message is sent,
and its `sample` makes the same context from made-up data, for the admins' preview. Times are
shown in the event's time zone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.orm import Session

from app.domain.accounts.models import User
from app.domain.events.models import Event, EventStatus
from app.domain.money import format_money
from app.domain.notifications import preferences, reminders
from app.domain.notifications.delivery import Skip
from app.domain.notifications.models import Channel
from app.domain.payments.models import Payment, Refund
from app.domain.ticketing.models import Booking, BookingStatus
from app.domain.tickets import wallet
from app.domain.tickets.calendar import booking_to_ics
from app.domain.tickets.pdf import tickets_pdf
from app.integrations.mail import Attachment

_TEMPLATES = Path(__file__).resolve().parents[3] / "templates"
# Without Flask (the worker renders): undefined names are errors, never silently empty text.
_ENV = Environment(
    loader=FileSystemLoader(_TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    auto_reload=False,
)


@dataclass(frozen=True)
class Content:
    subject: str
    context: dict[str, Any]
    # Made only when the message is sent (a PDF takes a while): not for previews or tests
    # that read the text.
    attach: Callable[[], list[Attachment]] = field(default=list)
    # Extra mail headers (List-Unsubscribe on optional messages).
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    attachments: list[Attachment]
    headers: Mapping[str, str] = field(default_factory=dict)


Build = Callable[[Session, Mapping[str, Any], Mapping[str, Any], datetime], Content]
Sample = Callable[[Mapping[str, Any], datetime], Content]


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    build: Build
    sample: Sample


KINDS: dict[str, Kind] = {}


def kind(name: str, label: str, sample: Sample) -> Callable[[Build], Build]:
    def register(build: Build) -> Build:
        KINDS[name] = Kind(name, label, build, sample)
        return build

    return register


def render(
    name: str, content: Content, config: Mapping[str, Any], *, attach: bool = True
) -> Rendered:
    """Both bodies of a message of kind `name` (a template error raises), and its files."""
    context = {**content.context, "subject": content.subject, "site_name": config["SITE_NAME"]}
    return Rendered(
        subject=content.subject,
        text=_ENV.get_template(f"email/{name}.txt").render(context),
        html=_ENV.get_template(f"email/{name}.html").render(context),
        attachments=content.attach() if attach else [],
        headers=content.headers,
    )


def build(
    session: Session,
    name: str,
    config: Mapping[str, Any],
    payload: Mapping[str, Any],
    now: datetime,
    *,
    attach: bool = True,
) -> Rendered:
    """The message of kind `name` about what `payload` names, as it is now."""
    return render(name, KINDS[name].build(session, config, payload, now), config, attach=attach)


def preview(name: str, config: Mapping[str, Any], now: datetime) -> Rendered:
    """The message of kind `name` with sample data (no attachments are made)."""
    return render(name, KINDS[name].sample(config, now), config, attach=False)


@dataclass(frozen=True)
class Short:
    """A message in a few words (templates/short/<kind>.txt), for a text message or a push
    notification: its subject as the title, one line of text, and the link it leads to."""

    title: str
    text: str
    url: str


def _short(name: str, content: Content, config: Mapping[str, Any]) -> Short:
    context = {**content.context, "subject": content.subject, "site_name": config["SITE_NAME"]}
    text = " ".join(_ENV.get_template(f"short/{name}.txt").render(context).split())
    link = content.context.get("link") or str(config["BASE_URL"])
    return Short(content.subject, text, str(link))


def short(
    session: Session,
    name: str,
    config: Mapping[str, Any],
    payload: Mapping[str, Any],
    now: datetime,
) -> Short:
    """The short form of the message of kind `name` about what `payload` names, as it is now
    (raises as `build` does)."""
    return _short(name, KINDS[name].build(session, config, payload, now), config)


def short_preview(name: str, config: Mapping[str, Any], now: datetime) -> Short:
    return _short(name, KINDS[name].sample(config, now), config)


def tickets_url(config: Mapping[str, Any], reference: str) -> str:
    # The worker has no request to build links from: BASE_URL and the pages' paths.
    return f"{booking_url(config, reference)}/tickets"


def booking_url(config: Mapping[str, Any], reference: str) -> str:
    return f"{str(config['BASE_URL']).rstrip('/')}/account/bookings/{reference}"


def _local(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%A %d %B %Y, %H:%M")


def _sample_booking(config: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    day = (now + timedelta(days=21)).date()
    starts = datetime.combine(day, time(19, 30), tzinfo=ZoneInfo("Europe/Paris"))
    return {
        "name": "Ada Lovelace",
        "reference": "B7K2QX",
        "event_title": "Sample concert",
        "when": _local(starts, "Europe/Paris"),
        "timezone": "Europe/Paris",
        "place": "Salle Pleyel, Paris",
        "tickets": 2,
        "link": tickets_url(config, "B7K2QX"),
    }


def _booking_context(config: Mapping[str, Any], booking: Booking) -> dict[str, Any]:
    """What every mail about a booking says: who, which booking and event, when, and a link."""
    event = booking.event
    assert booking.user is not None  # the builders skip bookings of deleted accounts
    return {
        "name": booking.user.name,
        "reference": booking.reference,
        "event_title": event.title,
        "when": _local(event.starts_at, event.timezone),
        "timezone": event.timezone,
        "link": booking_url(config, booking.reference),
    }


@kind("booking_confirmed", "Booking confirmed", lambda c, now: Content(
    "Your tickets for Sample concert", _sample_booking(c, now)))  # fmt: skip
def booking_confirmed(
    session: Session, config: Mapping[str, Any], payload: Mapping[str, Any], now: datetime
) -> Content:
    booking = session.get(Booking, int(payload["booking_id"]))
    if booking is None or booking.status != BookingStatus.CONFIRMED or booking.user is None:
        raise Skip("the booking is no longer confirmed")
    tickets = wallet.booking_tickets(session, booking, now=now)
    live = [ticket for ticket in tickets if ticket.live]
    if not live:
        raise Skip("the booking has no valid tickets")
    event = booking.event
    link = tickets_url(config, booking.reference)

    def attach() -> list[Attachment]:
        pdf = tickets_pdf(booking, tickets, site_name=config["SITE_NAME"])
        ics = booking_to_ics(
            booking,
            tickets=len(live),
            tickets_url=link,
            domain=urlsplit(link).hostname or "localhost",
            now=now,
        )
        return [
            Attachment(f"tickets-{booking.reference}.pdf", "application/pdf", pdf),
            Attachment(f"{booking.reference}.ics", "text/calendar", ics.encode()),
        ]

    place = ", ".join(p for p in (event.venue_name, event.city) if p) or "Online"
    return Content(
        subject=f"Your tickets for {event.title}",
        context={
            **_booking_context(config, booking),
            "place": place,
            "tickets": len(live),
            "link": link,
        },
        attach=attach,
    )


def _payment_of(session: Session, payload: Mapping[str, Any]) -> Payment:
    payment = session.get(Payment, int(payload["payment_id"]))
    if payment is None or payment.booking.user is None:
        raise Skip("the payment is gone")
    return payment


def _payment_context(config: Mapping[str, Any], payment: Payment, reason: str) -> dict[str, Any]:
    """What a mail about a payment says: its booking, event, amount and `reason`."""
    return {
        **_booking_context(config, payment.booking),
        "amount": format_money(payment.amount_minor, payment.currency),
        "reason": reason,
    }


@kind("payment_failed", "Payment failed", lambda c, now: Content(
    "Your payment for booking B7K2QX did not go through",
    {**_sample_booking(c, now), "amount": "€40.00", "reason": "The card was declined.",
     "link": booking_url(c, "B7K2QX")}))  # fmt: skip
def payment_failed(
    session: Session, config: Mapping[str, Any], payload: Mapping[str, Any], now: datetime
) -> Content:
    payment = _payment_of(session, payload)
    return Content(
        subject=f"Your payment for booking {payment.booking.reference} did not go through",
        context=_payment_context(config, payment, payment.failure_reason or "Declined."),
    )


def _sample_cancelled(c: Mapping[str, Any], now: datetime) -> Content:
    return Content(
        "Cancelled: Sample concert",
        {
            **_sample_booking(c, now),
            "note": "The hall is closed after a storm.",
            "references": ["B7K2QX"],
            "refunded": True,
            "waitlisted": False,
            "link": f"{str(c['BASE_URL']).rstrip('/')}/account/bookings",
        },
    )


@kind("event_cancelled", "Event cancelled", _sample_cancelled)
def event_cancelled(
    session: Session, config: Mapping[str, Any], payload: Mapping[str, Any], now: datetime
) -> Content:
    """One mail per person affected: their bookings, whether they are refunded, their waitlist
    place (as the cancellation found them: the payload says)."""
    event = session.get(Event, int(payload["event_id"]))
    user = session.get(User, int(payload["user_id"]))
    if event is None or user is None or user.deleted_at is not None:
        raise Skip("the event or the account is gone")
    return Content(
        subject=f"Cancelled: {event.title}",
        context={
            "name": user.name,
            "event_title": event.title,
            "when": _local(event.starts_at, event.timezone),
            "timezone": event.timezone,
            "note": event.cancellation_note or "",
            "references": list(payload.get("references", [])),
            "refunded": bool(payload.get("refunded")),
            "waitlisted": bool(payload.get("waitlisted")),
            "link": f"{str(config['BASE_URL']).rstrip('/')}/account/bookings",
        },
    )


@kind("booking_cancelled", "Booking cancelled", lambda c, now: Content(
    "Booking B7K2QX is cancelled", _sample_booking(c, now)))  # fmt: skip
def booking_cancelled(
    session: Session, config: Mapping[str, Any], payload: Mapping[str, Any], now: datetime
) -> Content:
    booking = session.get(Booking, int(payload["booking_id"]))
    if booking is None or booking.user is None:
        raise Skip("the booking is gone")
    return Content(
        subject=f"Booking {booking.reference} is cancelled",
        context={**_booking_context(config, booking), "tickets": booking.quantity},
    )


@kind("refund_issued", "Refund issued", lambda c, now: Content(
    "A refund for booking B7K2QX",
    {**_sample_booking(c, now), "amount": "€40.00", "reason": "The show moved to a smaller hall.",
     "cancelled": False, "link": booking_url(c, "B7K2QX")}))  # fmt: skip
def refund_issued(
    session: Session, config: Mapping[str, Any], payload: Mapping[str, Any], now: datetime
) -> Content:
    refunds = [session.get(Refund, int(i)) for i in payload["refund_ids"]]
    if not refunds or any(refund is None for refund in refunds):
        raise Skip("the refund is gone")
    first = refunds[0]
    assert first is not None
    booking = first.payment.booking
    if booking.user is None:
        raise Skip("the account is gone")
    total = sum(refund.amount_minor for refund in refunds if refund is not None)
    return Content(
        subject=f"A refund for booking {booking.reference}",
        context={
            **_booking_context(config, booking),
            "amount": format_money(total, first.currency),
            "reason": first.reason,
            "cancelled": booking.status == BookingStatus.REFUNDED,
        },
    )


@kind("payment_refunded", "Payment refunded (tickets not issued)", lambda c, now: Content(
    "Your payment for booking B7K2QX is being refunded",
    {**_sample_booking(c, now), "amount": "€40.00", "reason": "Your hold had run out.",
     "link": booking_url(c, "B7K2QX")}))  # fmt: skip
def payment_refunded(
    session: Session, config: Mapping[str, Any], payload: Mapping[str, Any], now: datetime
) -> Content:
    """A payment that arrived but could not confirm its booking, refunded in full."""
    payment = _payment_of(session, payload)
    return Content(
        subject=f"Your payment for booking {payment.booking.reference} is being refunded",
        context=_payment_context(config, payment, str(payload.get("reason", ""))),
    )


# --- reminders (optional: each carries a one-click unsubscribe) ------------------------------


def unsubscribe_headers(
    config: Mapping[str, Any], user_id: int, topic: str, channel: Channel
) -> dict[str, str]:
    """`List-Unsubscribe` (RFC 2369) and one-click `List-Unsubscribe-Post` (RFC 8058) for an
    optional message: the link of app/web/account/unsubscribe.py, built from BASE_URL as the
    worker has no request (the same as `list_unsubscribe_headers` there)."""
    token = preferences.unsubscribe_token(str(config["SECRET_KEY"]), user_id, topic, channel)
    link = f"{str(config['BASE_URL']).rstrip('/')}/unsubscribe/{token}"
    return {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def _sample_reminder(lead: str) -> Sample:
    def sample(c: Mapping[str, Any], now: datetime) -> Content:
        context = {**_sample_booking(c, now), "lead": lead, "online_url": None}
        context["unsubscribe"] = f"{str(c['BASE_URL']).rstrip('/')}/unsubscribe/sample"
        return Content(f"Reminder: Sample concert starts {lead}", context)

    return sample


def _reminder(
    name: str, lead: str
) -> Callable[[Session, Mapping[str, Any], Mapping[str, Any], datetime], Content]:
    def build(
        session: Session, config: Mapping[str, Any], payload: Mapping[str, Any], now: datetime
    ) -> Content:
        booking = session.get(Booking, int(payload["booking_id"]))
        if booking is None or booking.status != BookingStatus.CONFIRMED or booking.user is None:
            raise Skip("the booking is no longer confirmed")
        if booking.user.deleted_at is not None:
            raise Skip("the account is gone")
        event = booking.event
        if event.status != EventStatus.PUBLISHED:
            raise Skip(f"the event is {event.status.value}")
        if event.starts_at <= now:
            raise Skip("the event has started")
        if reminders.due_at(name, event.starts_at, now) is None:
            raise Skip("too close to the start for this reminder")
        headers = unsubscribe_headers(config, booking.user.id, preferences.REMINDERS, Channel.EMAIL)
        place = ", ".join(p for p in (event.venue_name, event.address, event.city) if p)
        return Content(
            subject=f"Reminder: {event.title} starts {lead}",
            context={
                **_booking_context(config, booking),
                "place": place or "Online",
                "online_url": event.online_url,
                "tickets": booking.quantity,
                "lead": lead,
                "link": tickets_url(config, booking.reference),
                "unsubscribe": headers["List-Unsubscribe"].strip("<>"),
            },
            headers=headers,
        )

    return kind(name, f"Reminder ({lead})", _sample_reminder(lead))(build)


reminder_24h = _reminder("reminder_24h", "tomorrow")
reminder_1h = _reminder("reminder_1h", "in an hour")
