"""Bookings through the API over HTTP on real PostgreSQL: holds (general admission and seats)
through the booking form's domain functions, reads, the list's cursor pages, cancel, checkout
with the demo provider, tickets with their signed QR text, refusals as problem details that
change nothing, scopes, and `Idempotency-Key` (replay, mismatch, a parallel retry)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.accounts.models import User
from app.domain.api_tokens import personal
from app.domain.api_tokens.idempotency import IdempotencyKey
from app.domain.payments.models import Payment
from app.domain.ticketing.models import Booking, BookingStatus, TicketTier, Unit
from app.domain.tickets.signing import public_key, verify

PROBLEM = "application/problem+json"
PARALLEL = 6


def _problem(response, status: int, code: str) -> dict:  # noqa: ANN001
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status and body["code"] == code and body["detail"]
    return body


@pytest.fixture
def token_for(db: Session, now) -> Callable[..., dict[str, str]]:  # noqa: ANN001
    """`token_for(user, scopes=[...])` -> the Authorization header of a new personal token."""

    def create(user: User, scopes: tuple[str, ...] = ("bookings:write",)) -> dict[str, str]:
        user.authenticated_at = now
        _token, raw = personal.create_token(
            db, user, name="app", scopes=scopes, lifetime=None, now=now
        )
        db.commit()
        return {"Authorization": f"Bearer {raw}"}

    return create


def _count(db: Session, model: type) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


def _free_units(db: Session, tier: TicketTier) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).where(Unit.tier_id == tier.id, Unit.booking_id.is_(None)))


def test_general_admission_hold_read_list_and_cancel(client, db, make_user, make_tier, token_for):  # noqa: ANN001
    buyer = make_user()
    tier = make_tier(capacity=5, price_minor=1500)
    auth = token_for(buyer)

    response = client.post(
        "/api/v1/bookings",
        json={"event_id": tier.event_id, "tier_id": tier.id, "quantity": 2},
        headers=auth,
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    reference = body["reference"]
    assert response.headers["Location"] == f"/api/v1/bookings/{reference}"
    assert body["status"] == "pending" and body["quantity"] == 2
    assert body["total_minor"] == 3000 and body["hold_expires_at"]
    assert body["lines"] == [
        {
            "tier_id": tier.id,
            "tier_name": tier.name,
            "quantity": 2,
            "unit_price_minor": 1500,
            "seat_ids": [],
        }
    ]
    assert _free_units(db, tier) == 3

    assert client.get(f"/api/v1/bookings/{reference}", headers=auth).get_json() == body
    assert client.get(f"/api/v1/bookings/{reference.lower()}", headers=auth).status_code == 200
    listed = client.get("/api/v1/bookings", headers=auth).get_json()
    assert [item["reference"] for item in listed["items"]] == [reference]
    assert listed["next_cursor"] is None

    cancelled = client.post(f"/api/v1/bookings/{reference}/cancel", headers=auth)
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert _free_units(db, tier) == 5
    _problem(
        client.post(f"/api/v1/bookings/{reference}/cancel", headers=auth), 409, "booking_closed"
    )


def test_seated_hold_of_chosen_seats(client, db, make_user, make_seated_booking, token_for):  # noqa: ANN001
    held = make_seated_booking(quantity=2, price_minor=2000)
    seats = db.scalars(
        select(Unit.id).where(Unit.event_id == held.event_id, Unit.row_label == "A").limit(2)
    ).all()
    buyer = make_user()
    auth = token_for(buyer)
    body = {"event_id": held.event_id, "seat_ids": list(seats)}
    response = client.post("/api/v1/bookings", json=body, headers=auth)
    assert response.status_code == 201, response.get_data(as_text=True)
    answer = response.get_json()
    assert answer["quantity"] == 2 and answer["total_minor"] == 4000
    assert sorted(answer["lines"][0]["seat_ids"]) == sorted(seats)
    # The first buyer's seats are taken: refused as the seat form refuses, nothing held.
    before = _count(db, Booking)
    taken = db.scalars(select(Unit.id).where(Unit.booking_id == held.id)).all()
    taken_body = {"event_id": held.event_id, "seat_ids": list(taken)}
    _problem(client.post("/api/v1/bookings", json=taken_body, headers=auth), 409, "seats_taken")
    assert _count(db, Booking) == before


def test_the_list_comes_in_cursor_pages(client, db, make_user, make_tier, token_for):  # noqa: ANN001
    buyer = make_user()
    auth = token_for(buyer)
    references = []
    for _ in range(3):
        tier = make_tier(capacity=2)  # free: confirmed at once
        db.commit()
        made = client.post(
            "/api/v1/bookings",
            json={"event_id": tier.event_id, "tier_id": tier.id, "quantity": 1},
            headers=auth,
        )
        assert made.status_code == 201 and made.get_json()["status"] == "confirmed"
        references.append(made.get_json()["reference"])
    first = client.get("/api/v1/bookings?limit=2", headers=auth).get_json()
    second = client.get(f"/api/v1/bookings?limit=2&cursor={first['next_cursor']}", headers=auth)
    pages = [first["items"], second.get_json()["items"]]
    assert [[b["reference"] for b in page] for page in pages] == [
        references[::-1][:2],
        references[:1],
    ]
    assert second.get_json()["next_cursor"] is None
    _problem(client.get("/api/v1/bookings?cursor=x1", headers=auth), 400, "bad_query")
    # Past any id of ours: a bad request, not a failed statement.
    _problem(client.get(f"/api/v1/bookings?cursor={2**31}", headers=auth), 400, "bad_query")
    _problem(client.get(f"/api/v1/bookings?cursor={10**19}", headers=auth), 400, "bad_query")


def test_someone_elses_booking_is_not_found_and_stays(client, db, make_user, make_tier, token_for):  # noqa: ANN001
    owner, stranger = make_user(), make_user()
    tier = make_tier(capacity=3, price_minor=500)
    mine = token_for(owner)
    reference = client.post(
        "/api/v1/bookings",
        json={"event_id": tier.event_id, "tier_id": tier.id, "quantity": 1},
        headers=mine,
    ).get_json()["reference"]
    theirs = token_for(stranger)
    for method, path, body in [
        ("get", f"/api/v1/bookings/{reference}", None),
        ("get", f"/api/v1/bookings/{reference}/tickets", None),
        ("post", f"/api/v1/bookings/{reference}/cancel", None),
        ("post", f"/api/v1/bookings/{reference}/checkout", {"provider": "demo"}),
        ("get", "/api/v1/bookings/NOPE", None),
        ("get", f"/api/v1/bookings/{'X' * 40}", None),
    ]:
        _problem(getattr(client, method)(path, json=body, headers=theirs), 404, "not_found")
    assert client.get("/api/v1/bookings", headers=theirs).get_json()["items"] == []
    db.expire_all()
    assert db.scalar(select(Booking.status)) == BookingStatus.PENDING
    assert _count(db, Payment) == 0


BAD_BODIES = [
    ({"event_id": "1", "tier_id": 1, "quantity": 1}, "wrong type"),
    ({"event_id": 1, "tier_id": 1, "quantity": 1.5}, "fraction"),
    ({"event_id": 1, "tier_id": 1, "quantity": True}, "boolean"),
    ({"event_id": 1, "tier_id": 1}, "missing quantity"),
    ({"tier_id": 1, "quantity": 1}, "missing event"),
    ({"event_id": 1, "tier_id": 1, "quantity": 0}, "zero"),
    ({"event_id": 1, "tier_id": 1, "quantity": 10**9}, "huge"),
    ({"event_id": 1, "tier_id": 1, "quantity": 1, "seat_ids": [1]}, "both kinds"),
    ({"event_id": 1, "seat_ids": []}, "no seats"),
    ({"event_id": 1, "tier_id": 1, "quantity": 1, "price": 0}, "unknown field"),
]


@pytest.mark.parametrize(("body", "why"), BAD_BODIES, ids=[why for _, why in BAD_BODIES])
def test_bad_inputs_are_refused_and_change_nothing(
    client, db, make_user, make_tier, token_for, body, why
):  # noqa: ANN001, ARG001
    tier = make_tier(capacity=3, price_minor=500)
    auth = token_for(make_user())
    sent = {k: (tier.event_id if k == "event_id" and v == 1 else v) for k, v in body.items()}
    sent = {k: (tier.id if k == "tier_id" and v == 1 else v) for k, v in sent.items()}
    _problem(client.post("/api/v1/bookings", json=sent, headers=auth), 422, "invalid_request")
    assert _count(db, Booking) == 0 and _free_units(db, tier) == 3


def test_not_json_and_domain_refusals_have_stable_codes(
    client, db, make_user, make_tier, token_for
):  # noqa: ANN001
    tier = make_tier(capacity=2, price_minor=500, max_per_order=2)
    other = make_tier(capacity=2)
    auth = token_for(make_user())

    def post(**body: Any):  # noqa: ANN202
        return client.post("/api/v1/bookings", json=body, headers=auth)

    _problem(client.post("/api/v1/bookings", data="x", headers=auth), 422, "invalid_request")
    _problem(post(event_id=tier.event_id, tier_id=10**6, quantity=1), 422, "invalid_tier")
    _problem(post(event_id=tier.event_id, tier_id=other.id, quantity=1), 422, "invalid_tier")
    _problem(post(event_id=tier.event_id, tier_id=tier.id, quantity=3), 422, "invalid_quantity")
    _problem(post(event_id=tier.event_id, seat_ids=[1]), 404, "not_found")
    assert _count(db, Booking) == 0
    assert post(event_id=tier.event_id, tier_id=tier.id, quantity=2).status_code == 201
    _problem(post(event_id=tier.event_id, tier_id=tier.id, quantity=1), 409, "sold_out")
    assert _count(db, Booking) == 1


def test_scopes_and_verified_email(client, db, make_user, make_tier, token_for):  # noqa: ANN001
    tier = make_tier(capacity=2)
    body = {"event_id": tier.event_id, "tier_id": tier.id, "quantity": 1}
    _problem(client.post("/api/v1/bookings", json=body), 401, "missing_token")
    reader = token_for(make_user(), scopes=("events:read",))
    _problem(client.post("/api/v1/bookings", json=body, headers=reader), 403, "insufficient_scope")
    _problem(client.get("/api/v1/bookings", headers=reader), 403, "insufficient_scope")
    unverified = token_for(make_user(verified=False))
    _problem(
        client.post("/api/v1/bookings", json=body, headers=unverified), 403, "email_not_verified"
    )
    assert _count(db, Booking) == 0


def test_checkout_with_the_demo_provider_and_tickets(
    client, db, make_user, make_tier, token_for, pay_booking
):  # noqa: ANN001
    tier = make_tier(capacity=2, price_minor=900)
    auth = token_for(make_user())
    reference = client.post(
        "/api/v1/bookings",
        json={"event_id": tier.event_id, "tier_id": tier.id, "quantity": 2},
        headers=auth,
    ).get_json()["reference"]
    assert client.get(f"/api/v1/bookings/{reference}/tickets", headers=auth).get_json() == {
        "reference": reference,
        "tickets": [],
    }
    _problem(
        client.post(
            f"/api/v1/bookings/{reference}/checkout", json={"provider": "nope"}, headers=auth
        ),
        422,
        "provider_not_accepted",
    )
    response = client.post(
        f"/api/v1/bookings/{reference}/checkout", json={"provider": "demo"}, headers=auth
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    answer = response.get_json()
    assert answer["provider"] == "demo" and answer["checkout_url"]
    assert answer["booking_url"].endswith(f"/account/bookings/{reference}")

    booking = db.scalar(select(Booking).where(Booking.reference == reference))
    pay_booking(booking)
    db.commit()
    tickets = client.get(f"/api/v1/bookings/{reference}/tickets", headers=auth).get_json()
    assert [t["number"] for t in tickets["tickets"]] == [1, 2]
    key = public_key(db, booking.event_id, now=booking.created_at + timedelta(seconds=1))
    for ticket in tickets["tickets"]:
        assert verify(ticket["qr_payload"], booking.event_id, key).ticket_id == ticket["id"]


def test_an_idempotent_create_is_replayed_and_a_changed_body_refused(
    client, db, make_user, make_tier, token_for
):  # noqa: ANN001
    tier = make_tier(capacity=5, price_minor=500)
    auth = token_for(make_user())
    body = {"event_id": tier.event_id, "tier_id": tier.id, "quantity": 2}
    keyed = {**auth, "Idempotency-Key": "order-1"}
    first = client.post("/api/v1/bookings", json=body, headers=keyed)
    again = client.post("/api/v1/bookings", json=dict(reversed(body.items())), headers=keyed)
    assert first.status_code == again.status_code == 201
    assert again.get_data() == first.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _count(db, Booking) == 1 and _free_units(db, tier) == 3

    changed = {**body, "quantity": 1}
    _problem(
        client.post("/api/v1/bookings", json=changed, headers=keyed), 422, "idempotency_key_reused"
    )
    reference = first.get_json()["reference"]
    _problem(
        client.post(f"/api/v1/bookings/{reference}/cancel", headers=keyed),
        422,
        "idempotency_key_reused",
    )
    _problem(
        client.post("/api/v1/bookings", json=body, headers={**auth, "Idempotency-Key": "x" * 256}),
        400,
        "bad_idempotency_key",
    )
    assert _count(db, Booking) == 1

    # Keys are per user: another buyer's same key is theirs.
    other = {**token_for(make_user()), "Idempotency-Key": "order-1"}
    assert client.post("/api/v1/bookings", json=body, headers=other).status_code == 201
    assert _count(db, Booking) == 2

    # A refused create keeps no key: the retry runs again.
    sold = {"event_id": tier.event_id, "tier_id": tier.id, "quantity": 4}
    retry = {**auth, "Idempotency-Key": "order-2"}
    _problem(client.post("/api/v1/bookings", json=sold, headers=retry), 409, "sold_out")
    assert _count(db, IdempotencyKey) == 2

    cancel = {**auth, "Idempotency-Key": "cancel-1"}
    done = client.post(f"/api/v1/bookings/{reference}/cancel", headers=cancel)
    replay = client.post(f"/api/v1/bookings/{reference}/cancel", headers=cancel)
    assert done.status_code == replay.status_code == 200
    assert replay.get_data() == done.get_data() and replay.headers["Idempotent-Replayed"] == "true"


def _race(app: Flask, auth: dict[str, str], body: dict, key: str | None) -> list[Any]:
    """PARALLEL clients post `body` at once, each request on its own connection."""
    start = threading.Barrier(PARALLEL)
    headers = {**auth, **({"Idempotency-Key": key} if key else {})}

    def one(_: int) -> Any:
        client = app.test_client()
        start.wait(timeout=30)
        response = client.post("/api/v1/bookings", json=body, headers=headers)
        return (
            response.status_code,
            response.get_data(),
            response.headers.get("Idempotent-Replayed"),
        )

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        return list(pool.map(one, range(PARALLEL)))


def test_an_idempotent_create_retried_in_parallel_makes_one_booking(
    app, db, make_user, make_tier, token_for
):  # noqa: ANN001
    tier = make_tier(capacity=PARALLEL * 2, price_minor=500)
    auth = token_for(make_user())
    body = {"event_id": tier.event_id, "tier_id": tier.id, "quantity": 1}

    answers = _race(app, auth, body, key="same-order")
    assert {status for status, _, _ in answers} == {201}, answers
    assert len({data for _, data, _ in answers}) == 1
    assert sum(replayed == "true" for _, _, replayed in answers) == PARALLEL - 1
    assert _count(db, Booking) == 1 and _free_units(db, tier) == PARALLEL * 2 - 1


def test_control_the_same_parallel_posts_without_a_key_make_many(
    app, db, make_user, make_tier, token_for
):  # noqa: ANN001
    tier = make_tier(capacity=PARALLEL * 2, price_minor=500)
    auth = token_for(make_user())
    body = {"event_id": tier.event_id, "tier_id": tier.id, "quantity": 1}

    answers = _race(app, auth, body, key=None)
    assert [status for status, _, _ in answers] == [201] * PARALLEL, answers
    assert _count(db, Booking) == PARALLEL


def test_an_idempotent_checkout_is_replayed_and_a_failed_one_keeps_no_key(
    client, db, make_user, make_tier, token_for, monkeypatch
):  # noqa: ANN001
    from app.integrations.payments.base import ProviderError
    from app.integrations.payments.demo import DemoProvider

    tier = make_tier(capacity=2, price_minor=900)
    auth = token_for(make_user())
    reference = client.post(
        "/api/v1/bookings",
        json={"event_id": tier.event_id, "tier_id": tier.id, "quantity": 1},
        headers=auth,
    ).get_json()["reference"]
    url = f"/api/v1/bookings/{reference}/checkout"

    def down(self, request):  # noqa: ANN001, ANN202, ARG001
        raise ProviderError("the provider is down")

    failing = {**auth, "Idempotency-Key": "pay-1"}
    with monkeypatch.context() as patch:
        patch.setattr(DemoProvider, "create_checkout", down)
        _problem(
            client.post(url, json={"provider": "demo"}, headers=failing),
            503,
            "provider_unavailable",
        )
    assert _count(db, IdempotencyKey) == 0  # committed with the payment midway, then dropped
    first = client.post(url, json={"provider": "demo"}, headers=failing)
    again = client.post(url, json={"provider": "demo"}, headers=failing)
    assert first.status_code == again.status_code == 201, first.get_data(as_text=True)
    assert again.get_data() == first.get_data() and again.headers["Idempotent-Replayed"] == "true"
    db.expire_all()
    assert db.scalar(select(func.count()).where(Payment.checkout_url.is_not(None))) == 1


def test_a_key_is_kept_a_day_then_pruned_and_a_later_retry_creates_again(
    client, db, make_user, make_tier, token_for
):  # noqa: ANN001
    from app.domain.api_tokens.idempotency import KEPT_FOR, prune_keys

    tier = make_tier(capacity=5, price_minor=500)
    keyed = {**token_for(make_user()), "Idempotency-Key": "order-1"}
    body = {"event_id": tier.event_id, "tier_id": tier.id, "quantity": 1}
    assert client.post("/api/v1/bookings", json=body, headers=keyed).status_code == 201
    made = db.scalar(select(IdempotencyKey.created_at))

    assert prune_keys(db, made + KEPT_FOR - timedelta(seconds=1)) == 0
    db.commit()
    replay = client.post("/api/v1/bookings", json=body, headers=keyed)
    assert replay.headers["Idempotent-Replayed"] == "true" and _count(db, Booking) == 1

    assert prune_keys(db, made + KEPT_FOR + timedelta(seconds=1)) == 1
    db.commit()
    assert _count(db, IdempotencyKey) == 0
    later = client.post("/api/v1/bookings", json=body, headers=keyed)
    assert later.status_code == 201 and "Idempotent-Replayed" not in later.headers
    assert _count(db, Booking) == 2
