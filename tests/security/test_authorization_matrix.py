"""Every route of the URL map, called by every kind of visitor, answers as expected.

The personas: anonymous, an unverified attendee, an attendee, check-in staff (an attendee
granted the door of the owner's event: nothing else of the organizer's), three members of the
organizer's team (manage: all of the organizer's events but the team; sales: read-only sales
pages; check-in: the door only, never revenue), the owner of the objects in the URL (the
organizer of the event for organizer routes, the buyer of the booking for account routes),
another organizer, and an admin. A refusal (login, 403, 404) changes
nothing in the database: a fingerprint of every table that holds state is the same before and
after. The forms carry valid data, so a missing check would show as a change, not as a
validation error.

A route missing from `ROUTES` fails `test_every_route_has_expectations`: a new route cannot
slip in without saying who may use it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.domain.accounts.models import (
    ApplicationStatus,
    OAuthIdentity,
    OrganizerApplication,
    Role,
    User,
)
from app.domain.api_tokens import personal
from app.domain.base import utcnow
from app.domain.checkin.models import CheckIn, StaffGrant, StaffInvitation
from app.domain.checkin.staff import invite
from app.domain.events.models import Category, Event, EventReport, EventRevision, EventStatus
from app.domain.events.revisions import material_of, propose
from app.domain.notifications import push
from app.domain.notifications.models import Channel, Notification, NotificationStatus
from app.domain.notifications.preferences import REMINDERS, unsubscribe_token
from app.domain.notifications.queue import notification_key, notify
from app.domain.outbox import enqueue
from app.domain.payments.checkout import begin_payment, record_checkout
from app.domain.payments.models import Payment
from app.domain.teams.membership import invite as team_invite
from app.domain.teams.models import TeamInvitation, TeamMember, TeamRole
from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.bookings import confirm_booking
from app.domain.ticketing.coupon_settings import CouponData, create_coupon
from app.domain.ticketing.models import (
    Booking,
    Coupon,
    CouponKind,
    Ticket,
    TicketTier,
    WaitlistEntry,
)
from app.domain.ticketing.seatmap import replace_layout
from app.domain.webhooks import endpoints as webhook_endpoints
from app.domain.webhooks.models import DeliveryStatus
from app.integrations.payments import configured_providers
from app.integrations.payments.base import CheckoutRequest
from tests.factories.push import push_subscription_json

PERSONAS = (
    "anonymous",
    "unverified",
    "attendee",
    "staff",
    "team_manage",
    "team_sales",
    "team_checkin",
    "owner",
    "other_organizer",
    "admin",
)
LOGIN = "login"  # a redirect to the login page
VERIFY = "verify"  # a redirect to the profile: prove your address first
OK = "ok"  # any answer that is not a refusal (2xx, 3xx elsewhere than login, 422 on bad input)
# Tables whose rows are the state a refused request must not touch (sessions and login
# attempts change on every visit by design).
STATE_TABLES = (
    "users",
    "oauth_identities",
    "recovery_codes",
    "password_reset_tokens",
    "organizer_applications",
    "categories",
    "events",
    "speakers",
    "event_reports",
    "event_revisions",
    "ticket_tiers",
    "coupons",
    "units",
    "bookings",
    "booking_lines",
    "tickets",
    "payments",
    "refunds",
    "payment_events",
    "waitlist_entries",
    "staff_grants",
    "staff_invitations",
    "audit_log",
    "outbox",
    "check_ins",
    "notifications",
    "notification_preferences",
    "failing_addresses",
    "double_admissions",
    "push_subscriptions",
    "push_device_tokens",
    "phone_numbers",
    "team_members",
    "team_invitations",
    "personal_tokens",
    "refresh_families",
    "refresh_tokens",
    "api_idempotency_keys",
    "webhook_endpoints",
    "webhook_deliveries",
)


# Every row of a table in a stable order, as one digest (table names are the constants above).
ROWS_DIGEST = "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t"


def spec(default: object, **personas: object) -> dict[str, object]:
    return {persona: personas.get(persona, default) for persona in PERSONAS}


PUBLIC = spec(OK)
SIGNED_IN = spec(OK, anonymous=LOGIN)
# Buying and reporting only with a proven address (it may be someone else's otherwise).
PROVEN = spec(OK, anonymous=LOGIN, unverified=VERIFY)
# The owner's objects: others' organizers see nothing (404), other roles are refused (403);
# so are the members of the owner's team on the owner-only pages (the team, check-in staff).
OWN_EVENT = spec(403, anonymous=LOGIN, owner=OK, other_organizer=404)
# The owner's event, to run: the team's managers too; other members find nothing there.
TEAM_EVENT = spec(
    403,
    anonymous=LOGIN,
    owner=OK,
    other_organizer=404,
    team_manage=OK,
    team_sales=404,
    team_checkin=404,
)
# The owner's sales (attendees, exports, payments), to read: managers and sales members; a
# check-in-only member finds nothing (no revenue, no buyers).
SALES_EVENT = {**TEAM_EVENT, "team_sales": OK}
ANY_ORGANIZER = spec(403, anonymous=LOGIN, owner=OK, other_organizer=OK)
ADMIN = spec(403, anonymous=LOGIN, admin=OK)
OWN_BOOKING = spec(404, anonymous=LOGIN, owner=OK)
NOT_FOUND = spec(404)
# An invitation is for the account with its address (the attendee's here): anyone else is told
# it is for another address (403) and changes nothing.
INVITED = spec(403, anonymous=LOGIN, attendee=OK)
# The door of an event: its organizer, admins and its staff; anyone else finds nothing there.
DOOR = spec(404, anonymous=LOGIN, owner=OK, admin=OK, staff=OK, team_manage=OK, team_checkin=OK)
# The scanner script's JSON answers: a visitor is told to log in (401), not redirected.
DOOR_JSON = spec(404, anonymous=401, owner=OK, admin=OK, staff=OK, team_manage=OK, team_checkin=OK)


@dataclass
class World:
    """The objects the routes act on, owned by `organizer` (events) and `buyer` (bookings)."""

    users: dict[str, User]
    event: Event  # published, seated, on sale
    tier: TicketTier  # a zone of `event`
    draft: Event
    submitted: Event
    booking: Booking  # buyer's hold on `event`
    entry: WaitlistEntry  # buyer's place on a sold-out tier of `event`
    application: OrganizerApplication
    category: Category
    report: EventReport
    seat_id: int  # a free seat of `event`
    revision: EventRevision  # changes to `event` waiting for review
    identity: OAuthIdentity  # the buyer's sign-in link with a provider
    payment: Payment  # the buyer's payment of `booking`, started with the demo provider
    coupon: Coupon  # a code of `event`
    invitation: StaffInvitation  # the organizer's, pending, for the attendee's address
    invitation_token: str
    grant: StaffGrant  # the staff persona's door of `event`
    ticketed: Booking  # buyer's confirmed booking (a free ticket of another event)
    ticket_id: int  # its ticket
    ticket: Ticket  # a valid ticket of a confirmed booking of `event`, not checked in
    check_in: CheckIn  # the live check-in of another ticket of `event`
    notification: Notification  # a failed mail (the buyer's confirmation of `ticketed`)
    notification_id: int  # the buyer's unread in-app notification
    unsubscribe_token: str  # the buyer's link to stop reminders by email
    push_subscription_id: int  # a browser of the buyer's that gets push notifications
    failed_job_id: int  # an outbox job whose last try failed, waiting for its retry
    members: dict[str, TeamMember]  # the team personas' memberships of the organizer's team
    team_draft: Event  # another draft of the organizer's, for the team's manager to delete
    team_invitation: TeamInvitation  # the organizer's, pending, for the attendee's address
    team_invitation_token: str
    personal_token_id: int  # the buyer's API token
    webhook_endpoint_id: int  # the organizer's
    webhook_delivery_id: int  # a failed delivery to it


@dataclass(frozen=True)
class Route:
    params: Callable[[World], dict[str, Any]] = lambda w: {}
    get: dict[str, object] | None = None
    post: dict[str, object] | None = None
    patch: dict[str, object] | None = None  # JSON APIs only (`json`)
    data: Callable[[World], dict[str, Any]] = lambda w: {}
    owner: str = "organizer"  # which user is the "owner" persona: "organizer" or "buyer"
    headers: dict[str, str] = field(default_factory=dict)
    json: Callable[[World], Any] | None = None  # a JSON body instead of `data`
    # Other URL values for some personas: an object one allowed persona deletes is not there
    # for the next one.
    params_as: dict[str, Callable[[World], dict[str, Any]]] = field(default_factory=dict)


def _event(w: World) -> dict[str, Any]:
    return {"event_id": w.event.id}


def _booking_of_event(w: World) -> dict[str, Any]:
    return {"event_id": w.event.id, "reference": w.booking.reference}


def _event_form(w: World) -> dict[str, Any]:
    starts = utcnow() + timedelta(days=40)
    return {
        "title": "Changed title",
        "description": "Changed.",
        "event_type": "offline",
        "venue_name": "Hall",
        "address": "Street 1",
        "city": "Berlin",
        "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (starts + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "timezone": "Europe/Berlin",
        "category_id": "",
        "tags": "",
    }


def _coupon(w: World) -> dict[str, Any]:
    return {"event_id": w.event.id, "coupon_id": w.coupon.id}


def _coupon_form(w: World) -> dict[str, Any]:
    return {"code": "NEWCODE", "kind": "fixed", "amount_off": "2.00", "min_quantity": "1"}


def _tier_form(w: World) -> dict[str, Any]:
    return {
        "name": "New zone",
        "kind": "paid",
        "price": "12.00",
        "currency": "USD",
        "capacity": "0",
        "min_per_order": "1",
        "max_per_order": "4",
        "position": "5",
    }


def _api_event() -> dict[str, Any]:
    starts = utcnow() + timedelta(days=40)
    return {
        "title": "From the API",
        "venue_name": "Hall",
        "address": "Street 1",
        "city": "Berlin",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=2)).isoformat(),
        "timezone": "Europe/Berlin",
    }


ROUTES: dict[str, Route] = {
    # Public pages and feeds.
    "public_home.index": Route(get=PUBLIC),
    "public_events.index": Route(get=PUBLIC),
    "public_events.show": Route(params=_event, get=PUBLIC),
    "public_events.calendar": Route(params=_event, get=PUBLIC),
    "public_events.media": Route(params=lambda w: {"key": "covers/none.webp"}, get=NOT_FOUND),
    "public_live.availability": Route(params=_event, get=PUBLIC),
    "public_live.stream": Route(params=_event, get=PUBLIC),
    "public_seats.page": Route(params=_event, get=PUBLIC),
    "public_booking.tickets": Route(params=_event, get=PUBLIC),
    "health.healthz": Route(get=PUBLIC),
    "public_crawlers.robots": Route(get=PUBLIC),
    "public_crawlers.sitemap": Route(get=PUBLIC),
    "public_crawlers.favicon": Route(get=PUBLIC),
    "health.readyz": Route(get=PUBLIC),
    # Prometheus metrics: 404 unless METRICS_TOKEN is set (tests/http/test_metrics.py).
    "metrics.metrics": Route(get=NOT_FOUND),
    # The check-in web app's manifest (fetched without cookies), service worker and decoder
    # worker: public, they are or name only static files; the door pages are sign-in only.
    "checkin_pwa.manifest": Route(get=PUBLIC),
    "checkin_pwa.service_worker": Route(get=PUBLIC),
    "checkin_pwa.decoder": Route(get=PUBLIC),
    # Buying (the owner persona is the buyer: any signed-in attendee may buy).
    "public_booking.book": Route(
        params=_event,
        post=PROVEN,
        data=lambda w: {"tier_id": w.tier.id, "quantity": 1},
        owner="buyer",
    ),
    "public_booking.join": Route(
        params=_event,
        post=PROVEN,
        data=lambda w: {"tier_id": w.entry.tier_id, "quantity": 1},
        owner="buyer",
    ),
    "public_seats.hold_chosen": Route(
        params=_event, post=PROVEN, data=lambda w: {"seat": [w.seat_id]}, owner="buyer"
    ),
    "public_seats.hold_best": Route(
        params=_event,
        post=PROVEN,
        data=lambda w: {"tier_id": w.tier.id, "quantity": 2},
        owner="buyer",
    ),
    "public_events.report": Route(
        params=_event, post=PROVEN, data=lambda w: {"reason": "Looks like a scam."}
    ),
    # Signing in and out.
    "auth.login": Route(get=PUBLIC),
    "auth.login_post": Route(post=PUBLIC, data=lambda w: {"email": "x@example.test"}),
    "auth.login_code": Route(get=spec(LOGIN)),
    "auth.login_code_post": Route(post=spec(LOGIN), data=lambda w: {"code": "123456"}),
    "auth.logout": Route(post=PUBLIC),
    "auth.register": Route(get=PUBLIC),
    "auth.register_post": Route(post=PUBLIC),
    "auth.check_email": Route(get=PUBLIC),
    "auth.forgot": Route(get=PUBLIC),
    "auth.forgot_post": Route(post=PUBLIC),
    "auth.reset": Route(params=lambda w: {"token": "not-a-token"}, get=PUBLIC),
    "auth.reset_post": Route(params=lambda w: {"token": "not-a-token"}, post=PUBLIC),
    "auth.verify_email": Route(params=lambda w: {"token": "not-a-token"}, get=PUBLIC),
    "account_oauth.start": Route(params=lambda w: {"provider": "google"}, get=NOT_FOUND),
    "account_oauth.callback": Route(params=lambda w: {"provider": "google"}, get=NOT_FOUND),
    "account_dev_outbox.outbox": Route(get=NOT_FOUND),
    "account_dev_outbox.message": Route(params=lambda w: {"name": "x.eml"}, get=NOT_FOUND),
    # One's own account (no object in the URL: the owner persona is the buyer).
    "auth.two_factor_setup": Route(get=SIGNED_IN, owner="buyer"),
    "auth.two_factor_enable": Route(post=SIGNED_IN, owner="buyer"),
    "auth.two_factor_disable": Route(post=SIGNED_IN, owner="buyer"),
    "auth.two_factor_recovery_codes": Route(post=SIGNED_IN, owner="buyer"),
    "account_profile.profile": Route(get=SIGNED_IN, owner="buyer"),
    "account_profile.details": Route(post=SIGNED_IN, owner="buyer"),
    "account_profile.change_email": Route(post=SIGNED_IN, owner="buyer"),
    "account_profile.confirm_email": Route(
        params=lambda w: {"token": "not-a-token"}, get=SIGNED_IN, owner="buyer"
    ),
    "account_profile.change_password": Route(post=SIGNED_IN, owner="buyer"),
    "account_profile.preferences": Route(post=SIGNED_IN, owner="buyer"),
    "account_profile.end_other_sessions": Route(post=SIGNED_IN, owner="buyer"),
    "account_profile.resend_verification": Route(post=SIGNED_IN, owner="buyer"),
    "account_profile.check_address": Route(post=SIGNED_IN, owner="buyer"),
    "account_profile.address_works": Route(
        params=lambda w: {"token": "not-a-token"}, get=SIGNED_IN, owner="buyer"
    ),
    "account_profile.delete_account": Route(get=SIGNED_IN, owner="buyer"),
    "account_profile.delete_account_post": Route(post=SIGNED_IN, owner="buyer"),
    "account_profile.confirm": Route(get=SIGNED_IN, owner="buyer"),
    "account_profile.confirm_password": Route(
        post=SIGNED_IN, data=lambda w: {"password": "not-the-password"}, owner="buyer"
    ),
    "account_profile.send_code": Route(post=SIGNED_IN, owner="buyer"),
    "account_profile.confirm_code": Route(
        post=SIGNED_IN, data=lambda w: {"code": "123456"}, owner="buyer"
    ),
    "account_profile.confirm_with_provider": Route(
        params=lambda w: {"provider": "google"}, get=spec(404, anonymous=LOGIN), owner="buyer"
    ),
    "account_profile.link_provider": Route(
        params=lambda w: {"provider": "google"}, get=spec(404, anonymous=LOGIN), owner="buyer"
    ),
    "account_profile.unlink_provider": Route(
        params=lambda w: {"identity_id": w.identity.id}, post=OWN_BOOKING, owner="buyer"
    ),
    "account_profile.apply_as_organizer": Route(
        post=spec(OK, anonymous=LOGIN, unverified=422),
        data=lambda w: {"organization_name": "Acme"},
        owner="buyer",
    ),
    "account_bookings.index": Route(get=SIGNED_IN, owner="buyer"),
    "account_bookings.detail": Route(
        params=lambda w: {"reference": w.booking.reference}, get=OWN_BOOKING, owner="buyer"
    ),
    "account_bookings.cancel": Route(
        params=lambda w: {"reference": w.booking.reference}, post=OWN_BOOKING, owner="buyer"
    ),
    "account_bookings.claim": Route(
        params=lambda w: {"reference": w.booking.reference}, post=OWN_BOOKING, owner="buyer"
    ),
    "account_coupons.apply": Route(
        params=lambda w: {"reference": w.booking.reference},
        post=OWN_BOOKING,
        data=lambda w: {"code": w.coupon.code},
        owner="buyer",
    ),
    "account_coupons.remove": Route(
        params=lambda w: {"reference": w.booking.reference}, post=OWN_BOOKING, owner="buyer"
    ),
    "payments.pay": Route(
        params=lambda w: {"reference": w.booking.reference},
        post=spec(404, anonymous=LOGIN, unverified=VERIFY, owner=OK),
        data=lambda w: {"provider": "demo"},
        owner="buyer",
    ),
    "payments.status": Route(
        params=lambda w: {"reference": w.booking.reference}, get=OWN_BOOKING, owner="buyer"
    ),
    "payments.status_stream": Route(
        params=lambda w: {"reference": w.booking.reference}, get=OWN_BOOKING, owner="buyer"
    ),
    "payments.on_page_done": Route(
        params=lambda w: {"payment_id": w.payment.id}, post=OWN_BOOKING, owner="buyer"
    ),
    "payments.receipt": Route(
        params=lambda w: {"payment_id": w.payment.id}, get=OWN_BOOKING, owner="buyer"
    ),
    "demo_checkout.page": Route(
        params=lambda w: {"ref": w.payment.provider_ref}, get=OWN_BOOKING, owner="buyer"
    ),
    "demo_checkout.choose": Route(
        params=lambda w: {"ref": w.payment.provider_ref},
        post=OWN_BOOKING,
        data=lambda w: {"choice": "succeed"},
        owner="buyer",
    ),
    # Signed by the provider, not by a session: unsigned, it is refused for everyone.
    "webhooks.receive": Route(params=lambda w: {"provider": "demo"}, post=spec(400)),
    "account_tickets.page": Route(
        params=lambda w: {"reference": w.ticketed.reference}, get=OWN_BOOKING, owner="buyer"
    ),
    "account_tickets.pdf": Route(
        params=lambda w: {"reference": w.ticketed.reference}, get=OWN_BOOKING, owner="buyer"
    ),
    "account_tickets.calendar": Route(
        params=lambda w: {"reference": w.ticketed.reference}, get=OWN_BOOKING, owner="buyer"
    ),
    "account_tickets.name": Route(
        params=lambda w: {"reference": w.ticketed.reference, "ticket_id": w.ticket_id},
        post=OWN_BOOKING,
        data=lambda w: {"name": "Guest Name"},
        owner="buyer",
    ),
    # The ticket pages' service worker: a static script, served under their path for its scope.
    "account_tickets.service_worker": Route(get=PUBLIC),
    "account_notifications.index": Route(get=SIGNED_IN, owner="buyer"),
    "account_notifications.read": Route(
        params=lambda w: {"notification_id": w.notification_id}, post=OWN_BOOKING, owner="buyer"
    ),
    "account_notifications.read_all": Route(post=SIGNED_IN, owner="buyer"),
    "account_notifications.stream": Route(get=SIGNED_IN, owner="buyer"),
    "account_notifications.settings": Route(get=SIGNED_IN, owner="buyer"),
    "account_notifications.save_settings": Route(
        post=SIGNED_IN, data=lambda w: {"reminders__email": "y"}, owner="buyer"
    ),
    # The push service worker: a static script, served from its folder for its scope.
    "account_push.service_worker": Route(get=PUBLIC),
    "account_push.subscribe": Route(
        post=SIGNED_IN, json=lambda w: push_subscription_json(), owner="buyer"
    ),
    "account_push.remove": Route(
        params=lambda w: {"subscription_id": w.push_subscription_id},
        post=OWN_BOOKING,
        owner="buyer",
    ),
    # The user's own mobile number: no id in the URL, nothing of anyone else's to reach.
    "account_phone.page": Route(get=SIGNED_IN, owner="buyer"),
    "account_phone.set_number": Route(
        post=SIGNED_IN, data=lambda w: {"number": "+33612345678"}, owner="buyer"
    ),
    "account_phone.send_code": Route(post=SIGNED_IN, owner="buyer"),
    "account_phone.verify": Route(post=SIGNED_IN, data=lambda w: {"code": "123456"}, owner="buyer"),
    "account_phone.remove": Route(post=SIGNED_IN, owner="buyer"),
    # The token is the authority, not a session (one-click unsubscribe, RFC 8058).
    "unsubscribe.confirm": Route(params=lambda w: {"token": w.unsubscribe_token}, get=PUBLIC),
    "unsubscribe.unsubscribe": Route(
        params=lambda w: {"token": w.unsubscribe_token},
        post=PUBLIC,
        data=lambda w: {"List-Unsubscribe": "One-Click"},
    ),
    # API tokens: the signed-in user's own; someone else's token is not there (404).
    "account_tokens.tokens": Route(get=SIGNED_IN, owner="buyer"),
    "account_tokens.create": Route(
        post=SIGNED_IN,
        data=lambda w: {"name": "bot", "scopes": "events:read", "expires": "30"},
        owner="buyer",
    ),
    "account_tokens.revoke": Route(
        params=lambda w: {"token_id": w.personal_token_id}, post=OWN_BOOKING, owner="buyer"
    ),
    # The API: a bearer token is the authority, never the session cookie every persona here
    # sends (401); signing in takes a password, the same for everyone.
    "api.me": Route(get=spec(401)),
    "api.token": Route(
        post=PUBLIC, json=lambda w: {"email": "x@example.test", "password": "wrong"}
    ),
    "api.refresh_token": Route(post=spec(401), json=lambda w: {"refresh_token": "eh_rt_none"}),
    "api.logout": Route(post=spec(401), json=lambda w: {"refresh_token": "eh_rt_none"}),
    # The API's public reads and its document: the same for everyone, token or not.
    "api.events": Route(get=PUBLIC),
    "api.event": Route(params=_event, get=PUBLIC),
    "api.tiers": Route(params=_event, get=PUBLIC),
    "api.seatmap": Route(params=_event, get=PUBLIC),
    "api.document": Route(get=PUBLIC),
    # Bookings through the API: a token only (401 here); test_api_bookings_by_token below
    # checks scopes and ownership with the personas' tokens.
    "api.hold": Route(post=spec(401), json=lambda w: {"event_id": w.event.id, "seat_ids": [1]}),
    "api.my_bookings": Route(get=spec(401)),
    "api.booking": Route(params=lambda w: {"reference": w.booking.reference}, get=spec(401)),
    "api.cancel": Route(params=lambda w: {"reference": w.booking.reference}, post=spec(401)),
    "api.checkout": Route(
        params=lambda w: {"reference": w.booking.reference},
        post=spec(401),
        json=lambda w: {"provider": "demo"},
    ),
    "api.booking_tickets": Route(
        params=lambda w: {"reference": w.ticketed.reference}, get=spec(401)
    ),
    # Check-in through the API: a token only (401 here); test_api_checkin_by_token below
    # checks who may use an event's door by token.
    "api.scan": Route(params=_event, post=spec(401), json=lambda w: {"code": "not a ticket"}),
    "api.undo_check_in": Route(
        params=lambda w: {"event_id": w.event.id, "check_in_id": w.check_in.id}, post=spec(401)
    ),
    "api.check_in_counters": Route(params=_event, get=spec(401)),
    "api.void_ticket_list": Route(params=_event, get=spec(401)),
    # The organizer's API: a token only (401 here); test_organizer_api_by_token below checks
    # scopes, the teams policy and ownership with the personas' tokens.
    "api.organizer_events": Route(get=spec(401)),
    "api.organizer_event": Route(params=_event, get=spec(401)),
    "api.create_organizer_event": Route(post=spec(401), json=lambda w: _api_event()),
    "api.update_organizer_event": Route(
        params=_event, patch=spec(401), json=lambda w: {"city": "Bonn"}
    ),
    "api.submit_organizer_event": Route(params=lambda w: {"event_id": w.draft.id}, post=spec(401)),
    "api.organizer_tiers": Route(params=_event, get=spec(401)),
    "api.create_organizer_tier": Route(
        params=_event, post=spec(401), json=lambda w: {"name": "API zone"}
    ),
    "api.update_organizer_tier": Route(
        params=lambda w: {"event_id": w.event.id, "tier_id": w.tier.id},
        patch=spec(401),
        json=lambda w: {"position": 3},
    ),
    "api.organizer_attendees": Route(params=_event, get=spec(401)),
    "api.organizer_sales": Route(params=_event, get=spec(401)),
    "account_bookings.leave": Route(
        params=lambda w: {"entry_id": w.entry.id}, post=OWN_BOOKING, owner="buyer"
    ),
    # The organizer's back office.
    # A team member, who has no events of their own, is sent on to their teams.
    "organizer_events.dashboard": Route(
        get={**ANY_ORGANIZER, "team_manage": OK, "team_sales": OK, "team_checkin": OK}
    ),
    "organizer_events.new": Route(get=ANY_ORGANIZER),
    "organizer_events.create": Route(post=ANY_ORGANIZER, data=_event_form),
    "organizer_events.edit": Route(params=_event, get=TEAM_EVENT),
    "organizer_events.update": Route(params=_event, post=TEAM_EVENT, data=_event_form),
    "organizer_events.duplicate": Route(params=_event, post=TEAM_EVENT),
    "organizer_events.submit": Route(params=lambda w: {"event_id": w.draft.id}, post=TEAM_EVENT),
    "organizer_events.cancel": Route(params=_event, post=TEAM_EVENT),
    "organizer_events.delete": Route(
        params=lambda w: {"event_id": w.draft.id},
        post=TEAM_EVENT,
        params_as={"team_manage": lambda w: {"event_id": w.team_draft.id}},
    ),
    "organizer_tiers.index": Route(params=_event, get=TEAM_EVENT),
    "organizer_tiers.new": Route(params=_event, get=TEAM_EVENT),
    "organizer_tiers.create": Route(params=_event, post=TEAM_EVENT, data=_tier_form),
    "organizer_tiers.edit": Route(
        params=lambda w: {"event_id": w.event.id, "tier_id": w.tier.id}, get=TEAM_EVENT
    ),
    "organizer_tiers.update": Route(
        params=lambda w: {"event_id": w.event.id, "tier_id": w.tier.id},
        post=TEAM_EVENT,
        data=_tier_form,
    ),
    "organizer_tiers.delete": Route(
        params=lambda w: {"event_id": w.event.id, "tier_id": w.tier.id}, post=TEAM_EVENT
    ),
    "organizer_tiers.waitlist": Route(params=_event, get=TEAM_EVENT),
    "organizer_coupons.index": Route(params=_event, get=TEAM_EVENT),
    "organizer_coupons.new": Route(params=_event, get=TEAM_EVENT),
    "organizer_coupons.create": Route(params=_event, post=TEAM_EVENT, data=_coupon_form),
    "organizer_coupons.edit": Route(params=_coupon, get=TEAM_EVENT),
    "organizer_coupons.update": Route(params=_coupon, post=TEAM_EVENT, data=_coupon_form),
    "organizer_coupons.deactivate": Route(params=_coupon, post=TEAM_EVENT),
    "organizer_attendees.index": Route(params=_event, get=SALES_EVENT),
    "organizer_attendees.export_csv": Route(params=_event, get=SALES_EVENT),
    "organizer_attendees.export_xlsx": Route(params=_event, get=SALES_EVENT),
    "organizer_exports.orders_csv": Route(params=_event, get=SALES_EVENT),
    "organizer_exports.orders_xlsx": Route(params=_event, get=SALES_EVENT),
    "organizer_exports.payments_csv": Route(params=_event, get=SALES_EVENT),
    "organizer_exports.payments_xlsx": Route(params=_event, get=SALES_EVENT),
    "organizer_analytics.index": Route(params=_event, get=SALES_EVENT),
    "organizer_analytics.chart_csv": Route(
        params=lambda w: {"event_id": w.event.id, "name": "sales"}, get=SALES_EVENT
    ),
    "organizer_payments.index": Route(params=_event, get=SALES_EVENT),
    "organizer_payments.providers": Route(
        params=_event, post=TEAM_EVENT, data=lambda w: {"provider": "demo"}
    ),
    "organizer_payments.booking": Route(params=_booking_of_event, get=SALES_EVENT),
    "organizer_payments.refund": Route(
        params=_booking_of_event,
        post=TEAM_EVENT,
        data=lambda w: {"amount": "1.00", "reason": "Goodwill"},
    ),
    "organizer_seatmap.editor": Route(params=_event, get=TEAM_EVENT),
    "organizer_seatmap.save_layout": Route(
        params=_event,
        post=TEAM_EVENT,
        data=lambda w: {"layout": "Row A: 1-4\nRow B: 1-4\nRow C: 1-2", "new_seat_tier": w.tier.id},
    ),
    "organizer_seatmap.edit_seats": Route(
        params=_event, post=TEAM_EVENT, data=lambda w: {"action": "block", "seat": [w.seat_id]}
    ),
    # The admin's pages.
    "admin_users.index": Route(get=ADMIN),
    "admin_users.users": Route(get=ADMIN),
    "admin_users.audit": Route(get=ADMIN),
    "admin_users.applications": Route(get=ADMIN),
    "admin_users.approve": Route(params=lambda w: {"application_id": w.application.id}, post=ADMIN),
    "admin_users.reject": Route(
        params=lambda w: {"application_id": w.application.id},
        post=ADMIN,
        data=lambda w: {"reason": "Not now."},
    ),
    "admin_users.change_role": Route(
        params=lambda w: {"user_id": w.users["attendee"].id},
        post=ADMIN,
        data=lambda w: {"role": "organizer"},
    ),
    "admin_users.user": Route(params=lambda w: {"user_id": w.users["attendee"].id}, get=ADMIN),
    "admin_users.suspend": Route(
        params=lambda w: {"user_id": w.users["attendee"].id},
        post=ADMIN,
        data=lambda w: {"reason": "Spam."},
    ),
    "admin_users.reactivate": Route(
        params=lambda w: {"user_id": w.users["attendee"].id}, post=ADMIN
    ),
    "admin_users.reset_two_factor": Route(
        params=lambda w: {"user_id": w.users["other_organizer"].id}, post=ADMIN
    ),
    "admin_events.index": Route(get=ADMIN),
    "admin_events.show": Route(params=_event, get=ADMIN),
    "admin_events.unpublish": Route(
        params=_event, post=ADMIN, data=lambda w: {"reason": "Misleading."}
    ),
    "admin_events.feature": Route(params=_event, post=ADMIN),
    "admin_events.unfeature": Route(params=_event, post=ADMIN),
    "admin_events.cancel": Route(params=_event, post=ADMIN, data=lambda w: {"reason": "Fraud."}),
    "admin_moderation.queue": Route(get=ADMIN),
    "admin_moderation.approve": Route(
        params=lambda w: {"event_id": w.submitted.id},
        post=ADMIN,
        data=lambda w: {"version": w.submitted.version},
    ),
    "admin_moderation.reject": Route(
        params=lambda w: {"event_id": w.submitted.id},
        post=ADMIN,
        data=lambda w: {"reason": "Please add a venue.", "version": w.submitted.version},
    ),
    "admin_moderation.revision": Route(params=lambda w: {"revision_id": w.revision.id}, get=ADMIN),
    "admin_moderation.approve_changes": Route(
        params=lambda w: {"revision_id": w.revision.id}, post=ADMIN
    ),
    "admin_moderation.reject_changes": Route(
        params=lambda w: {"revision_id": w.revision.id},
        post=ADMIN,
        data=lambda w: {"reason": "Keep the old title."},
    ),
    "admin_moderation.reports": Route(get=ADMIN),
    "admin_moderation.dismiss": Route(params=lambda w: {"report_id": w.report.id}, post=ADMIN),
    "admin_moderation.unpublish": Route(params=lambda w: {"report_id": w.report.id}, post=ADMIN),
    "admin_moderation.categories": Route(get=ADMIN),
    "admin_moderation.add_category": Route(post=ADMIN, data=lambda w: {"name": "Theatre"}),
    "admin_moderation.rename": Route(
        params=lambda w: {"category_id": w.category.id}, post=ADMIN, data=lambda w: {"name": "X"}
    ),
    "admin_payments.find": Route(get=ADMIN),
    "admin_payments.booking": Route(params=lambda w: {"reference": w.booking.reference}, get=ADMIN),
    "admin_payments.refund": Route(
        params=lambda w: {"reference": w.booking.reference},
        post=ADMIN,
        data=lambda w: {"amount": "1.00", "reason": "Goodwill"},
    ),
    "admin_moderation.remove": Route(params=lambda w: {"category_id": w.category.id}, post=ADMIN),
    "admin_notifications.failed": Route(get=ADMIN),
    "admin_notifications.retry": Route(
        params=lambda w: {"notification_id": w.notification.id}, post=ADMIN
    ),
    "admin_notifications.preview": Route(params=lambda w: {"kind": "booking_confirmed"}, get=ADMIN),
    "admin_jobs.index": Route(get=ADMIN),
    "admin_jobs.retry": Route(params=lambda w: {"message_id": w.failed_job_id}, post=ADMIN),
    "admin_jobs.reconcile": Route(post=ADMIN),
    "admin_dashboard.index": Route(get=ADMIN),
    "admin_dashboard.chart_csv": Route(params=lambda w: {"chart": "sales"}, get=ADMIN),
    # Check-in staff: the organizer's staff page, invitations, the staff's own list of doors.
    "organizer_staff.index": Route(get=ANY_ORGANIZER),
    "organizer_staff.invite": Route(
        post=ANY_ORGANIZER, data=lambda w: {"email": "new-staff@example.test", "event": "all"}
    ),
    "organizer_staff.revoke": Route(
        params=lambda w: {"invitation_id": w.invitation.id}, post=OWN_EVENT
    ),
    "organizer_staff.remove": Route(params=lambda w: {"grant_id": w.grant.id}, post=OWN_EVENT),
    "staff.invitation": Route(params=lambda w: {"token": w.invitation_token}, get=INVITED),
    "staff.accept": Route(params=lambda w: {"token": w.invitation_token}, post=INVITED),
    "staff.home": Route(get=SIGNED_IN),
    # The organizer's team: only the owner runs it; the invitee accepts; members list theirs.
    "organizer_team.index": Route(get=ANY_ORGANIZER),
    "organizer_team.invite": Route(
        post=ANY_ORGANIZER, data=lambda w: {"email": "new-member@example.test", "role": "sales"}
    ),
    "organizer_team.revoke": Route(
        params=lambda w: {"invitation_id": w.team_invitation.id}, post=OWN_EVENT
    ),
    "organizer_team.change_role": Route(
        params=lambda w: {"member_id": w.members["team_checkin"].id},
        post=OWN_EVENT,
        data=lambda w: {"role": "sales"},
    ),
    "organizer_team.remove": Route(
        params=lambda w: {"member_id": w.members["team_checkin"].id}, post=OWN_EVENT
    ),
    "organizer_team.invitation": Route(
        params=lambda w: {"token": w.team_invitation_token}, get=INVITED
    ),
    "organizer_team.accept": Route(
        params=lambda w: {"token": w.team_invitation_token}, post=INVITED
    ),
    "organizer_team.memberships": Route(get=SIGNED_IN),
    # Webhooks: the organizer's own endpoints; another organizer's id is not found.
    "organizer_webhooks.index": Route(get=ANY_ORGANIZER),
    "organizer_webhooks.create": Route(
        post=ANY_ORGANIZER,
        data=lambda w: {"url": "https://hooks.example.test/new", "events": "booking.refunded"},
    ),
    **{
        f"organizer_webhooks.{name}": Route(
            params=lambda w: {"endpoint_id": w.webhook_endpoint_id}, post=OWN_EVENT
        )
        for name in ("rotate", "disable", "enable", "send_test", "delete")
    },
    "organizer_webhooks.resend": Route(
        params=lambda w: {"delivery_id": w.webhook_delivery_id}, post=OWN_EVENT
    ),
    # Check-in at the door.
    "checkin.door": Route(params=_event, get=DOOR),
    "checkin.scan": Route(
        params=_event,
        post=DOOR_JSON,
        data=lambda w: {"ticket_id": w.ticket.id, "gate": "Main"},
        headers={"Accept": "application/json"},
    ),
    "checkin.undo": Route(params=_event, post=DOOR, data=lambda w: {"check_in_id": w.check_in.id}),
    "checkin.search": Route(params=lambda w: {"event_id": w.event.id, "q": "User"}, get=DOOR),
    "checkin.counters": Route(params=_event, get=DOOR),
    "checkin.counters_stream": Route(params=_event, get=DOOR),
    "checkin.offline": Route(params=_event, get=DOOR_JSON),
    "checkin.sync": Route(
        params=_event,
        post=DOOR_JSON,
        json=lambda w: {
            "scans": [
                {
                    "scan_id": "matrix-1",
                    "ticket_id": w.ticket.id,
                    "gate": "Side",
                    "scanned_at": utcnow().isoformat(),
                }
            ]
        },
    ),
    "checkin.conflicts": Route(params=_event, get=DOOR),
}


@pytest.fixture
def world(app: Flask, db: Session, make_user, make_event, make_tier, now) -> World:  # noqa: ANN001
    users = {
        "unverified": make_user(verified=False),
        "attendee": make_user(),
        "staff": make_user(),
        # Members who see money have 2FA on, as they must; the door needs none.
        "team_manage": make_user(with_2fa=True),
        "team_sales": make_user(with_2fa=True),
        "team_checkin": make_user(),
        "organizer": make_user(role=Role.ORGANIZER),
        "buyer": make_user(),
        "other_organizer": make_user(role=Role.ORGANIZER),
        "admin": make_user(role=Role.ADMIN),
    }
    organizer = users["organizer"]
    starts = utcnow() + timedelta(days=60)
    event = make_event(
        organizer=organizer, is_seated=True, starts_at=starts, ends_at=starts + timedelta(hours=2)
    )
    tier = make_tier(event=event, name="Stalls", price_minor=2500, capacity=0)
    full = make_tier(event=event, name="Boxes", price_minor=9000, capacity=0)
    replace_layout(
        db,
        event=event,
        text="Row A: 1-4\nRow B: 1-4",
        new_seat_tier=tier,
        actor_id=None,
        now=utcnow(),
    )
    booking = hold_units(
        db,
        user=users["buyer"],
        event=event,
        tier=tier,
        quantity=1,
        now=utcnow(),
        hold_minutes=10,
    )
    entry = WaitlistEntry(tier_id=full.id, user_id=users["buyer"].id, quantity=1)
    draft = make_event(organizer=organizer, status=EventStatus.DRAFT)
    submitted = make_event(organizer=organizer, status=EventStatus.SUBMITTED)
    application = OrganizerApplication(
        user_id=users["attendee"].id, organization_name="Acme", status=ApplicationStatus.PENDING
    )
    category = Category(name="Jazz", slug="jazz")
    report = EventReport(event_id=event.id, reporter_id=users["attendee"].id, reason="Spam")
    db.add_all([entry, application, category, report])
    identity = OAuthIdentity(
        user_id=users["buyer"].id, provider="github", subject="42", email=users["buyer"].email
    )
    db.add(identity)
    revision = propose(
        db,
        event,
        {**material_of(event), "title": "A better title"},
        author=organizer,
        now=utcnow(),
    )
    payment = begin_payment(db, booking, provider="demo", accepted=["demo"], now=utcnow())
    made = configured_providers(app.config)["demo"].create_checkout(
        CheckoutRequest(
            payment_id=payment.id,
            booking_reference=booking.reference,
            amount_minor=payment.amount_minor,
            currency=payment.currency,
            description="matrix",
            buyer_email=None,
            return_url="https://example.test/back",
            cancel_url="https://example.test/cancel",
            idempotency_key=payment.idempotency_key,
        )
    )
    record_checkout(db, payment.id, provider_ref=made.provider_ref, checkout_url=made.redirect_url)
    coupon = create_coupon(
        db,
        event=event,
        data=CouponData(code="MATRIX10", kind=CouponKind.PERCENT, percent_off=10),
        actor_id=None,
        now=utcnow(),
    )
    invited = invite(
        db,
        organizer,
        users["attendee"].email,
        event.id,
        utcnow(),
        accept_link=lambda token: f"https://example.test/{token}",
    )
    grant = StaffGrant(organizer_id=organizer.id, user_id=users["staff"].id, event_id=event.id)
    db.add(grant)
    members = {
        persona: TeamMember(owner_id=organizer.id, user_id=users[persona].id, role=role)
        for persona, role in (
            ("team_manage", TeamRole.MANAGE),
            ("team_sales", TeamRole.SALES),
            ("team_checkin", TeamRole.CHECKIN),
        )
    }
    db.add_all(members.values())
    team_invited = team_invite(
        db,
        organizer,
        users["attendee"].email,
        TeamRole.SALES,
        utcnow(),
        accept_link=lambda token: token,
    )
    team_draft = make_event(organizer=organizer, status=EventStatus.DRAFT)
    free = make_tier(event=make_event(organizer=organizer), capacity=3)
    ticketed = hold_units(
        db,
        user=users["buyer"],
        event=free.event,
        tier=free,
        quantity=1,
        now=utcnow(),
        hold_minutes=10,
    )
    admitted = confirm_booking(
        db,
        hold_units(
            db, user=users["buyer"], event=event, tier=tier, quantity=2, now=now, hold_minutes=10
        ),
        now=now,
    )
    ticket, in_already = sorted(admitted.tickets, key=lambda t: t.id)
    check_in = CheckIn(
        ticket_id=in_already.id,
        event_id=event.id,
        tier_id=in_already.tier_id,
        gate="Main",
        scanned_at=now,
        recorded_at=now,
    )
    db.add(check_in)
    notification = db.scalars(
        select(Notification).where(
            Notification.payload["booking_id"].as_integer() == ticketed.id,
            Notification.channel == Channel.EMAIL,  # not its in-app copy
        )
    ).one()
    notification.status = NotificationStatus.FAILED
    notification.last_error = "PermanentFailure: SMTP 550: No such user"
    notify(
        db,
        key=notification_key("booking_confirmed", Channel.IN_APP, "booking", booking.id),
        kind="booking_confirmed",
        channel=Channel.IN_APP,
        now=now,
        user_id=users["buyer"].id,
        payload={"booking_id": booking.id},
    )
    push_subscription_id = push.subscribe(
        db,
        users["buyer"].id,
        push.parse_subscription(push_subscription_json(), allow_local=False),
        label="Firefox on Android",
        limit=10,
        now=now,
    ).id
    users["buyer"].authenticated_at = now
    personal_token_id = personal.create_token(
        db, users["buyer"], name="matrix", scopes=["events:read"], lifetime=None, now=now
    )[0].id
    failed_job = enqueue(db, "matrix.job", {}, available_at=now + timedelta(hours=1))
    failed_job.attempts, failed_job.last_error = 1, "ConnectionError: down"
    hook = webhook_endpoints.create(
        db, users["organizer"], url="https://hooks.example.test/in",
        events=["booking.confirmed"], allow_private=False, now=now,
    ).endpoint  # fmt: skip
    hook_delivery = webhook_endpoints.send_test(db, users["organizer"], hook.id, now=now)
    hook_delivery.status = DeliveryStatus.FAILED
    db.commit()
    notification_id = db.scalar(text("SELECT min(id) FROM notifications WHERE channel = 'in_app'"))
    ticket_id = db.scalar(
        text("SELECT min(id) FROM tickets WHERE booking_id = :b"), {"b": ticketed.id}
    )
    seat_id = db.scalar(
        text("SELECT min(id) FROM units WHERE event_id = :e AND booking_id IS NULL"),
        {"e": event.id},
    )
    return World(
        users,
        event,
        tier,
        draft,
        submitted,
        booking,
        entry,
        application,
        category,
        report,
        seat_id,
        revision,
        identity,
        payment,
        coupon,
        invited.invitation,
        invited.token,
        grant,
        ticketed,
        ticket_id,
        ticket,
        check_in,
        notification,
        notification_id,
        unsubscribe_token(
            str(app.config["SECRET_KEY"]), users["buyer"].id, REMINDERS, Channel.EMAIL
        ),
        push_subscription_id,
        failed_job.id,
        members,
        team_draft,
        team_invited.invitation,
        team_invited.token,
        personal_token_id,
        hook.id,
        hook_delivery.id,
    )


def fingerprint(db: Session) -> str:
    digest = hashlib.sha256()
    db.rollback()  # a fresh snapshot: the requests committed on other connections
    for table in STATE_TABLES:
        rows = db.execute(text(ROWS_DIGEST.format(table=table))).scalar_one()
        digest.update(f"{table}:{rows};".encode())
    return digest.hexdigest()


def client_for(app: Flask, persona: str, owner: str, world: World, login_as) -> FlaskClient:  # noqa: ANN001
    client = app.test_client()
    if persona != "anonymous":
        user = world.users[owner if persona == "owner" else persona]
        login_as(client, user)
    return client


def outcome(response, expected: object) -> object:  # noqa: ANN001
    """What the answer was; a redirect to the profile is the "prove your address" refusal
    where one is expected (elsewhere it is where a change to one's account lands)."""
    location = response.headers.get("Location") or ""
    if response.status_code in (302, 303) and "/login" in location:
        return LOGIN
    if expected == VERIFY and response.status_code in (302, 303):
        return VERIFY if location.endswith("/account/profile") else OK
    if isinstance(expected, int):
        return response.status_code
    if response.status_code in (401, 403, 404, 405) or response.status_code >= 500:
        return response.status_code
    return OK


def test_every_route_has_expectations(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    assert endpoints - set(ROUTES) == set(), "routes without expectations"
    assert set(ROUTES) - endpoints == set(), "expectations for routes that do not exist"


@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_route_answers_each_persona_as_expected(
    app: Flask,
    db: Session,
    world: World,
    login_as,
    endpoint: str,  # noqa: ANN001
) -> None:
    from flask import url_for

    route = ROUTES[endpoint]
    with app.test_request_context():
        urls = {
            persona: url_for(endpoint, **route.params_as.get(persona, route.params)(world))
            for persona in PERSONAS
        }
    wrong: list[str] = []
    for method, expected in (("GET", route.get), ("POST", route.post), ("PATCH", route.patch)):
        if expected is None:
            continue
        # Refusals first, the allowed ones last: an allowed POST may change the world.
        order = sorted(PERSONAS, key=lambda p: expected[p] == OK)
        for persona in order:
            url = urls[persona]
            client = client_for(app, persona, route.owner, world, login_as)
            before = fingerprint(db) if expected[persona] != OK else None  # a refusal
            if method == "GET":
                response = client.get(url, headers=route.headers)
            elif route.json is not None:
                response = client.open(
                    url, method=method, json=route.json(world), headers=route.headers
                )
            else:
                response = client.post(url, data=route.data(world), headers=route.headers)
            got = outcome(response, expected[persona])
            if got != expected[persona]:
                wrong.append(f"{method} {url} as {persona}: {got}, expected {expected[persona]}")
            elif before is not None and method != "GET" and fingerprint(db) != before:
                wrong.append(f"{method} {url} as {persona}: refused but changed the database")
            response.close()
    assert not wrong, "\n".join(wrong)


def test_a_check_in_only_member_is_refused_every_revenue_page() -> None:
    """Sales pages (attendees, their exports, payments, bookings, analytics) are for the
    owner, managers and sales members: a member who only checks tickets in finds none."""
    revenue = [
        endpoint
        for endpoint in ROUTES
        if endpoint.startswith("organizer_")
        and any(word in endpoint for word in ("attendees", "payments", "analytics", "exports"))
    ]
    assert len(revenue) >= 7
    for endpoint in revenue:
        for expected in (ROUTES[endpoint].get, ROUTES[endpoint].post):
            if expected is not None:
                assert expected["team_checkin"] in (403, 404), endpoint
                assert expected["team_manage"] == OK, endpoint


def test_another_events_tier_under_ones_own_event_is_not_found(
    app: Flask,
    db: Session,
    world: World,
    login_as,
    make_event,
    make_tier,  # noqa: ANN001
) -> None:
    """The organizer's own event in the URL does not open another organizer's tier."""
    foreign = make_tier(event=make_event(organizer=world.users["other_organizer"]), capacity=3)
    db.commit()
    client = client_for(app, "owner", "organizer", world, login_as)
    base = f"/organizer/events/{world.event.id}/tiers/{foreign.id}"
    before = fingerprint(db)
    assert client.get(f"{base}/edit").status_code == 404
    assert client.post(f"{base}/edit", data=_tier_form(world)).status_code == 404
    assert client.post(f"{base}/delete").status_code == 404
    assert fingerprint(db) == before


def test_another_events_coupon_under_ones_own_event_is_not_found(
    app: Flask,
    db: Session,
    world: World,
    login_as,
    make_event,  # noqa: ANN001
) -> None:
    """The organizer's own event in the URL does not open another organizer's coupon."""
    foreign = create_coupon(
        db,
        event=make_event(organizer=world.users["other_organizer"]),
        data=CouponData(code="THEIRS", kind=CouponKind.PERCENT, percent_off=50),
        actor_id=None,
        now=utcnow(),
    )
    db.commit()
    client = client_for(app, "owner", "organizer", world, login_as)
    base = f"/organizer/events/{world.event.id}/coupons/{foreign.id}"
    before = fingerprint(db)
    assert client.get(f"{base}/edit").status_code == 404
    assert client.post(f"{base}/edit", data=_coupon_form(world)).status_code == 404
    assert client.post(f"{base}/deactivate").status_code == 404
    assert fingerprint(db) == before


# The API's booking routes by token: the buyer's own booking answers (refusals run first, the
# allowed call last); every other persona's token finds nothing (404) and a token without the
# scope is refused (403), changing nothing.
API_BOOKING_ROUTES = (
    ("GET", "api.booking", None),
    ("GET", "api.booking_tickets", None),
    ("POST", "api.checkout", {"provider": "demo"}),
    ("POST", "api.cancel", None),
)


@pytest.mark.parametrize(("method", "endpoint", "body"), API_BOOKING_ROUTES)
def test_api_bookings_by_token(
    app: Flask,
    db: Session,
    world: World,
    now,  # noqa: ANN001
    method: str,
    endpoint: str,
    body: dict[str, str] | None,
) -> None:
    from flask import url_for

    client = app.test_client()

    def token(user: User, scopes: list[str]) -> dict[str, str]:
        user.authenticated_at = now
        raw = personal.create_token(db, user, name="m", scopes=scopes, lifetime=None, now=now)[1]
        db.commit()
        headers = {"Authorization": f"Bearer {raw}"}
        client.get("/api/v1/me", headers=headers)  # its first use is written now, not below
        return headers

    with app.test_request_context():
        url = url_for(endpoint, reference=world.booking.reference)
    callers = [
        (token(user, ["bookings:write"]), 404, name)
        for name, user in world.users.items()
        if name != "buyer"
    ]
    callers.append((token(world.users["buyer"], ["events:read"]), 403, "buyer without scope"))
    own = token(world.users["buyer"], ["bookings:write"])
    wrong = []
    for headers, expected, who in callers:
        before = fingerprint(db)
        response = client.open(url, method=method, json=body, headers=headers)
        if response.status_code != expected:
            wrong.append(f"{method} {url} as {who}: {response.status_code}, expected {expected}")
        elif fingerprint(db) != before:
            wrong.append(f"{method} {url} as {who}: refused but changed the database")
    mine = client.open(url, method=method, json=body, headers=own)
    assert mine.status_code in (200, 201), mine.get_data(as_text=True)
    assert not wrong, "\n".join(wrong)


# The API's check-in routes by token: the door's personas (those DOOR_JSON lets in) answer, a
# token of every other persona finds no event (404), and a door persona's token without the
# `checkin` scope is refused (403); a refusal changes nothing. The allowed calls run last: the
# first undoes the check-in (200), the next ones find it undone (409), never a refusal.
API_CHECKIN_ROUTES = (
    ("GET", "api.check_in_counters"),
    ("GET", "api.void_ticket_list"),
    ("POST", "api.scan"),
    ("POST", "api.undo_check_in"),
)


@pytest.mark.parametrize(("method", "endpoint"), API_CHECKIN_ROUTES)
def test_api_checkin_by_token(
    app: Flask,
    db: Session,
    world: World,
    now,  # noqa: ANN001
    ticket_code,  # noqa: ANN001
    method: str,
    endpoint: str,
) -> None:
    from flask import url_for

    client = app.test_client()

    def token(persona: str, scopes: list[str]) -> dict[str, str]:
        user = world.users["organizer" if persona == "owner" else persona]
        user.authenticated_at = now
        raw = personal.create_token(db, user, name="m", scopes=scopes, lifetime=None, now=now)[1]
        db.commit()
        headers = {"Authorization": f"Bearer {raw}"}
        client.get("/api/v1/me", headers=headers)  # its first use is written now, not below
        return headers

    params = {"event_id": world.event.id}
    if endpoint == "api.undo_check_in":
        params["check_in_id"] = world.check_in.id
    with app.test_request_context():
        url = url_for(endpoint, **params)
    body = {"code": ticket_code(world.ticket), "gate": "Matrix"} if method == "POST" else None
    door = [persona for persona in PERSONAS if DOOR_JSON[persona] == OK]
    callers = [({}, 401, "anonymous")]
    callers += [
        (token(persona, ["checkin"]), 404, persona)
        for persona in PERSONAS
        if persona not in door and persona != "anonymous"
    ]
    callers += [
        (token(persona, ["events:read"]), 403, f"{persona} without scope") for persona in door
    ]
    allowed = [(token(persona, ["checkin"]), persona) for persona in door]
    wrong = []
    for headers, expected, who in callers:
        before = fingerprint(db)
        response = client.open(url, method=method, json=body, headers=headers)
        if response.status_code != expected:
            wrong.append(f"{method} {url} as {who}: {response.status_code}, expected {expected}")
        elif fingerprint(db) != before:
            wrong.append(f"{method} {url} as {who}: refused but changed the database")
    statuses = []
    for headers, who in allowed:
        response = client.open(url, method=method, json=body, headers=headers)
        statuses.append(response.status_code)
        if response.status_code in (401, 403, 404) or response.status_code >= 500:
            wrong.append(f"{method} {url} as {who}: {response.status_code}, expected an answer")
    assert statuses[0] == 200, statuses
    assert not wrong, "\n".join(wrong)


# The organizer's API by token (both organizer scopes): the teams policy of the pages. Callers
# who are neither organizers nor in a team are refused (403); another organizer, and members
# whose role does not grant the route's permission, find nothing (404); refusals run first
# and change nothing, then each allowed persona's call answers.
API_MANAGE = {
    **dict.fromkeys(PERSONAS, 403),
    "anonymous": 401,
    "owner": OK,
    "team_manage": OK,
    "other_organizer": 404,
    "team_sales": 404,
    "team_checkin": 404,
}
API_SALES = {**API_MANAGE, "team_sales": OK}
API_ANY = {**API_MANAGE, "other_organizer": OK, "team_sales": OK, "team_checkin": OK}
# Only organizers have events of their own: team members create none.
API_CREATE = {**dict.fromkeys(PERSONAS, 403), "anonymous": 401, "owner": OK, "other_organizer": OK}


def _tier_of(w: World) -> dict[str, Any]:
    return {"event_id": w.event.id, "tier_id": w.tier.id}


def _draft_of(w: World, persona: str) -> dict[str, Any]:
    return {"event_id": (w.team_draft if persona == "team_manage" else w.draft).id}


ORGANIZER_API = (
    ("GET", "api.organizer_events", lambda w, p: {}, None, API_ANY),
    ("GET", "api.organizer_event", lambda w, p: _event(w), None, API_MANAGE),
    ("GET", "api.organizer_tiers", lambda w, p: _event(w), None, API_MANAGE),
    ("GET", "api.organizer_attendees", lambda w, p: _event(w), None, API_SALES),
    ("GET", "api.organizer_sales", lambda w, p: _event(w), None, API_SALES),
    ("POST", "api.create_organizer_event", lambda w, p: {}, _api_event, API_CREATE),
    ("PATCH", "api.update_organizer_event", lambda w, p: _event(w), lambda: {"city": "Bonn"},
     API_MANAGE),
    ("POST", "api.submit_organizer_event", _draft_of, None, API_MANAGE),
    ("POST", "api.create_organizer_tier", lambda w, p: _event(w), lambda: {"name": "API"},
     API_MANAGE),
    ("PATCH", "api.update_organizer_tier", lambda w, p: _tier_of(w), lambda: {"position": 2},
     API_MANAGE),
)  # fmt: skip


def test_the_organizer_api_has_every_route_by_token() -> None:
    assert {row[1] for row in ORGANIZER_API} == {
        endpoint for endpoint in ROUTES if endpoint.startswith("api.") and "organizer" in endpoint
    }


@pytest.mark.parametrize(
    ("method", "endpoint", "params", "body", "expected"),
    ORGANIZER_API,
    ids=[row[1] for row in ORGANIZER_API],
)
def test_organizer_api_by_token(
    app: Flask,
    db: Session,
    world: World,
    now,  # noqa: ANN001
    method: str,
    endpoint: str,
    params: Callable[[World, str], dict[str, Any]],
    body: Callable[[], dict[str, Any]] | None,
    expected: dict[str, object],
) -> None:
    from flask import url_for

    client = app.test_client()

    def token(user: User, scopes: list[str]) -> dict[str, str]:
        user.authenticated_at = now
        raw = personal.create_token(db, user, name="m", scopes=scopes, lifetime=None, now=now)[1]
        db.commit()
        headers = {"Authorization": f"Bearer {raw}"}
        client.get("/api/v1/me", headers=headers)  # its first use is written now, not below
        return headers

    scopes = ["organizer:read", "organizer:write"]
    callers: list[tuple[str, dict[str, str], object]] = [
        ("anonymous", {}, expected["anonymous"]),
        ("owner without scope", token(world.users["organizer"], ["events:read"]), 403),
    ]
    for persona in PERSONAS[1:]:
        user = world.users["organizer" if persona == "owner" else persona]
        callers.append((persona, token(user, scopes), expected[persona]))
    callers.sort(key=lambda caller: caller[2] == OK)  # refusals first
    wrong = []
    for who, headers, want in callers:
        with app.test_request_context():
            url = url_for(endpoint, **params(world, who))
        before = fingerprint(db) if want != OK else None
        response = client.open(url, method=method, json=body() if body else None, headers=headers)
        got = response.status_code if want != OK else OK
        if want == OK and response.status_code not in (200, 201):
            got = response.status_code
        if got != want:
            detail = response.get_data(as_text=True)[:200]
            wrong.append(
                f"{method} {url} as {who}: {response.status_code}, expected {want}: {detail}"
            )
        elif before is not None and fingerprint(db) != before:
            wrong.append(f"{method} {url} as {who}: refused but changed the database")
    assert not wrong, "\n".join(wrong)
