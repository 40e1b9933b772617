"""The kinds of message: what each says (templates/email/<kind>.html and .txt) and with what.

A kind's `build` reads what the payload names (a booking, an event) when the message is sent,
and its `sample` makes the same context from made-up data, for the admins' preview. Times are
shown in the event's time zone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.accounts.models import User
from app.domain.checkin.models import StaffInvitation
from app.domain.events.models import Event, EventStatus
from app.domain.money import format_money
from app.domain.notifications import digest, event_changes, holds, preferences, reminders
from app.domain.notifications.delivery import RenderFailure, Skip
from app.domain.notifications.models import Channel, Notification
from app.domain.payments.models import Payment, Refund
from app.domain.teams.models import TeamInvitation, TeamRole
from app.domain.ticketing.models import Booking, BookingStatus, TicketTier
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


@contextmanager
def _failing_as_render_failure(kind: str) -> Iterator[None]:
    if kind not in KINDS:
        raise RenderFailure(f"no template for the kind {kind!r}")
    try:
        yield
    except (TemplateError, LookupError, ValueError) as exc:
        raise RenderFailure(f"{type(exc).__name__}: {exc}") from exc


def mail_of(
    session: Session, notification: Notification, config: Mapping[str, Any], now: datetime
) -> Rendered:
    """A queued notification's mail, for a sender: RenderFailure when it cannot be made (its
    kind unknown, a template error, what it names unreadable), Skip when it should not go."""
    with _failing_as_render_failure(notification.kind):
        return build(session, notification.kind, config, notification.payload, now)


def short_of(
    session: Session, notification: Notification, config: Mapping[str, Any], now: datetime
) -> Short:
    """A queued notification's short form (SMS, push), failing as `mail_of` does."""
    with _failing_as_render_failure(notification.kind):
        return short(session, notification.kind, config, notification.payload, now)


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
    worker has no request."""
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


# --- holds and waitlist offers ---------------------------------------------------------------


@kind("hold_expiring", "Hold about to expire", lambda c, now: Content(
    "Your tickets for Sample concert are held until 19:42",
    {**_sample_booking(c, now), "until": "19:42", "minutes": 2,
     "link": booking_url(c, "B7K2QX")}))  # fmt: skip
def hold_expiring(
    session: Session, config: Mapping[str, Any], payload: Mapping[str, Any], now: datetime
) -> Content:
    booking = session.get(Booking, int(payload["booking_id"]))
    if booking is None or booking.user is None or booking.user.deleted_at is not None:
        raise Skip("the booking is gone")
    if booking.status != BookingStatus.PENDING:
        raise Skip(f"the booking is {booking.status.value}")
    ends = booking.hold_expires_at
    if ends is None or ends - now < holds.MIN_LEFT:
        raise Skip("the hold has run out")
    if ends - now > holds.LATEST_END:
        raise Skip("the hold was extended")
    until = ends.astimezone(ZoneInfo(booking.event.timezone)).strftime("%H:%M")
    return Content(
        subject=f"Your tickets for {booking.event.title} are held until {until}",
        context={
            **_booking_context(config, booking),
            "tickets": booking.quantity,
            "until": until,
            "minutes": max(1, round((ends - now).total_seconds() / 60)),
        },
    )


@kind("waitlist_offer", "Waitlist offer", lambda c, now: Content(
    "Tickets are waiting for you: Sample concert",
    {**_sample_booking(c, now), "tier": "Stalls", "until": _local(now + timedelta(minutes=30),
     "Europe/Paris"), "link": booking_url(c, "B7K2QX")}))  # fmt: skip
def waitlist_offer(
    session: Session, config: Mapping[str, Any], payload: Mapping[str, Any], now: datetime
) -> Content:
    """Units freed for someone on a waitlist, held for them as a pending booking."""
    booking = session.get(Booking, int(payload["booking_id"]))
    if booking is None or booking.user is None or booking.user.deleted_at is not None:
        raise Skip("the offer is gone")
    if booking.status != BookingStatus.PENDING or booking.hold_expires_at is None:
        raise Skip(f"the offer is {booking.status.value}")
    if booking.hold_expires_at <= now:
        raise Skip("the offer has run out")
    tier = session.get(TicketTier, int(payload["tier_id"]))
    return Content(
        subject=f"Tickets are waiting for you: {booking.event.title}",
        context={
            **_booking_context(config, booking),
            "tickets": booking.quantity,
            "tier": tier.name if tier is not None else "Tickets",
            "until": _local(booking.hold_expires_at, booking.event.timezone),
        },
    )


# --- organizers: moderation decisions and the daily digest -----------------------------------


def organizer_event_url(config: Mapping[str, Any], event_id: int) -> str:
    return f"{str(config['BASE_URL']).rstrip('/')}/organizer/events/{event_id}/edit"


# What a decision is about (the payload's "what") -> the subject of each kind's mail.
_DECISION_SUBJECTS = {
    ("event_approved", "event"): "Published: {title}",
    ("event_approved", "changes"): "Changes published: {title}",
    ("event_rejected", "event"): "Changes needed: {title}",
    ("event_rejected", "unpublished"): "Changes needed: {title}",
    ("event_rejected", "changes"): "Changes not published: {title}",
    ("event_cancelled_by_admin", "cancelled"): "Cancelled by an admin: {title}",
}


def _sample_decision(name: str, what: str, reason: str) -> Sample:
    def sample(c: Mapping[str, Any], now: datetime) -> Content:
        booking = _sample_booking(c, now)
        return Content(
            _DECISION_SUBJECTS[(name, what)].format(title="Sample concert"),
            {**booking, "name": "Grace Organizer", "what": what, "reason": reason,
             "link": organizer_event_url(c, 42)},
        )  # fmt: skip

    return sample


def _decision(name: str, label: str, sample: Sample) -> Build:
    def build(
        session: Session, config: Mapping[str, Any], payload: Mapping[str, Any], now: datetime
    ) -> Content:
        event = session.get(Event, int(payload["event_id"]))
        if event is None or event.organizer.deleted_at is not None:
            raise Skip("the event or its organizer is gone")
        what = str(payload["what"])
        return Content(
            subject=_DECISION_SUBJECTS[(name, what)].format(title=event.title),
            context={
                "name": event.organizer.name,
                "event_title": event.title,
                "when": _local(event.starts_at, event.timezone),
                "timezone": event.timezone,
                "what": what,
                "reason": str(payload.get("reason") or ""),
                "link": organizer_event_url(config, event.id),
            },
        )

    return kind(name, label, sample)(build)


event_approved = _decision(
    "event_approved", "Event approved", _sample_decision("event_approved", "event", "")
)
event_rejected = _decision(
    "event_rejected",
    "Event not approved",
    _sample_decision("event_rejected", "event", "Add the venue's address, please."),
)
event_cancelled_by_admin = _decision(
    "event_cancelled_by_admin",
    "Event cancelled by an admin",
    _sample_decision("event_cancelled_by_admin", "cancelled", "The venue has closed down."),
)


def _sample_digest(c: Mapping[str, Any], now: datetime) -> Content:
    zone = ZoneInfo("Europe/Paris")
    today = now.astimezone(zone).date()
    line = digest.EventSales(
        1, "Sample concert", datetime.combine(today + timedelta(days=21), time(19, 30), zone),
        "Europe/Paris", 12, {"EUR": 48000}, 140, {"EUR": 560000},
    )  # fmt: skip
    return _digest_content(c, "Grace Organizer", digest.Report(today - timedelta(days=1), [line]),
                           f"{str(c['BASE_URL']).rstrip('/')}/unsubscribe/sample", {})  # fmt: skip


def _digest_content(
    config: Mapping[str, Any],
    name: str,
    report: digest.Report,
    unsubscribe: str,
    headers: Mapping[str, str],
) -> Content:
    return Content(
        subject=f"Your sales on {report.day.strftime('%A %d %B')}: "
        f"{report.sold_yesterday} ticket{'s' if report.sold_yesterday != 1 else ''}",
        context={
            "name": name,
            "day": report.day.strftime("%A %d %B %Y"),
            "events": [
                {
                    "title": line.title,
                    "when": _local(line.starts_at, line.timezone),
                    "timezone": line.timezone,
                    "sold_yesterday": line.sold_yesterday,
                    "revenue_yesterday": line.yesterday(),
                    "sold_total": line.sold_total,
                    "revenue_total": line.total(),
                }
                for line in report.events
            ],
            "sold_yesterday": report.sold_yesterday,
            "revenue_yesterday": report.revenue_yesterday(),
            "sold_total": report.sold_total,
            "revenue_total": report.revenue_total(),
            "link": f"{str(config['BASE_URL']).rstrip('/')}/organizer/",
            "unsubscribe": unsubscribe,
        },
        headers=headers,
    )


@kind("sales_digest", "Daily sales digest", _sample_digest)
def sales_digest(
    session: Session, config: Mapping[str, Any], payload: Mapping[str, Any], now: datetime
) -> Content:
    organizer = session.get(User, int(payload["organizer_id"]))
    if organizer is None or organizer.deleted_at is not None:
        raise Skip("the organizer is gone")
    on = date.fromisoformat(str(payload["date"]))
    found = digest.report(session, organizer.id, on, str(payload["timezone"]), now)
    if found is None:
        raise Skip("nothing to report")
    headers = unsubscribe_headers(config, organizer.id, preferences.DIGESTS, Channel.EMAIL)
    return _digest_content(
        config, organizer.name, found, headers["List-Unsubscribe"].strip("<>"), headers
    )


# --- check-in staff --------------------------------------------------------------------------

Invitation = TypeVar("Invitation", StaffInvitation, TeamInvitation)


def _still_open(invitation: Invitation | None, now: datetime) -> Invitation:
    """The invitation, when still open: its mail is skipped once it is withdrawn, accepted or
    run out since it was queued."""
    if invitation is None or invitation.revoked_at is not None:
        raise Skip("the invitation was withdrawn")
    if invitation.accepted_at is not None:
        raise Skip("the invitation was accepted")
    if invitation.expires_at <= now:
        raise Skip("the invitation has run out")
    return invitation


@kind("staff_invitation", "Check-in staff invitation", lambda c, now: Content(
    "Check-in staff for “Sample concert”",
    {"organizer": "Grace Organizer", "event_title": "Sample concert",
     "when": _sample_booking(c, now)["when"], "timezone": "Europe/Paris",
     "expires": _local(now + timedelta(days=7), "Europe/Paris"),
     "link": f"{str(c['BASE_URL']).rstrip('/')}/staff/invitations/sample"}))  # fmt: skip
def staff_invitation(
    session: Session, config: Mapping[str, Any], payload: Mapping[str, Any], now: datetime
) -> Content:
    """To an address, maybe of no account yet: the link (with its token) is in the payload."""
    invitation = _still_open(session.get(StaffInvitation, int(payload["invitation_id"])), now)
    organizer = session.get(User, invitation.organizer_id)
    if organizer is None or organizer.deleted_at is not None:
        raise Skip("the organizer is gone")
    event = invitation.event
    # An invitation to all of the organizer's events has no event, so no time zone of its own.
    timezone = event.timezone if event is not None else "UTC"
    return Content(
        subject="Check-in staff for "
        + (f"“{event.title}”" if event is not None else f"all of {organizer.name}’s events"),
        context={
            "organizer": organizer.name,
            "event_title": event.title if event is not None else None,
            "when": _local(event.starts_at, event.timezone) if event is not None else None,
            "timezone": timezone,
            "expires": _local(invitation.expires_at, timezone),
            "link": str(payload["link"]),
        },
    )


# --- organizer teams -------------------------------------------------------------------------

TEAM_MAIL_EVENTS = 3  # the owner's next events named in an invitation, to say whose team it is
TEAM_ROLE_PHRASES = {
    TeamRole.MANAGE: "manage their events",
    TeamRole.SALES: "see the sales of their events",
    TeamRole.CHECKIN: "check in tickets at the door of their events",
}


@kind("team_invitation", "Organizer team invitation", lambda c, now: Content(
    "Join Grace Organizer’s team",
    {"organizer": "Grace Organizer", "role": TEAM_ROLE_PHRASES[TeamRole.SALES],
     "events": [("Sample concert", _sample_booking(c, now)["when"], "Europe/Paris")],
     "expires": _local(now + timedelta(days=7), "UTC"),
     "link": f"{str(c['BASE_URL']).rstrip('/')}/organizer/team/invitations/sample"}))  # fmt: skip
def team_invitation(
    session: Session, config: Mapping[str, Any], payload: Mapping[str, Any], now: datetime
) -> Content:
    """To an address, maybe of no account yet: the link (with its token) is in the payload."""
    invitation = _still_open(session.get(TeamInvitation, int(payload["invitation_id"])), now)
    owner = session.get(User, invitation.owner_id)
    if owner is None or owner.deleted_at is not None:
        raise Skip("the organizer is gone")
    upcoming = session.scalars(
        select(Event)
        .where(
            Event.organizer_id == owner.id,
            Event.status == EventStatus.PUBLISHED,
            Event.starts_at > now,
        )
        .order_by(Event.starts_at, Event.id)
        .limit(TEAM_MAIL_EVENTS)
    )
    return Content(
        subject=f"Join {owner.name}’s team",
        context={
            "organizer": owner.name,
            "role": TEAM_ROLE_PHRASES[invitation.role],
            "events": [(e.title, _local(e.starts_at, e.timezone), e.timezone) for e in upcoming],
            "expires": _local(invitation.expires_at, "UTC"),
            "link": str(payload["link"]),
        },
    )


# --- event changed ---------------------------------------------------------------------------


def _place(values: Mapping[str, Any]) -> str:
    return ", ".join(str(values[n]) for n in event_changes.VENUE if values.get(n)) or "none"


def _times(values: Mapping[str, Any]) -> str:
    zone = str(values["timezone"])
    starts = datetime.fromisoformat(str(values["starts_at"]))
    ends = datetime.fromisoformat(str(values["ends_at"])).astimezone(ZoneInfo(zone))
    same_day = starts.astimezone(ZoneInfo(zone)).date() == ends.date()
    until = ends.strftime("%H:%M") if same_day else _local(ends, zone)
    return f"{_local(starts, zone)} to {until} ({zone})"


def change_lines(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict[str, str]]:
    """What changed, from what to what, each time in the zone its version names."""
    lines = []
    if any(before[n] != after[n] for n in event_changes.TIME):
        lines.append({"what": "When", "before": _times(before), "after": _times(after)})
    if any(before[n] != after[n] for n in event_changes.VENUE):
        lines.append({"what": "Where", "before": _place(before), "after": _place(after)})
    if before["online_url"] != after["online_url"]:
        lines.append(
            {
                "what": "Join link",
                "before": before["online_url"] or "none",
                "after": after["online_url"] or "none",
            }
        )
    return lines


def _sample_changed(c: Mapping[str, Any], now: datetime) -> Content:
    day = (now + timedelta(days=21)).date()
    zone = ZoneInfo("Europe/Paris")
    before = {"starts_at": datetime.combine(day, time(19, 30), zone).isoformat(),
              "ends_at": datetime.combine(day, time(22, 0), zone).isoformat(),
              "timezone": "Europe/Paris", "venue_name": "Salle Pleyel", "address": None,
              "city": "Paris", "online_url": None}  # fmt: skip
    after = {**before, "starts_at": datetime.combine(day, time(20, 0), zone).isoformat(),
             "ends_at": datetime.combine(day, time(22, 30), zone).isoformat(),
             "venue_name": "Le Trianon"}  # fmt: skip
    return Content(
        "Sample concert has changed",
        {"name": "Ada Lovelace", "event_title": "Sample concert",
         "changes": change_lines(before, after),
         "link": f"{str(c['BASE_URL']).rstrip('/')}/events/1"},
    )  # fmt: skip


@kind("event_changed", "Event changed", _sample_changed)
def event_changed(
    session: Session, config: Mapping[str, Any], payload: Mapping[str, Any], now: datetime
) -> Content:
    event = session.get(Event, int(payload["event_id"]))
    user_id = payload.get("user_id")
    if event is None:
        raise Skip("the event is gone")
    if event.status != EventStatus.PUBLISHED:
        raise Skip(f"the event is {event.status.value}")
    if event.ends_at <= now:
        raise Skip("the event is over")
    user = session.get(User, int(user_id)) if user_id is not None else None
    if user is None or user.deleted_at is not None:
        raise Skip("the account is gone")
    holds_tickets = session.scalar(
        select(Booking.id)
        .where(
            Booking.event_id == event.id,
            Booking.user_id == user.id,
            Booking.status == BookingStatus.CONFIRMED,
        )
        .limit(1)
    )
    if holds_tickets is None:
        raise Skip("no confirmed booking any more")
    return Content(
        subject=f"{event.title} has changed",
        context={
            "name": user.name,
            "event_title": event.title,
            "changes": change_lines(payload["before"], payload["after"]),
            "link": f"{str(config['BASE_URL']).rstrip('/')}/events/{event.id}",
        },
    )
