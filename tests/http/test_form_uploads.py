"""A file sent where a form expects text is as if the field were missing: a clear refusal,
never a 500 (FlaskForm used to hand the FileStorage to the text field's validators)."""

from __future__ import annotations

import io

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.ticketing.models import TicketTier


def test_a_file_in_a_text_field_is_refused_clearly(
    db: Session, client: FlaskClient, make_event, login_as
) -> None:  # noqa: ANN001
    event = make_event()
    login_as(client, event.organizer)
    db.commit()
    answer = client.post(
        f"/organizer/events/{event.id}/tiers/new",
        data={"name": (io.BytesIO(b"x" * 500), "name.txt"), "price": "10", "capacity": "5"},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 422
    assert "This field is required." in answer.text or "Enter" in answer.text
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(TicketTier)) == 0


def test_a_file_field_still_gets_its_file(
    db: Session, client: FlaskClient, make_event, login_as
) -> None:  # noqa: ANN001
    event = make_event()
    login_as(client, event.organizer)
    db.commit()
    answer = client.post(
        f"/organizer/events/{event.id}/edit",
        data={"cover": (io.BytesIO(b"not an image"), "cover.png")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 422 and "image" in answer.text.lower()
