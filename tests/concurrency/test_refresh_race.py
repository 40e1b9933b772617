"""Two parallel exchanges of one refresh token, each on its own connection.

The invariant: exactly one exchange succeeds; the other meets the spent token, so the family
is revoked (as for any reuse), and the token the winner got no longer works. Without the row
lock on the presented token (the control) both read it unspent and both get a new token: the
chain forks, and the reuse goes unseen.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import Select, select

from app.domain.api_tokens import refresh
from app.domain.api_tokens.errors import RefreshReused, revoked_token
from app.domain.api_tokens.models import RefreshFamily

TTL = timedelta(days=1)


def _family(db, make_user, now) -> str:  # noqa: ANN001
    _family_row, raw = refresh.start_family(db, make_user(), now=now, ttl=TTL)
    db.commit()
    return raw


def test_one_of_two_parallel_exchanges_wins_and_the_family_dies(db, make_user, now, parallel):  # noqa: ANN001
    raw = _family(db, make_user, now)

    def exchange(_index, session):  # noqa: ANN001, ANN202
        return refresh.rotate(session, raw, now=now, ttl=TTL)

    results = parallel.run(2, exchange)
    wins = [r for r in results if isinstance(r, tuple)]
    reused = [r for r in results if isinstance(r, RefreshReused)]
    assert len(wins) == 1 and len(reused) == 1, results
    # What the endpoint does with the loser: revoke the family on a transaction that commits.
    refresh.revoke_reused(db, reused[0], now=now)
    db.commit()
    assert db.scalar(select(RefreshFamily.revoked_reason)) == "reused"
    _family_row, new_raw = wins[0]
    with pytest.raises(type(revoked_token())) as refused:
        refresh.rotate(db, new_raw, now=now, ttl=TTL)
    assert refused.value.code == "revoked_token"


def test_control_without_the_lock_both_exchanges_win(db, make_user, now, parallel, monkeypatch):  # noqa: ANN001
    raw = _family(db, make_user, now)
    monkeypatch.setattr(Select, "with_for_update", lambda self, **_kw: self)
    both_read = threading.Barrier(2)
    issue = refresh._issue

    def issue_once_both_read(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        both_read.wait(timeout=10)  # each exchange has read the token unspent by now
        return issue(*args, **kwargs)

    monkeypatch.setattr(refresh, "_issue", issue_once_both_read)

    def exchange(_index, session):  # noqa: ANN001, ANN202
        return refresh.rotate(session, raw, now=now, ttl=TTL)

    results = parallel.run(2, exchange)
    assert all(isinstance(r, tuple) for r in results), results
