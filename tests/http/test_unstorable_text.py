"""A NUL character, which PostgreSQL cannot store, sent in a field no rule checks is a clear 400
that changes nothing (it used to fail the statement: a 500)."""

from __future__ import annotations

from sqlalchemy import func, select

from app.domain.accounts.models import User
from app.web.errors import UNSTORABLE_TEXT


def test_pages_refuse_a_nul_in_the_query_or_the_form(client, db) -> None:  # noqa: ANN001
    for url in ("/events?q=a%00b", "/events?city=%00"):
        answer = client.get(url)
        assert answer.status_code == 400, url
        assert UNSTORABLE_TEXT in answer.get_data(as_text=True)
    users = db.scalar(select(func.count()).select_from(User))
    login = client.post("/login", data={"email": "a\x00@example.test", "password": "x"})
    assert login.status_code == 400 and UNSTORABLE_TEXT in login.get_data(as_text=True)
    signup = client.post(
        "/register",
        data={"name": "N\x00", "email": "n@example.test", "password": "a long passphrase 42"},
    )
    assert signup.status_code in (400, 422)
    assert db.scalar(select(func.count()).select_from(User)) == users


def test_ordinary_text_passes(client) -> None:  # noqa: ANN001
    assert client.get("/events?q=Jazz%20%C3%A9t%C3%A9").status_code == 200
